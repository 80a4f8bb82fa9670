#!/usr/bin/env bash
# Sets up a fresh machine and runs every test: lint, native unit tests, the Worker build, pgTAP on
# a throwaway PostgreSQL, the built .wasm inside workerd, the supabase-js end-to-end suite, the
# local-stack smoke run and the workflow linter. Ends with one summary line.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
LOGS=$(mktemp -d)
trap 'rm -rf "$LOGS"' EXIT

bash scripts/setup.sh || { echo "setup failed"; exit 1; }

PASSED=0; FAILED=0; STEPS_FAILED=()

# run NAME COMMAND...: runs a step, keeps its output, and counts its tests from what it prints.
run() {
  local name=$1; shift
  printf '\n==== %s\n' "$name"
  local log="$LOGS/$name.log" rc
  "$@" 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  local p f
  p=$( { grep -hoE 'test result: [a-zA-Z]+\. [0-9]+ passed' "$log" | grep -oE '[0-9]+ passed' | grep -oE '[0-9]+';
         grep -hoE '^# pass [0-9]+' "$log" | grep -oE '[0-9]+';
         grep -hoE '^[a-z]+: [0-9]+ passed, [0-9]+ failed' "$log" | grep -oE '[0-9]+ passed' | grep -oE '[0-9]+'; } | awk '{s+=$1} END {print s+0}')
  f=$( { grep -hoE 'test result: [a-zA-Z]+\. [0-9]+ passed; [0-9]+ failed' "$log" | grep -oE '[0-9]+ failed' | grep -oE '[0-9]+';
         grep -hoE '^# fail [0-9]+' "$log" | grep -oE '[0-9]+';
         grep -hoE '^[a-z]+: [0-9]+ passed, [0-9]+ failed' "$log" | grep -oE '[0-9]+ failed' | grep -oE '[0-9]+'; } | awk '{s+=$1} END {print s+0}')
  p=${p:-0}; f=${f:-0}
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi   # a step that fails without counting counts once
  if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then p=1; fi     # a check with no test count (lint, build) counts once
  PASSED=$((PASSED + p)); FAILED=$((FAILED + f))
  [ "$rc" -eq 0 ] || STEPS_FAILED+=("$name")
  printf '==== %s: rc=%s (%s passed, %s failed)\n' "$name" "$rc" "$p" "$f"
}

run fmt cargo fmt --check
run clippy-native cargo clippy --all-targets --locked -- -D warnings
run clippy-wasm cargo clippy --all-targets --locked --target wasm32-unknown-unknown -- -D warnings
run unit cargo test --locked
run build-worker bash scripts/build-worker.sh
run sql bash scripts/test-sql.sh
run worker npm run --silent test:worker
run load-smoke env LOAD_SECONDS=5 node bench/load/run.mjs
run e2e npm run --silent test:e2e
run dev-smoke env DEV_SMOKE=1 bash scripts/dev.sh
run workflow-lint "$ROOT/.tools/venv/bin/zizmor" --offline .github/workflows

printf '\n'
if [ ${#STEPS_FAILED[@]} -gt 0 ]; then echo "failed steps: ${STEPS_FAILED[*]}"; fi
echo "total: $PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ] && [ ${#STEPS_FAILED[@]} -eq 0 ]
