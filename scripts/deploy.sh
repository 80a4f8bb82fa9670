#!/usr/bin/env bash
# The rollout, in the one order that keeps every moment consistent (README, Deploy):
#   1. expand migrations  (the previous router keeps working on them)
#   2. the router         (build/dist as tested: scripts/deploy-worker.sh), then the admin service
#      (admin/build/dist as tested: scripts/deploy-admin.sh; it calls only expand-era functions)
#   3. contract migrations (what only the previous router needed goes)
# Needs `supabase link` done (SUPABASE_ACCESS_TOKEN, SUPABASE_DB_PASSWORD) and CLOUDFLARE_API_TOKEN /
# CLOUDFLARE_ACCOUNT_ID in the environment. Builds nothing: build/dist comes from scripts/bundle.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== deploy: 1/3 expand migrations"
bash scripts/migrations.sh push expand --linked
echo "== deploy: 2/3 router (build/dist)"
bash scripts/deploy-worker.sh
echo "== deploy: 2b/3 admin service (admin/build/dist)"
bash scripts/deploy-admin.sh
echo "== deploy: 3/3 contract migrations"
bash scripts/migrations.sh push contract --linked
