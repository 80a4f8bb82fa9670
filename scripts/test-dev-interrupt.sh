#!/usr/bin/env bash
# `make dev` ends cleanly on Ctrl-C: scripts/dev.sh, started in its own process group as a terminal
# would, gets SIGINT on the whole group once it is serving; it must exit 0 (so make reports no
# error), remove its temporary directory and leave no process of its group behind.
#
# Final line: `interrupt: N passed, N failed`.
set -uo pipefail
cd "$(dirname "$0")/.."
pass=0; fail=0
ok() { pass=$((pass + 1)); echo "ok   $*"; }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }
tmp=$(mktemp -d /tmp/tenant-router-interrupt.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/t"
# The stack hands its PostgreSQL directory (under TMPDIR) to the postgres user when run as root.
chmod 755 "$tmp" "$tmp/t"

set -m   # job control: the background job gets its own process group and keeps SIGINT
PORT=0 SUPABASE_PORT=0 TMPDIR="$tmp/t" bash scripts/dev.sh >"$tmp/out" 2>&1 &
pid=$!
set +m
for _ in $(seq 1 600); do
  grep -q 'Ctrl-C stops' "$tmp/out" && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.2
done
if grep -q 'Ctrl-C stops' "$tmp/out"; then ok "dev.sh is serving"; else bad "dev.sh did not start: $(tail -5 "$tmp/out")"; fi
kill -INT -- "-$pid" 2>/dev/null
rc=124
for _ in $(seq 1 300); do
  if ! kill -0 "$pid" 2>/dev/null; then wait "$pid"; rc=$?; break; fi
  sleep 0.1
done
[ "$rc" = 0 ] && ok "Ctrl-C: exit status 0" || bad "Ctrl-C: exit status $rc: $(tail -5 "$tmp/out")"
[ -z "$(ls -A "$tmp/t")" ] && ok "its temporary directory is removed" || bad "left in TMPDIR: $(ls -A "$tmp/t")"
left=$(pgrep -g "$pid" 2>/dev/null | tr '\n' ' ')
if [ -z "$left" ]; then ok "no process of its group is left"; else bad "left running: $left"; kill -KILL -- "-$pid" 2>/dev/null; fi
grep -q 'no process left behind' "$tmp/out" && ok "it says it stopped everything" || bad "no stop message: $(tail -3 "$tmp/out")"
echo "interrupt: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
