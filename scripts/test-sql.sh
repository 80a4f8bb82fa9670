#!/usr/bin/env bash
# SQL test entry point, two runs on throwaway PostgreSQL 15 clusters, both always stopped:
#   fresh    the Supabase stand-in and every migration (no seed: each test file makes its own data),
#            then every supabase/tests/*.sql through pg_prove;
#   upgrade  the migrations of the last release (through LAST_RELEASE) with sql/seed.sql and
#            tests/upgrade/legacy_rows.sql (rows the newer rules forbid, written as clients could),
#            then the newer migrations and tests/upgrade/upgraded.sql (the upgrade applies over real
#            data, keeps it and reports what it must); then the documented repairs
#            (tests/upgrade/repair.sql), tests/upgrade/repaired.sql and every supabase/tests/*.sql
#            again: every guarantee holds on the upgraded database too.
# Each test file runs in its own transaction and rolls it back.
#
# Final line: `sql: N passed, N failed`, where N counts pgTAP assertions (TAP `ok`/`not ok` lines) of
# both runs; assertions a file planned but never ran (it died early) count as failed.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

# The newest migration version deployed databases have run. Bump it when a release ships.
LAST_RELEASE=20250101000010

work=$(mktemp -d /tmp/tenant-router-sql.XXXXXX)
chmod 755 "$work" # the clusters inside run as the postgres user when we are root
cleanup() {
  for c in "$work"/*/; do bash "$ROOT/scripts/pg-cluster.sh" stop "$c" >/dev/null 2>&1 || true; done
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

passed=0; failed=0; ok=1
# prove LABEL DIR FILE...: pg_prove the files against cluster DIR.
prove() {
  local label=$1 dir=$2; shift 2
  # shellcheck disable=SC1091
  . "$dir/env"
  local out="$dir/pg_prove.out" status p f missing
  pg_prove --verbose --ext .sql -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" -d "$PGDATABASE" "$@" >"$out" 2>&1
  status=$?
  # Show failures in full, and pg_prove's summary.
  grep -E '^(not ok|# |psql:.*(ERROR|FATAL))' "$out" | grep -v '^# Subtest' || true
  sed -n '/^Test Summary Report/,$p;/^All tests successful/,$p' "$out"
  p=$(grep -cE '^ok [0-9]+' "$out")
  f=$(grep -cE '^not ok [0-9]+' "$out")
  missing=$(grep -oE 'You planned [0-9]+ tests? but ran [0-9]+' "$out" \
    | awk '{ d = $3 - $7; if (d > 0) s += d } END { print s + 0 }')
  f=$((f + missing))
  if [ "$status" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
  echo "sql ($label): $p passed, $f failed"
  passed=$((passed + p)); failed=$((failed + f))
  [ "$status" -eq 0 ] && [ "$f" -eq 0 ] || ok=0
}
# cluster NAME LOAD-ARGS...: a started cluster in $work/NAME with the given `pg-cluster.sh load`.
cluster() {
  local dir="$work/$1"; shift
  bash scripts/pg-cluster.sh start "$dir" >/dev/null && bash scripts/pg-cluster.sh load "$dir" "$@"
}
broken() { echo "sql: $passed passed, $((failed + 1)) failed ($1)"; exit 1; }

printf '== fresh database\n'
cluster fresh || broken "fresh cluster did not load"
prove fresh "$work/fresh" supabase/tests/*.sql

printf '\n== upgrade from %s with legacy rows\n' "$LAST_RELEASE"
cluster upgrade --seed --through "$LAST_RELEASE" || broken "release cluster did not load"
(. "$work/upgrade/env" && psql -X -q -v ON_ERROR_STOP=1 --no-psqlrc -f tests/upgrade/legacy_rows.sql >/dev/null) \
  || broken "legacy rows could not be written"
bash scripts/pg-cluster.sh migrate "$work/upgrade" --after "$LAST_RELEASE" || broken "the upgrade did not apply"
prove upgrade "$work/upgrade" tests/upgrade/upgraded.sql
(. "$work/upgrade/env" && psql -X -q -v ON_ERROR_STOP=1 --no-psqlrc -f tests/upgrade/repair.sql >/dev/null) \
  || broken "the documented repairs did not apply"
prove repaired "$work/upgrade" tests/upgrade/repaired.sql supabase/tests/*.sql

echo "sql: $passed passed, $failed failed"
[ "$ok" = 1 ]
