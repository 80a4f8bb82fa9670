#!/usr/bin/env bash
# Benchmark: what RLS through tenancy.current_tenant_id() costs on a 1,000,000-row messages table
# (1,000 tenants x 10 conversations x 100 messages), against the table owner with an explicit
# `WHERE tenant_id = ...`. Prints medians, ratios and EXPLAIN plans; asserts nothing about time.
#
#   bash bench/sql/run.sh            (about 30 s on 2 cores; BENCH_ITERATIONS=N, default 5000, to change)
#
# Its own throwaway cluster (scripts/pg-cluster.sh), always stopped. Timing is taken inside the
# server (clock_timestamp() around EXECUTE, planning included for both sides), so client round trips
# do not blur a 0.05 ms difference; owner and RLS runs alternate, so machine load hits both alike. The RLS side replays a PostgREST request as it arrives through
# the router: role authenticated, request.jwt.claims with the user's sub, request.headers with
# x-tenant-id; every iteration switches to another of 100 tenants (and their user).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
ITER=${BENCH_ITERATIONS:-5000}

tmp=$(mktemp -d /tmp/tenant-router-bench.XXXXXX)
cleanup() { bash "$ROOT/scripts/pg-cluster.sh" stop "$tmp" >/dev/null 2>&1 || true; rm -rf "$tmp"; }
trap cleanup EXIT INT TERM

bash "$ROOT/scripts/pg-cluster.sh" start "$tmp" >/dev/null
bash "$ROOT/scripts/pg-cluster.sh" load "$tmp"
# shellcheck disable=SC1091
. "$tmp/env"
psql() { command psql -X -q -v ON_ERROR_STOP=1 "$@"; }

psql -c "alter system set autovacuum = off" -c "select pg_reload_conf()" >/dev/null
echo "== loading 1,000 tenants, 1,000 users, 10,000 conversations, 1,000,000 messages"
start=$(date +%s)
psql <<'SQL'
set client_min_messages = warning;
insert into public.tenants (id, slug, name)
select ('00000000-0000-4000-8000-' || lpad(g::text, 12, '0'))::uuid, 'bench-' || g, 'Bench ' || g
from generate_series(1, 1000) g;

insert into auth.users (id, aud, role, email, email_confirmed_at, raw_user_meta_data, created_at, updated_at)
select ('10000000-0000-4000-8000-' || lpad(g::text, 12, '0'))::uuid, 'authenticated', 'authenticated',
       'user' || g || '@bench.test', now(), '{}', now(), now()
from generate_series(1, 1000) g;

-- bulk load without row triggers (audit, limits, FK checks): the data is consistent by construction
set session_replication_role = replica;
insert into public.tenant_members (tenant_id, user_id, role)
select ('00000000-0000-4000-8000-' || lpad(g::text, 12, '0'))::uuid,
       ('10000000-0000-4000-8000-' || lpad(g::text, 12, '0'))::uuid, 'member'
from generate_series(1, 1000) g;

insert into public.contacts (tenant_id, id, name)
select t.id, gen_random_uuid(), 'Contact ' || c
from public.tenants t, generate_series(1, 10) c;

insert into public.conversations (tenant_id, id, contact_id, channel, status)
select c.tenant_id, gen_random_uuid(), c.id, 'whatsapp', 'open' from public.contacts c;

create temp table conv as
select tenant_id, id, row_number() over (order by tenant_id, id) - 1 as n from public.conversations;
create index on conv (n);

insert into public.messages (tenant_id, id, conversation_id, direction, sender_type, body, status, created_at)
select c.tenant_id, gen_random_uuid(), c.id,
       case when g % 2 = 0 then 'inbound' else 'outbound' end,
       case when g % 2 = 0 then 'contact' else 'agent' end,
       'message ' || g,
       (array['received', 'queued', 'sent', 'delivered', 'read', 'failed'])[1 + (g * 7) % 6],
       timestamptz '2026-01-01' + g * interval '1 second'
from generate_series(0, 999999) g
join conv c on c.n = g % 10000;
set session_replication_role = origin;
vacuum (freeze, analyze);
vacuum public.messages; -- a second pass sets the last pages all-visible (index-only scans)
SQL
echo "   loaded in $(( $(date +%s) - start )) s"

echo "== timing ($ITER iterations per query pair after warm-up, interleaved, medians)"
psql <<SQL
set client_min_messages = warning;
create schema bench;

-- Time two query templates, interleaved (owner, then RLS, each iteration) so that both see the same
-- machine load; %1\$s = tenant id, %2\$s = conversation id. Returns the two medians in ms.
-- The RLS side runs as authenticated with a router-style request (claims + x-tenant-id header).
create function bench.compare(p_owner_sql text, p_rls_sql text, p_iter int, out owner_ms numeric, out rls_ms numeric)
language plpgsql as \$\$
declare
  v_tenants uuid[]; v_users uuid[]; v_convs uuid[];
  v_owner float8[] := '{}'; v_rls float8[] := '{}';
  v_t0 timestamptz; v_dummy bigint; i int; k int;
