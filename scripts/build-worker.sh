#!/usr/bin/env bash
# Builds the Worker (build/entry.mjs + build/index.js + the .wasm) with worker-build, offline: the
# three tools it would otherwise download come from cargo install and npm.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/env.sh
. scripts/env.sh
export WASM_BINDGEN_BIN="${WASM_BINDGEN_BIN:-$(command -v wasm-bindgen)}"
export WASM_OPT_BIN="${WASM_OPT_BIN:-$PWD/node_modules/.bin/wasm-opt}"
export ESBUILD_BIN="${ESBUILD_BIN:-$PWD/node_modules/.bin/esbuild}"
for tool in "$WASM_BINDGEN_BIN" "$WASM_OPT_BIN" "$ESBUILD_BIN"; do
  [ -x "$tool" ] || { echo "build-worker: missing $tool (run scripts/setup.sh)" >&2; exit 1; }
done
# No arguments: the release build in build/, then the machinery test build in build-machinery/
# (the same crate with `--features machinery` and tests/support/machinery-entry.mjs as its entry,
# for tests/worker/executor.test.mjs; never deployed). `make profile` passes its own profile and
# out dir; `--release --out-dir build-machinery --features machinery` is that test build alone.
if [ $# -eq 0 ]; then
  "$0" --release
  exec "$0" --release --out-dir build-machinery --features machinery
fi
out=build
prev=""
for arg in "$@"; do
  case "$prev" in -d|--out-dir) out=$arg ;; esac
  prev=$arg
done
worker-build "$@"
# The entry module (see its header): workerd and wrangler start from it, not from worker-build's class.
case " $* " in
  *" machinery "*) cp tests/support/machinery-entry.mjs "$out/entry.mjs" ;;
  *) cp src/entry.mjs "$out/entry.mjs" ;;
esac
