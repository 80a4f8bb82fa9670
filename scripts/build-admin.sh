#!/usr/bin/env bash
# Builds the admin Worker (admin/build/entry.mjs + index.js + the .wasm) with worker-build, offline,
# with the same tools as the router (scripts/build-worker.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/env.sh
. scripts/env.sh
export WASM_BINDGEN_BIN="${WASM_BINDGEN_BIN:-$(command -v wasm-bindgen)}"
export WASM_OPT_BIN="${WASM_OPT_BIN:-$PWD/node_modules/.bin/wasm-opt}"
export ESBUILD_BIN="${ESBUILD_BIN:-$PWD/node_modules/.bin/esbuild}"
cd admin
worker-build --release
cp src/entry.mjs build/entry.mjs
cp src/console_host.mjs build/console_host.mjs
# The operator console, bundled into one module the entry imports (admin/build/console_assets.mjs).
node ../scripts/build-console.mjs
