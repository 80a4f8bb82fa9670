#!/usr/bin/env bash
# The migrations as the Supabase CLI applies them (npm `supabase`, pinned in scripts/setup.sh), from a
# clone made without symlink support (`git -c core.symlinks=false clone`, Windows' default), on a
# throwaway PostgreSQL 15 with the Supabase stand-in (scripts/pg-cluster.sh): `supabase db push
# --db-url` through both rollout phases of scripts/migrations.sh, the seed, and the expand/contract
# staging on probe migrations added to the clone. It clones HEAD: commit before trusting it.
#
# Final line: `supabase: N passed, N failed`.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
# shellcheck source=scripts/env.sh
. scripts/env.sh

pass=0; fail=0
ok() { pass=$((pass + 1)); echo "ok   $*"; }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }
tmp=$(mktemp -d /tmp/tenant-router-migrations.XXXXXX)
pg=$(mktemp -d /tmp/tenant-router-migrations-pg.XXXXXX)   # handed to the postgres user as root
cleanup() { bash scripts/pg-cluster.sh stop "$pg" >/dev/null 2>&1 || true; rm -rf "$tmp" "$pg"; }
trap cleanup EXIT INT TERM
finish() { echo "supabase: $pass passed, $fail failed"; [ "$fail" -eq 0 ]; exit $?; }

if ! git diff --quiet HEAD -- sql supabase scripts/migrations.sh 2>/dev/null; then
  echo "note: sql/, supabase/ or scripts/migrations.sh have uncommitted changes; this tests HEAD"
fi
clone=$tmp/clone
git -c core.symlinks=false clone --quiet --no-local "$ROOT" "$clone" || { bad "clone"; finish; }

plain=1
for f in "$clone"/supabase/migrations/*.sql; do
  if [ -L "$f" ] || ! grep -q ';' "$f"; then plain=0; bad "$(basename "$f") in a symlink-less clone is not SQL: $(head -c 80 "$f")"; fi
done
[ "$plain" = 1 ] && ok "every supabase/migrations file of a symlink-less clone is SQL"
(cd "$clone" && bash scripts/migrations.sh check >/dev/null) && ok "the clone's supabase/migrations/ is what sql/ makes" || bad "migrations.sh check in the clone"

bash scripts/pg-cluster.sh start "$pg" >/dev/null || { bad "throwaway PostgreSQL did not start"; finish; }
# shellcheck disable=SC1091
. "$pg/env"
url="$DATABASE_URL?sslmode=disable"
q() { psql -X -q -t -A -v ON_ERROR_STOP=1 -c "$1" 2>&1; }
# What the Supabase image provides and the migrations expect (roles, auth schema).
psql -X -q -v ON_ERROR_STOP=1 -f tests/support/supabase_standin.sql >/dev/null 2>&1 || { bad "stand-in did not load"; finish; }

# On an empty database every migration is pending: expand applies all but the contract ones
# (the rule in scripts/migrations.sh), contract the rest.
want=$(ls "$clone"/supabase/migrations/*.sql | wc -l)
contract=$(for f in "$clone"/supabase/migrations/*.sql; do head -n 5 "$f" | grep -qx -- '-- rollout: contract' && echo "$f"; done | wc -l)
count() { q "select count(*) from supabase_migrations.schema_migrations"; }
out=$( (cd "$clone" && bash scripts/migrations.sh push expand --db-url "$url") 2>&1)
if [ "$(count)" = $((want - contract)) ]; then ok "push expand from the clone applied the $((want - contract)) expand migrations of $want"; else bad "push expand: $(count) of $((want - contract)) applied: $out"; fi
[ "$(q "select to_regclass('public.contacts') is not null")" = t ] && ok "the schema is there (public.contacts)" || bad "public.contacts missing"
out=$( (cd "$clone" && bash scripts/migrations.sh push contract --db-url "$url") 2>&1)
if [ "$(count)" = "$want" ]; then ok "push contract applied the $contract contract migrations: all $want in"; else bad "push contract: $(count) of $want applied: $out"; fi
out=$( (cd "$clone" && bash scripts/migrations.sh push contract --db-url "$url") 2>&1) \
  && ok "push contract with nothing pending succeeds" || bad "push contract (nothing pending): $out"
out=$( (cd "$clone" && supabase db push --db-url "$url" --include-seed --yes) 2>&1)
[ "$(q "select count(*) >= 2 from public.tenants")" = t ] && ok "seed from sql/seed.sql through config.toml" || bad "seed: $out"

# Expand/contract staging, on probe migrations the clone gets on top of the real ones.
cat >"$clone/sql/900_probe_expand.sql" <<'SQL'
-- 900 probe (test only): an expand migration adds a column.
alter table public.tenants add column probe_new text;
SQL
cat >"$clone/sql/901_probe_contract.sql" <<'SQL'
-- 901 probe (test only): drops what only the previous router used.
-- rollout: contract
alter table public.tenants drop column probe_new;
SQL
cat >"$clone/sql/902_probe_expand_late.sql" <<'SQL'
-- 902 probe (test only): an expand migration after a pending contract one.
select 1;
SQL
(cd "$clone" && bash scripts/migrations.sh sync >/dev/null)
out=$( (cd "$clone" && bash scripts/migrations.sh push expand --db-url "$url") 2>&1) \
  && bad "an expand migration after a pending contract one was accepted: $out" \
  || { grep -q "two deploys" <<<"$out" && ok "an expand migration after a pending contract one is refused" || bad "refused for the wrong reason: $out"; }
rm "$clone/sql/902_probe_expand_late.sql"
(cd "$clone" && bash scripts/migrations.sh sync >/dev/null)
out=$( (cd "$clone" && bash scripts/migrations.sh push expand --db-url "$url") 2>&1)
applied() { q "select string_agg(version, ',' order by version) from supabase_migrations.schema_migrations where version like '20250101000900' or version like '20250101000901'"; }
[ "$(applied)" = 20250101000900 ] && ok "push expand applies 900 and holds back contract 901" || bad "after push expand: $(applied): $out"
[ "$(q "select count(*) from information_schema.columns where table_name = 'tenants' and column_name = 'probe_new'")" = 1 ] \
  && ok "the expand column exists while the router deploys" || bad "probe_new missing after expand"
out=$( (cd "$clone" && bash scripts/migrations.sh push contract --db-url "$url") 2>&1)
[ "$(applied)" = 20250101000900,20250101000901 ] && ok "push contract applies 901 after the deploy" || bad "after push contract: $(applied): $out"
finish
