#!/usr/bin/env bash
# The database migrations: sql/ is their one source; supabase/migrations/ holds what the Supabase
# CLI applies, as plain files (not symlinks: a clone without symlink support, Windows' default,
# would hold the link text instead of SQL).
#
# The rule, applied by `sync` and verified by `check`:
#   sql/NNN_name.sql  ->  supabase/migrations/20250101000NNN_name.sql, a byte-for-byte copy
# so the migration version is 20250101000NNN and never changes once applied. A migration whose first
# 5 lines hold the line `-- rollout: contract` is a CONTRACT migration (it removes or tightens what
# the running router may still use) and is applied after the router deploy; every other one is an
# EXPAND migration, applied before it (README, Deploy).
#
#   scripts/migrations.sh sync                  rewrite supabase/migrations/ from sql/
#   scripts/migrations.sh check                 fail unless supabase/migrations/ is what sync writes
#   scripts/migrations.sh push expand|contract CONNECTION...
#       one rollout phase through `supabase db push CONNECTION...` (`--linked`, or `--db-url URL`):
#       expand pushes every pending migration except the pending contract ones (and refuses when a
#       pending expand one sorts after a pending contract one: that needs two deploys); contract
#       pushes the rest.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
# shellcheck source=scripts/env.sh
. scripts/env.sh

die() { echo "migrations: $*" >&2; exit 1; }
PREFIX=20250101000
MIGRATIONS=supabase/migrations

# target sql/NNN_name.sql -> supabase/migrations/20250101000NNN_name.sql
target() {
  local base
  base=$(basename "$1")
  [[ $base =~ ^([0-9]{3})_[a-z0-9_]+\.sql$ ]] || die "$1: name must be NNN_name.sql (three digits, lowercase, underscores)"
  echo "$MIGRATIONS/$PREFIX$base"
}
sources() { ls sql/[0-9][0-9][0-9]_*.sql; }
is_contract() { head -n 5 "$1" | grep -qx -- '-- rollout: contract'; }

sync() {
  mkdir -p "$MIGRATIONS"
  local f t
  for f in "$MIGRATIONS"/*.sql; do
    [ -e "$f" ] || [ -L "$f" ] || continue
    rm -f "$f"
  done
  for f in $(sources); do
    t=$(target "$f")
    cp "$f" "$t"
  done
  echo "migrations: $MIGRATIONS/ rewritten from sql/ ($(sources | wc -l) files)"
}

check() {
  local bad=0 f t want=()
  for f in $(sources); do
    t=$(target "$f")
    want+=("$t")
    if [ -L "$t" ]; then echo "not ok $t is a symlink (run: bash scripts/migrations.sh sync)"; bad=$((bad + 1))
    elif ! [ -f "$t" ]; then echo "not ok $t is missing for $f (run: bash scripts/migrations.sh sync)"; bad=$((bad + 1))
    elif ! cmp -s "$f" "$t"; then echo "not ok $t differs from $f (edit sql/, then run: bash scripts/migrations.sh sync)"; bad=$((bad + 1))
    fi
  done
  for t in "$MIGRATIONS"/*; do
    [ -e "$t" ] || [ -L "$t" ] || continue
    [[ " ${want[*]} " == *" $t "* ]] || { echo "not ok $t has no source in sql/"; bad=$((bad + 1)); }
  done
  if git ls-files -s supabase | grep -q '^120000'; then
    echo "not ok git holds symlinks under supabase/: $(git ls-files -s supabase | awk '$1 == 120000 {print $4}' | tr '\n' ' ')"
    bad=$((bad + 1))
  fi
  # Counted by scripts/test.sh: one per sql/ file that has its exact copy, one per problem.
  local good=$((${#want[@]} - bad)); [ "$good" -ge 0 ] || good=0
  echo "migrations: $good passed, $bad failed"
  [ "$bad" -eq 0 ]
}

supabase_cli() { command -v supabase >/dev/null || die "no supabase CLI: run scripts/setup.sh"; supabase "$@"; }

# Versions already applied on the target, one a line.
applied() {
  supabase_cli migration list "$@" --output-format json 2>/dev/null \
    | node -e 'let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
        for (const m of JSON.parse(s).migrations ?? []) if (m.remote) console.log(m.remote);
      })'
}

push() {
  local phase=${1:-}; shift || true
  [ $# -gt 0 ] || die "usage: migrations.sh push expand|contract --linked | --db-url URL"
  check >/dev/null || die "supabase/migrations/ disagrees with sql/: run scripts/migrations.sh check"
  case $phase in
    contract)
      supabase_cli db push "$@" --yes
      return ;;
    expand) ;;
    *) die "usage: migrations.sh push expand|contract CONNECTION..." ;;
  esac
  local done_list f v first_contract="" stage
  done_list=$(applied "$@") || die "could not list the applied migrations"
  stage=$(mktemp -d)
  trap 'rm -rf "$stage"' RETURN
  mkdir -p "$stage/supabase/migrations"
  cp supabase/config.toml "$stage/supabase/"
  # `supabase link` keeps the project ref here; --linked looks for it under the workdir.
  [ -d supabase/.temp ] && cp -r supabase/.temp "$stage/supabase/"
  for f in "$MIGRATIONS"/*.sql; do
    v=$(basename "$f"); v=${v%%_*}
    if grep -qx "$v" <<<"$done_list"; then cp "$f" "$stage/supabase/migrations/"; continue; fi
    if is_contract "$f"; then
      echo "migrations: $(basename "$f") is a contract migration: held back until after the router deploy"
      [ -n "$first_contract" ] || first_contract=$v
    else
      [ -z "$first_contract" ] || die "$(basename "$f") (expand) sorts after pending contract migration $first_contract: ship them in two deploys"
      cp "$f" "$stage/supabase/migrations/"
    fi
  done
  supabase_cli db push --workdir "$stage" "$@" --yes
}

case ${1:-} in
  sync) sync ;;
  check) check ;;
  push) shift; push "$@" ;;
  *) die "usage: migrations.sh sync | check | push expand|contract CONNECTION..." ;;
esac
