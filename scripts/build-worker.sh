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
# No arguments: the release build in build/. `make profile` passes its own profile and out dir.
[ $# -gt 0 ] || set -- --release
out=build
prev=""
for arg in "$@"; do
  case "$prev" in -d|--out-dir) out=$arg ;; esac
  prev=$arg
done
worker-build "$@"
# The entry module (see its header): workerd and wrangler start from it, not from worker-build's class.
cp src/entry.mjs "$out/entry.mjs"
