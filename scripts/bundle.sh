#!/usr/bin/env bash
# The deployable bundle, exactly as `wrangler deploy` would upload it: `wrangler deploy --dry-run`
# on the real wrangler.toml (its [build] command builds build/ first, scripts/build-worker.sh),
# written to build/dist/. Prints its raw and gzipped size and fails above the size gate.
# CI deploys build/dist/ as it is (scripts/deploy-worker.sh), so what was measured and tested is
# what goes out.
#
# Gate: the gzipped total (what Cloudflare's Worker size limit counts), in KiB. Later work keeps
# under it and says its size delta.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/env.sh
. scripts/env.sh
GATE_KIB=${BUNDLE_GATE_KIB:-270}
out=build/dist
rm -rf "$out"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
WRANGLER_SEND_METRICS=false npx --no-install wrangler deploy --dry-run --outdir "$out" >"$log" 2>&1 \
  || { cat "$log"; echo "bundle: wrangler deploy --dry-run failed" >&2; exit 1; }
grep -v '^\[custom build\]' "$log"
for f in "$out"/*; do
  case $f in *.map | */README.md) continue ;; esac
  printf 'bundle: %-60s %7d B\n' "${f#"$out"/}" "$(stat -c %s "$f")"
done
# Wrangler's own count, the one Cloudflare's limit is stated in: "Total Upload: R KiB / gzip: G KiB".
read -r raw gz < <(sed -n 's/^Total Upload: \([0-9.]*\) KiB \/ gzip: \([0-9.]*\) KiB$/\1 \2/p' "$log")
[ -n "${gz:-}" ] || { echo "bundle: wrangler printed no 'Total Upload' line" >&2; exit 1; }
echo "bundle: $raw KiB raw, $gz KiB gzipped (gate: $GATE_KIB KiB gzipped)"
if awk -v g="$gz" -v m="$GATE_KIB" 'BEGIN { exit !(g > m) }'; then
  echo "bundle: over the size gate by $(awk -v g="$gz" -v m="$GATE_KIB" 'BEGIN { printf "%.2f", g - m }') KiB" >&2
  exit 1
fi
