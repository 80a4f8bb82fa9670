#!/usr/bin/env bash
# Run the router locally with demo tenants (README: "run the router locally"; `make dev` calls it after
# scripts/setup.sh). Installs nothing itself.
#
#   scripts/dev.sh                 start everything, print what to try, run until Ctrl-C / SIGTERM
#   DEV_SMOKE=1 scripts/dev.sh     start everything, run the printed curl checks, stop, exit 0/1
#
#   PORT           router port (default 8787; with DEV_SMOKE and no PORT given, any free port)
#   SUPABASE_PORT  port of the Supabase test stand-in (default 54321; with DEV_SMOKE, any free port)
#   JWT_ALG        ES256 (default) or HS256: how the Auth stand-in signs access tokens
#
# Where the Supabase CLI and a working Docker exist, it runs `supabase start` (migrations, seed and the
# access token hook from supabase/) and the router in `wrangler dev` against it. Otherwise it starts a
# throwaway PostgreSQL 15 with the schema and the seed, the Supabase TEST STAND-INS (Auth + REST,
# tests/support/), and the router in workerd (tests/support/stack.mjs). Either way Ctrl-C stops all
# of it and checks that no process is left behind.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
# shellcheck source=scripts/env.sh
. scripts/env.sh

SMOKE=${DEV_SMOKE:-0}
if [ "$SMOKE" = 1 ]; then
  PORT=${PORT:-0}
  SUPABASE_PORT=${SUPABASE_PORT:-0}
else
  PORT=${PORT:-8787}
  SUPABASE_PORT=${SUPABASE_PORT:-54321}
fi
export PORT SUPABASE_PORT

