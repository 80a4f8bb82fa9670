#!/usr/bin/env bash
# Runs each cargo-fuzz target (fuzz/, nightly) for RUNS executions and prints, per target, the
# executions and the findings (inputs that broke a property, kept in fuzz/artifacts/<target>/).
# The properties themselves are in src/properties/; `cargo test` runs them briefly via proptest.
#
#   bash scripts/fuzz.sh [RUNS] [TARGET...]     RUNS defaults to 1000000; all targets by default
#
# Corpora grow in fuzz/corpus/ (not committed) from the small seeds in fuzz/seeds/. A finding is
# fixed with a regression test beside the code it broke; the target is then run again.
set -uo pipefail
cd "$(dirname "$0")/../fuzz"
RUNS=${1:-1000000}
shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || mapfile -t TARGETS < <(cargo +nightly fuzz list)
cargo +nightly fuzz build -O || exit 1
TOTAL_FINDINGS=0
for t in "${TARGETS[@]}"; do
  mkdir -p "corpus/$t" "artifacts/$t"
  before=$(ls "artifacts/$t" | wc -l)
  log=$(mktemp)
  start=$(date +%s)
  # -fork/-jobs would need more cores than this machine shares; one process, stop at the first crash.
  cargo +nightly fuzz run -O "$t" "corpus/$t" "seeds/$t" -- \
    -runs="$RUNS" -print_final_stats=1 -max_len=4096 >"$log" 2>&1
  rc=$?
  secs=$(( $(date +%s) - start ))
  execs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' | tail -1)
  findings=$(( $(ls "artifacts/$t" | wc -l) - before ))
  [ "$rc" -ne 0 ] && [ "$findings" -eq 0 ] && findings=1
  TOTAL_FINDINGS=$((TOTAL_FINDINGS + findings))
  printf '%s: %s executions in %ss, %s findings\n' "$t" "${execs:-0}" "$secs" "$findings"
  if [ "$rc" -ne 0 ]; then grep -E 'panicked|SUMMARY|Test unit written' "$log" | head -5; fi
  rm -f "$log"
done
# Where Go's parsing is the question, Go answers: the sign-up and redirect corpora, as the router
# forwards them, read by the oracle in tests/go-oracle/ (examples/go_replay.rs).
if printf '%s\n' "${TARGETS[@]}" | grep -qxE 'signup_body|redirect_targets'; then
  oracle=$(mktemp -d)/gotrue-view
  GO111MODULE=off GOFLAGS= GOCACHE="${GOCACHE:-/tmp/gotrue-view-cache}" go build -o "$oracle" ../tests/go-oracle/gotrue_view.go &&
    (cd .. && cargo build -q --release --features fuzzing --example go_replay) &&
    GO_ORACLE="$oracle" ../target/release/examples/go_replay corpus/signup_body seeds/signup_body corpus/redirect_targets seeds/redirect_targets ||
    TOTAL_FINDINGS=$((TOTAL_FINDINGS + 1))
fi
echo "fuzz: ${#TARGETS[@]} targets, $TOTAL_FINDINGS findings"
[ "$TOTAL_FINDINGS" -eq 0 ]
