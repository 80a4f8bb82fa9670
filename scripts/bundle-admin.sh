#!/usr/bin/env bash
# The admin Worker's deployable bundle, as scripts/bundle.sh does for the router: `wrangler deploy
# --dry-run` on admin/wrangler.toml (its [build] is scripts/build-admin.sh), written to
# admin/build/dist/, sizes printed, gated (default 1024 KiB gzipped: the admin service is not on a hot
# path, but it must stay within Cloudflare's free-plan Worker limit of 3 MiB with room to spare).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/env.sh
. scripts/env.sh
GATE_KIB=${ADMIN_BUNDLE_GATE_KIB:-1024}
# Absolute: wrangler resolves --outdir against the config's directory.
out=$PWD/admin/build/dist
rm -rf "$out"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
WRANGLER_SEND_METRICS=false npx --no-install wrangler deploy --dry-run -c admin/wrangler.toml --outdir "$out" >"$log" 2>&1 \
  || { cat "$log"; echo "admin-bundle: wrangler deploy --dry-run failed" >&2; exit 1; }
grep -v '^\[custom build\]' "$log"
read -r raw gz < <(sed -n 's/^Total Upload: \([0-9.]*\) KiB \/ gzip: \([0-9.]*\) KiB$/\1 \2/p' "$log")
[ -n "${gz:-}" ] || { echo "admin-bundle: wrangler printed no 'Total Upload' line" >&2; exit 1; }
echo "admin-bundle: $raw KiB raw, $gz KiB gzipped (gate: $GATE_KIB KiB gzipped)"
if awk -v g="$gz" -v m="$GATE_KIB" 'BEGIN { exit !(g > m) }'; then
  echo "admin-bundle: over the size gate" >&2
  exit 1
fi