say() { printf 'dev: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

[ -d node_modules/miniflare ] || die "node_modules is missing: run scripts/setup.sh (or make dev) first"

# ---------------------------------------------------------------- build the Worker if needed
wasm=$(ls build/*.wasm 2>/dev/null | head -1 || true)
if [ -z "$wasm" ] || [ ! -f build/entry.mjs ] \
   || [ -n "$(find src Cargo.toml Cargo.lock wrangler.toml -newer "$wasm" -print -quit 2>/dev/null)" ]; then
  say "building the Worker (bash scripts/build-worker.sh --release)"
  bash scripts/build-worker.sh --release >&2
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/tenant-router-dev.XXXXXX")
STACK_PID=""
WRANGLER_PID=""
MODE=""

# ---------------------------------------------------------------- shutdown (trap)
cleanup_done=0
cleanup() {
  [ "$cleanup_done" = 1 ] && return 0
  cleanup_done=1
  trap - INT TERM HUP EXIT
  say "stopping..."
  local leftovers=""
  if [ "$MODE" = standin ] && [ -n "$STACK_PID" ]; then
    local pgdir
    pgdir=$(sed -n 's/.*"pgDir":"\([^"]*\)".*/\1/p' "$WORK/stack.out" 2>/dev/null | head -1)
    # children of the stack process (workerd) before it goes
    local kids
    kids=$(pgrep -P "$STACK_PID" 2>/dev/null || true)
    kill -TERM "$STACK_PID" 2>/dev/null || true
    for _ in $(seq 1 150); do kill -0 "$STACK_PID" 2>/dev/null || break; sleep 0.2; done
    if kill -0 "$STACK_PID" 2>/dev/null; then say "stack did not stop in 30 s; killing $STACK_PID"; kill -KILL "$STACK_PID" 2>/dev/null || true; fi
    wait "$STACK_PID" 2>/dev/null || true
    # Verify: no workerd child and no postmaster of our cluster may remain.
    for k in $kids; do
      if kill -0 "$k" 2>/dev/null; then leftovers+=" $k"; kill -KILL "$k" 2>/dev/null || true; fi
    done
    if [ -n "$pgdir" ] && pgrep -f "postgres -D $pgdir/data" >/dev/null 2>&1; then
      leftovers+=" postgres($pgdir)"
      bash scripts/pg-cluster.sh stop "$pgdir" || true
      rm -rf "$pgdir"
    fi
  fi
  if [ "$MODE" = supabase ]; then
    if [ -n "$WRANGLER_PID" ]; then
      local wkids
      wkids=$(pgrep -P "$WRANGLER_PID" 2>/dev/null || true)
      kill -TERM "$WRANGLER_PID" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$WRANGLER_PID" 2>/dev/null || break; sleep 0.2; done
      kill -KILL "$WRANGLER_PID" 2>/dev/null || true
      for k in $wkids; do kill -0 "$k" 2>/dev/null && { leftovers+=" $k"; kill -KILL "$k" 2>/dev/null || true; }; done
    fi
    "$SUPABASE_CLI" stop >/dev/null 2>&1 || true
  fi
  rm -rf "$WORK"
  if [ -n "$leftovers" ]; then say "had to kill leftovers:$leftovers"; else say "stopped; no process left behind"; fi
}
# Ctrl-C (or a TERM) is how `make dev` is meant to end: a clean stop exits 0, so make reports no
# error (it would print "Error 130" for a child that exits with the signal's status).
on_signal() { cleanup; exit 0; }
trap on_signal INT TERM HUP
trap cleanup EXIT

# ---------------------------------------------------------------- start
ANON_KEY=""
SUPABASE_API=""
# The CLI is the pinned one setup.sh installs (on PATH through env.sh); `supabase start` needs a
# running Docker engine.
SUPABASE_CLI=$(command -v supabase || true)
if [ -n "$SUPABASE_CLI" ] && command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
  MODE=supabase
  say "Supabase CLI and Docker found: supabase start (migrations, seed, access token hook from supabase/)"
  "$SUPABASE_CLI" start >&2
  "$SUPABASE_CLI" status -o env >"$WORK/supabase.env"
  # shellcheck disable=SC1091
  set -a; . "$WORK/supabase.env"; set +a
  SUPABASE_API=${API_URL:?supabase status gave no API_URL}
  ANON_KEY=${ANON_KEY:?supabase status gave no ANON_KEY}
  [ "$PORT" = 0 ] && PORT=8787
  say "router in wrangler dev on 127.0.0.1:$PORT"
  WRANGLER_SEND_METRICS=false CLOUDFLARE_CF_FETCH_ENABLED=false WRANGLER_HIDE_BANNER=true \
    npx --no-install wrangler dev --ip 127.0.0.1 --port "$PORT" \
      --var "SUPABASE_URL:$SUPABASE_API" --var "SUPABASE_ANON_KEY:$ANON_KEY" \
      --var "SUPABASE_JWT_SECRET:${JWT_SECRET:-}" --var "BASE_DOMAINS:localhost" --var "TENANT_DIRECTORY:supabase" \
      >"$WORK/wrangler.log" 2>&1 &
  WRANGLER_PID=$!
  for _ in $(seq 1 150); do
    curl -fsS -H 'Host: acme.localhost' "http://127.0.0.1:$PORT/__router/health" >/dev/null 2>&1 && break
    kill -0 "$WRANGLER_PID" 2>/dev/null || { cat "$WORK/wrangler.log" >&2; die "wrangler dev exited"; }
    sleep 0.2
  done
else
  MODE=standin
  say "no Docker engine here for supabase start: PostgreSQL 15 + schema + seed, the Supabase test stand-ins, the router in workerd"
  node tests/support/stack.mjs >"$WORK/stack.out" 2>"$WORK/stack.err" &
  STACK_PID=$!
  for _ in $(seq 1 600); do
    grep -q '"ready":true' "$WORK/stack.out" 2>/dev/null && break
    if ! kill -0 "$STACK_PID" 2>/dev/null; then cat "$WORK/stack.err" >&2; die "the stack did not start"; fi
    sleep 0.2
  done
  grep -q '"ready":true' "$WORK/stack.out" || { cat "$WORK/stack.err" >&2; die "the stack did not start within 120 s"; }
  line=$(grep '"ready":true' "$WORK/stack.out" | head -1)
  PORT=$(sed -n 's/.*"routerPort":\([0-9]*\).*/\1/p' <<<"$line")
  SUPABASE_API=$(sed -n 's/.*"supabase":"\([^"]*\)".*/\1/p' <<<"$line")
  ANON_KEY=$(sed -n 's/.*"anonKey":"\([^"]*\)".*/\1/p' <<<"$line")
  DATABASE_URL=$(sed -n 's/.*"databaseUrl":"\([^"]*\)".*/\1/p' <<<"$line")
fi
R="http://127.0.0.1:$PORT"

# ---------------------------------------------------------------- what to try
print_help() {
  cat <<EOF

tenant-router is running on $R  ($( [ "$MODE" = standin ] && echo "Supabase TEST STAND-INS at $SUPABASE_API, Postgres $DATABASE_URL" || echo "Supabase (supabase start) at $SUPABASE_API" ))
Demo tenants (sql/seed.sql): acme  -> Host acme.localhost   (open sign-up)
                             globex -> Host crm.globex.test (custom domain, invite-only) or globex.localhost
Users: alice@acme.test (acme), bob@globex.test (globex), carol@both.test (both); password: password123

  ANON='$ANON_KEY'
  curl -s -H 'Host: acme.localhost' $R/__router/health
  curl -s -H 'Host: acme.localhost' $R/__router/tenant
  curl -s -H 'Host: crm.globex.test' $R/__router/tenant
  TOKEN=\$(curl -s -H 'Host: acme.localhost' -H "apikey: \$ANON" -H 'Content-Type: application/json' \\
    -d '{"email":"alice@acme.test","password":"password123"}' \\
    "$R/auth/v1/token?grant_type=password" | sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
  curl -s -H 'Host: acme.localhost' -H "apikey: \$ANON" -H "Authorization: Bearer \$TOKEN" \\
    "$R/rest/v1/contacts?select=id,name,tenant_id"
  curl -s -H 'Host: crm.globex.test' -H "apikey: \$ANON" -H "Authorization: Bearer \$TOKEN" \\
    "$R/rest/v1/contacts?select=id"        # 403 tenant_mismatch: alice is not in globex

The demo front end (demo/, stand-in mode): open http://acme.localhost:$PORT/ or, with crm.globex.test
mapped to 127.0.0.1, http://crm.globex.test:$PORT/ — sign up, magic link, reset, contacts, sign out.
Emailed links (the Auth stand-in's test mailbox) go through http://auth.localhost:$PORT/__router/auth/return.

supabase-js in a browser (browsers resolve *.localhost to 127.0.0.1):
  import { createClient } from "@supabase/supabase-js";
  const supabase = createClient("http://acme.localhost:$PORT", "$ANON_KEY");
  await supabase.auth.signInWithPassword({ email: "alice@acme.test", password: "password123" });
  const { data } = await supabase.from("contacts").select("id, name, tenant_id");
(In Node, *.localhost does not resolve: pass a fetch that connects to 127.0.0.1:$PORT and keeps the
 Host header, e.g. hostMappedFetch in tests/e2e/helpers.mjs: createClient(url, key, { global: { fetch } }).)

Ctrl-C stops the router, the stand-ins and Postgres.
EOF
}

# ---------------------------------------------------------------- smoke mode
smoke() {
  local pass=0 fail=0 out
  check() { # name expected-status host method path [curl args...] ; body in $BODY
    local name=$1 want=$2 host=$3 method=$4 path=$5; shift 5
    local code
    code=$(curl -s -o "$WORK/body" -w '%{http_code}' -X "$method" -H "Host: $host" "$@" "$R$path" || true)
    BODY=$(cat "$WORK/body" 2>/dev/null || true)
    if [ "$code" = "$want" ]; then pass=$((pass + 1)); printf 'ok   %s (%s)\n' "$name" "$code"
    else fail=$((fail + 1)); printf 'FAIL %s: expected %s, got %s: %s\n' "$name" "$want" "$code" "${BODY:0:300}"; fi
  }
  expect() { # name grep-pattern
    if grep -q -- "$2" <<<"$BODY"; then pass=$((pass + 1)); printf 'ok   %s\n' "$1"
    else fail=$((fail + 1)); printf 'FAIL %s: %s not in %s\n' "$1" "$2" "${BODY:0:300}"; fi
  }
  check "health on acme.localhost" 200 acme.localhost GET /__router/health
  check "tenant profile of acme.localhost" 200 acme.localhost GET /__router/tenant
  expect "acme.localhost is acme" '"slug":"acme"'
  check "tenant profile of crm.globex.test" 200 crm.globex.test GET /__router/tenant
  expect "crm.globex.test is globex" '"slug":"globex"'
  check "sign-in of alice on acme.localhost" 200 acme.localhost POST "/auth/v1/token?grant_type=password" \
    -H "apikey: $ANON_KEY" -H 'Content-Type: application/json' -d '{"email":"alice@acme.test","password":"password123"}'
  local token
  token=$(sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p' <<<"$BODY")
  check "alice lists acme's contacts" 200 acme.localhost GET "/rest/v1/contacts?select=id,name,tenant_id" \
    -H "apikey: $ANON_KEY" -H "Authorization: Bearer $token"
  expect "contacts carry acme's tenant id" '11111111-1111-4111-8111-111111111111'
  if grep -q '22222222-2222-4222-8222-222222222222' <<<"$BODY"; then fail=$((fail + 1)); echo "FAIL globex rows leaked to acme.localhost"; else pass=$((pass + 1)); echo "ok   no globex rows on acme.localhost"; fi
  check "alice's token on globex's host is refused at the edge" 403 crm.globex.test GET "/rest/v1/contacts?select=id" \
    -H "apikey: $ANON_KEY" -H "Authorization: Bearer $token"
  expect "refusal is tenant_mismatch" '"tenant_mismatch"'
  echo "smoke: $pass passed, $fail failed"
  [ "$fail" -eq 0 ]
}

if [ "$SMOKE" = 1 ]; then
  rc=0
  smoke || rc=1
  cleanup
  # Verify nothing is left (the stack's own pids were checked in cleanup; this checks the node process).
  if [ -n "$STACK_PID" ] && kill -0 "$STACK_PID" 2>/dev/null; then echo "FAIL stack process $STACK_PID still running"; rc=1; fi
  exit $rc
fi

print_help
if [ "$MODE" = standin ]; then
  wait "$STACK_PID" || true
  say "the stack exited"; tail -20 "$WORK/stack.err" >&2 || true
else
  wait "$WRANGLER_PID" || true
  say "wrangler dev exited"; tail -20 "$WORK/wrangler.log" >&2 || true
fi
