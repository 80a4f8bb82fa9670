#!/usr/bin/env bash
# SQL test entry point: a throwaway PostgreSQL 15 with the Supabase stand-in and every migration
# (no seed: each test file makes its own data), then every supabase/tests/*.sql through pg_prove.
# Each test file runs in its own transaction and rolls it back. The cluster is always stopped.
#
# Final line: `sql: N passed, N failed`, where N counts pgTAP assertions (TAP `ok`/`not ok` lines);
# assertions a file planned but never ran (it died early) count as failed.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

tmp=$(mktemp -d /tmp/tenant-router-sql.XXXXXX)
cleanup() {
  bash "$ROOT/scripts/pg-cluster.sh" stop "$tmp" >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

if ! bash scripts/pg-cluster.sh start "$tmp" >/dev/null; then
  echo "sql: 0 passed, 1 failed (cluster did not start)"; exit 1
fi
if ! bash scripts/pg-cluster.sh load "$tmp"; then
  echo "sql: 0 passed, 1 failed (migrations did not load)"; exit 1
fi
# shellcheck disable=SC1091
. "$tmp/env"

out="$tmp/pg_prove.out"
(cd supabase/tests && pg_prove --verbose --ext .sql -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" -d "$PGDATABASE" ./*.sql) >"$out" 2>&1
status=$?
# Show failures in full, and pg_prove's summary.
grep -E '^(not ok|# |psql:.*(ERROR|FATAL))' "$out" | grep -v '^# Subtest' || true
sed -n '/^Test Summary Report/,$p;/^All tests successful/,$p' "$out"

passed=$(grep -cE '^ok [0-9]+' "$out")
failed=$(grep -cE '^not ok [0-9]+' "$out")
missing=$(grep -oE 'You planned [0-9]+ tests? but ran [0-9]+' "$out" \
  | awk '{ d = $3 - $7; if (d > 0) s += d } END { print s + 0 }')
failed=$((failed + missing))
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
echo "sql: $passed passed, $failed failed"
[ "$status" -eq 0 ] && [ "$failed" -eq 0 ]
