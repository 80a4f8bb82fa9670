#!/usr/bin/env bash
# Throwaway PostgreSQL 15 cluster for tests, benchmarks and `make dev`.
#
#   scripts/pg-cluster.sh start DIR          initdb in DIR, start on a free 127.0.0.1 port (unix socket in
#                                            DIR, trust auth), write DIR/env, print the port
#   scripts/pg-cluster.sh load DIR [--seed] [--through VERSION]
#                                            apply the Supabase stand-in, then sql/ in migration order
#                                            (supabase/migrations/*.sql, copies of sql/ made by scripts/migrations.sh) — all, or
#                                            those up to VERSION — then optionally sql/seed.sql
#   scripts/pg-cluster.sh migrate DIR --after VERSION
#                                            apply the migrations newer than VERSION (an upgrade)
#   scripts/pg-cluster.sh stop DIR           stop the cluster (DIR is left for the caller to remove)
#
# DIR/env holds `export PGHOST=… PGPORT=… PGUSER=… PGDATABASE=…` lines (plus DATABASE_URL) to source.
# initdb/postgres refuse to run as root: as root, DIR is handed to the `postgres` OS user and the
# server binaries run through `runuser -u postgres --`.
set -euo pipefail

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
ROOT=$(cd "$(dirname "$0")/.." && pwd)

die() { echo "pg-cluster: $*" >&2; exit 1; }
usage() { die "usage: $0 start DIR | load DIR [--seed] [--through V] | migrate DIR --after V | stop DIR"; }

[ $# -ge 2 ] || usage
cmd=$1
dir=$2

as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
  python3 - <<'EOF' 2>/dev/null && return 0
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
EOF
  # Fallback without python: probe a random range.
  local p
  for _ in $(seq 1 200); do
    p=$(( (RANDOM % 20000) + 30000 ))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return 0; fi
  done
  return 1
}

start() {
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  [ -e "$dir/data/PG_VERSION" ] && die "$dir already holds a cluster"
  if [ "$(id -u)" = 0 ]; then chown postgres: "$dir"; fi
  as_pg "$PG_BIN/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; die "initdb failed"; }
  local port
  port=$(free_port) || die "no free port"
  # Settings for a disposable cluster: durability off, enough memory for the 1M-row benchmark.
  cat >>"$dir/data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
fsync = off
synchronous_commit = off
full_page_writes = off
shared_buffers = 256MB
work_mem = 16MB
maintenance_work_mem = 256MB
max_connections = 100
log_min_messages = warning
EOF
  as_pg "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 start >/dev/null \
    || { tail -20 "$dir/postgres.log" >&2; die "postgres did not start"; }
  cat >"$dir/env" <<EOF
export PGHOST=127.0.0.1
export PGPORT=$port
export PGUSER=postgres
export PGDATABASE=postgres
export DATABASE_URL=postgresql://postgres@127.0.0.1:$port/postgres
EOF
  chmod 644 "$dir/env"
  echo "$port"
}

psql_in() {
  [ -f "$dir/env" ] || die "$dir/env not found: start the cluster first"
  # shellcheck disable=SC1091
  . "$dir/env"
  PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning" psql -X -q -v ON_ERROR_STOP=1 --no-psqlrc "$@"
}

# apply_migrations AFTER THROUGH: the migrations whose version (the file name's leading number) is
# greater than AFTER and at most THROUGH, in order.
apply_migrations() {
  local after=$1 through=$2 f v
  for f in "$ROOT"/supabase/migrations/*.sql; do
    v=$(basename "$f"); v=${v%%_*}
    if [ "$v" -gt "$after" ] && [ "$v" -le "$through" ]; then
      psql_in -f "$f" >/dev/null || die "migration failed: $f"
    fi
  done
}

ALL=99999999999999
load() {
  local seed=0 through=$ALL
  while [ $# -gt 0 ]; do
    case $1 in
      --seed) seed=1 ;;
      --through) through=${2:?--through needs a version}; shift ;;
      *) usage ;;
    esac
    shift
  done
  psql_in -f "$ROOT/tests/support/supabase_standin.sql" >/dev/null
  apply_migrations 0 "$through"
  if [ "$seed" = 1 ]; then
    psql_in -f "$ROOT/sql/seed.sql" >/dev/null || die "seed failed"
  fi
}

migrate() {
  [ "${1:-}" = "--after" ] && [ -n "${2:-}" ] || usage
  apply_migrations "$2" "$ALL"
}

stop() {
  [ -e "$dir/data/PG_VERSION" ] || return 0
  as_pg "$PG_BIN/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop >/dev/null 2>&1 || true
}

case $cmd in
  start) start ;;
  load) shift 2; load "$@" ;;
  migrate) shift 2; migrate "$@" ;;
  stop) stop ;;
  *) usage ;;
esac
