#!/usr/bin/env bash
# Installs everything the build, the tests and the local stack need on a fresh Debian 12 machine.
# Idempotent: every step skips itself when its exact version is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\n== setup: %s\n' "$*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

PG_MAJOR=15
if ! [ -x /usr/lib/postgresql/$PG_MAJOR/bin/postgres ] || ! [ -f /usr/share/postgresql/$PG_MAJOR/extension/pgtap.control ] || ! command -v pg_prove >/dev/null; then
  say "PostgreSQL $PG_MAJOR + pgTAP from Debian"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq postgresql-$PG_MAJOR postgresql-$PG_MAJOR-pgtap libtap-parser-sourcehandler-pgtap-perl >/dev/null
fi

# Go (Debian 12: 1.19) builds tests/go-oracle, which reads the router's output as GoTrue's Go does.
if ! command -v go >/dev/null; then
  say "Go from Debian (the differential oracle of the workerd suite)"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq golang-go >/dev/null
fi

say "Rust targets and components"
rustup target add wasm32-unknown-unknown >/dev/null
rustup component add clippy rustfmt >/dev/null 2>&1 || true

# wasm-bindgen-cli must be the exact wasm-bindgen version the lockfile resolved, or the generated
# glue does not match the module. Installed without --locked, as its own lockfile may not build here.
WB_VERSION=$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/version = |"/,""); print; exit}' Cargo.lock)
WORKER_BUILD_VERSION=$(awk '/^name = "worker"$/{getline; gsub(/version = |"/,""); print; exit}' Cargo.lock)
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $NF}')" != "$WB_VERSION" ]; then
  say "wasm-bindgen-cli $WB_VERSION (cargo install, several minutes)"
  cargo install wasm-bindgen-cli --version "$WB_VERSION" --force --quiet
fi
if [ "$(worker-build --version 2>/dev/null | awk '{print $NF}')" != "$WORKER_BUILD_VERSION" ]; then
  say "worker-build $WORKER_BUILD_VERSION (cargo install, several minutes)"
  cargo install worker-build --version "$WORKER_BUILD_VERSION" --force --quiet
fi

say "npm packages (wrangler, workerd, binaryen, esbuild, supabase-js, pg)"
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi

say "zizmor (workflow linter, offline)"
if ! [ -x .tools/venv/bin/zizmor ]; then
  python3 -m venv .tools/venv
  .tools/venv/bin/pip install --quiet zizmor==1.32.0
fi
say "done"