begin
  select array_agg(m.tenant_id order by m.tenant_id), array_agg(m.user_id order by m.tenant_id),
         array_agg((select c.id from public.conversations c where c.tenant_id = m.tenant_id order by c.id limit 1) order by m.tenant_id)
    into v_tenants, v_users, v_convs
  from (select * from public.tenant_members order by tenant_id limit 100) m;
  for i in 1 .. p_iter + 200 loop
    k := 1 + i % 100;
    -- owner (superuser, no RLS), explicit tenant filter
    perform set_config('role', 'none', true);
    perform set_config('request.jwt.claims', '', true);
    perform set_config('request.headers', '', true);
    v_t0 := clock_timestamp();
    execute format('select count(*) from (' || p_owner_sql || ') q', v_tenants[k], v_convs[k]) into v_dummy;
    if i > 200 then v_owner := v_owner || extract(epoch from clock_timestamp() - v_t0) * 1000; end if;
    -- a request through the router: authenticated, claims, x-tenant-id
    perform set_config('role', 'authenticated', true);
    perform set_config('request.jwt.claims', json_build_object('sub', v_users[k], 'role', 'authenticated')::text, true);
    perform set_config('request.headers', json_build_object('x-tenant-id', v_tenants[k])::text, true);
    v_t0 := clock_timestamp();
    execute format('select count(*) from (' || p_rls_sql || ') q', v_tenants[k], v_convs[k]) into v_dummy;
    if i > 200 then v_rls := v_rls || extract(epoch from clock_timestamp() - v_t0) * 1000; end if;
  end loop;
  perform set_config('role', 'none', true);
  owner_ms := (select percentile_cont(0.5) within group (order by t) from unnest(v_owner) t);
  rls_ms := (select percentile_cont(0.5) within group (order by t) from unnest(v_rls) t);
end \$\$;

create table bench.results (key text primary key, owner_ms numeric, rls_ms numeric);
begin;
insert into bench.results select 'latest50', * from bench.compare(
  'select id, body, created_at from public.messages where tenant_id = %1\$L and conversation_id = %2\$L order by created_at desc limit 50',
  'select id, body, created_at from public.messages where conversation_id = %2\$L order by created_at desc limit 50', $ITER);
commit;
begin;
insert into bench.results select 'count', * from bench.compare(
  'select status, count(*) from public.messages where tenant_id = %1\$L group by status',
  'select status, count(*) from public.messages group by status', $ITER);
commit;
begin;
-- what the helper itself costs: the same empty statement with and without one call
insert into bench.results select 'helper', * from bench.compare(
  'select 1 where %1\$L is not null',
  'select 1 where tenancy.current_tenant_id() is not null', $ITER);
commit;

\pset footer off
select q.query,
       r.owner_ms::numeric(10,4) as owner_median_ms,
       r.rls_ms::numeric(10,4) as rls_median_ms,
       (r.rls_ms - r.owner_ms)::numeric(10,4) as rls_adds_ms,
       (r.rls_ms / nullif(r.owner_ms, 0))::numeric(10,2) as ratio,
       q.target
from (values (1, 'latest 50 of a conversation', 'latest50', 'adds <= 0.05 ms'),
             (2, 'count by status', 'count', 'ratio <= 1.2'),
             (3, 'tenancy.current_tenant_id() alone', 'helper', '(what one call costs)')) q(ord, query, key, target)
join bench.results r on r.key = q.key
order by q.ord;
SQL

echo "== plans (tenant bench-1, its first conversation)"
T=00000000-0000-4000-8000-000000000001
U=10000000-0000-4000-8000-000000000001
C=$(psql -At -c "select id from public.conversations where tenant_id = '$T' order by id limit 1")
rls_prelude="set local role authenticated;
select set_config('request.jwt.claims', '{\"sub\": \"$U\", \"role\": \"authenticated\"}', true) \\g /dev/null
select set_config('request.headers', '{\"x-tenant-id\": \"$T\"}', true) \\g /dev/null"
plans=$(psql <<SQL
begin;
$rls_prelude
\echo '-- latest 50, authenticated through RLS'
explain (analyze, costs off, timing off, summary off) select id, body, created_at from public.messages where conversation_id = '$C' order by created_at desc limit 50;
\echo '-- count by status, authenticated through RLS'
explain (analyze, costs off, timing off, summary off) select status, count(*) from public.messages group by status;
rollback;
\echo '-- latest 50, table owner, explicit tenant_id'
explain (analyze, costs off, timing off, summary off) select id, body, created_at from public.messages where tenant_id = '$T' and conversation_id = '$C' order by created_at desc limit 50;
\echo '-- count by status, table owner, explicit tenant_id'
explain (analyze, costs off, timing off, summary off) select status, count(*) from public.messages where tenant_id = '$T' group by status;
SQL
)
echo "$plans"

echo "== does every RLS plan use a tenant index?"
echo "$plans" | awk '
  /^-- / { label = $0; sub(/^-- /, "", label); next }
  label ~ /through RLS/ && /Index (Only )?Scan using messages_tenant_/ { used[label] = 1 }
  label ~ /through RLS/ { seen[label] = 1 }
  END { for (l in seen) printf "   %s: %s\n", l, (l in used) ? "yes (messages_tenant_* index)" : "NO" }' | sort
