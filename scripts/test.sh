#!/usr/bin/env bash
# Sets up a fresh machine and runs every test: lint, the dependency policy (cargo-deny), native unit
# tests, the deployable bundle (wrangler dry-run, size gate), the migrations (sql/ vs
# supabase/migrations, then the Supabase CLI on a throwaway PostgreSQL), pgTAP, the built .wasm
# and the bundle inside workerd, the supabase-js end-to-end suite, the local-stack smoke run and the
# workflow linter in both personas. Ends with one summary line.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
# shellcheck source=scripts/env.sh
. scripts/env.sh
LOGS=$(mktemp -d)
trap 'rm -rf "$LOGS"' EXIT

bash scripts/setup.sh || { echo "setup failed"; exit 1; }
. scripts/env.sh   # again: on a fresh machine setup.sh has only now made .tools/node

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

# Every JS step below runs on this Node (scripts/env.sh): wrangler and supabase-js need >= 22.12.
node_is_new_enough() {
  local v; v=$(node --version | tr -d v)
  echo "node $v ($(command -v node))"
  [ "$(printf '%s\n' 22.12.0 "$v" | sort -V | head -1)" = 22.12.0 ]
}
run node node_is_new_enough
run fmt cargo fmt --check
run clippy-native cargo clippy --workspace --all-targets --locked -- -D warnings
# tenantctl is a native CLI (a Postgres client, a terminal): never built for wasm32.
run clippy-wasm cargo clippy --workspace --exclude tenantctl --all-targets --locked --target wasm32-unknown-unknown -- -D warnings
run deny cargo deny --offline check bans licenses sources
run unit cargo test --workspace --locked
# The build CI deploys: `wrangler deploy --dry-run` on wrangler.toml (its [build] is
# scripts/build-worker.sh), size-gated; tests/worker runs both build/ and this bundle (build/dist).
run bundle bash scripts/bundle.sh
# The admin service (admin/): its own dry-run bundle and gate; tests/admin runs it in workerd.
run admin-bundle bash scripts/bundle-admin.sh
run migrations-sync bash scripts/migrations.sh check
run sql bash scripts/test-sql.sh
run migrations-cli bash scripts/test-migrations.sh
# tests/worker/executor.test.mjs runs the machinery test build (the bundle step built build/ only).
run machinery-build bash scripts/build-worker.sh --release --out-dir build-machinery --features machinery
run worker npm run --silent test:worker
run load-smoke env LOAD_SECONDS=5 node bench/load/run.mjs
run admin-worker npm run --silent test:admin
run e2e npm run --silent test:e2e
run browser npm run --silent test:browser
run dev-smoke env DEV_SMOKE=1 bash scripts/dev.sh
run dev-interrupt bash scripts/test-dev-interrupt.sh
run workflow-lint "$ROOT/.tools/venv/bin/zizmor" --offline .github/workflows
run workflow-audit "$ROOT/.tools/venv/bin/zizmor" --offline --persona auditor .github/workflows

printf '\n'
if [ ${#STEPS_FAILED[@]} -gt 0 ]; then echo "failed steps: ${STEPS_FAILED[*]}"; fi
echo "total: $PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ] && [ ${#STEPS_FAILED[@]} -eq 0 ]
