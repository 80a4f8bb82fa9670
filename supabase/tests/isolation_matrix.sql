-- Guarantee: no request sees or changes another tenant's rows, for EVERY application table and every
-- command. Each table gets the same cases (descriptions name table, command and case):
--   own tenant allowed; another tenant via a forged header denied; a member of two tenants sees and
--   changes exactly the header's tenant; no header -> the single membership, or nothing with two;
--   a tenant_id claim without header; a malformed header; a user with no membership; anon nothing
--   (even with table grants given back: RLS alone stops it); insert with another tenant's tenant_id
--   rejected; insert pointing a foreign key at another tenant's row rejected; update moving a row to
--   another tenant rejected; a removed member loses access on the next statement; a plain member
--   cannot write owner/admin-only tables; only service_role bypasses.
begin;
\ir _helpers.psql

-- The tables under test and an insert for each. Placeholders are filled per tenant:
-- {member} a member user, {contact}/{conversation}/{campaign} that tenant's fixture rows.
create table tests.matrix (
  ord int primary key,
  tbl text not null,
  insert_sql text not null,
  admin_only boolean not null default false
);
insert into tests.matrix values
  (1, 'public.contacts',
   $$insert into public.contacts (name, email, owner_id) values ('Matrix contact', 'matrix@example.test', '{member}')$$, false),
  (2, 'public.campaigns',
   $$insert into public.campaigns (name, channel, created_by) values ('Matrix campaign', 'email', '{member}')$$, false),
  (3, 'public.conversations',
   $$insert into public.conversations (contact_id, channel, assigned_to) values ('{contact}', 'whatsapp', '{member}')$$, false),
  (4, 'public.leads_pipeline',
   $$insert into public.leads_pipeline (contact_id, title, owner_id) values ('{contact}', 'Matrix deal', '{member}')$$, false),
  (5, 'public.messages',
   $$insert into public.messages (conversation_id, direction, sender_type, body) values ('{conversation}', 'outbound', 'agent', 'Matrix message')$$, false),
  (6, 'public.campaign_events',
   $$insert into public.campaign_events (campaign_id, contact_id, event_type) values ('{campaign}', '{contact}', 'sent')$$, false),
  (7, 'public.ai_config',
   $$insert into public.ai_config (name, model, updated_by) values ('matrix-' || gen_random_uuid(), 'test-model', '{member}')$$, true),
  (8, 'public.knowledge_documents',
   $$insert into public.knowledge_documents (title, content, created_by) values ('Matrix doc', 'text', '{member}')$$, false),
  (9, 'public.system_settings',
   $$insert into public.system_settings (key, value, updated_by) values ('matrix.' || gen_random_uuid(), '1', '{member}')$$, true);

-- Every application table (tenant_id + in public, minus the platform tables) must be in the matrix.


-- The template for table p_ord, with tenant p_parents' fixture rows (call as postgres).
create function tests.render(p_ord int, p_parents text) returns text language plpgsql as $$
declare
  v_sql text;
  v_tenant uuid := tests.id(p_parents);
begin
  select insert_sql into v_sql from tests.matrix where ord = p_ord;
  return replace(replace(replace(replace(v_sql,
    '{member}', tests.id('owner_' || p_parents)::text),
    '{contact}', coalesce((select id::text from public.contacts where tenant_id = v_tenant limit 1), 'missing')),
    '{conversation}', coalesce((select id::text from public.conversations where tenant_id = v_tenant limit 1), 'missing')),
    '{campaign}', coalesce((select id::text from public.campaigns where tenant_id = v_tenant limit 1), 'missing'));
end $$;

-- The same insert with an explicit tenant_id column.
create function tests.with_tenant(p_sql text, p_tenant uuid) returns text language sql immutable as $$
  select regexp_replace(regexp_replace(p_sql, '^insert into (\S+) \(', 'insert into \1 (tenant_id, '),
                        ' values \(', format(' values (%L, ', p_tenant))
$$;

create function tests.isolation_matrix() returns setof text language plpgsql as $$
declare
  m record;
  a uuid := tests.id('A');
  b uuid := tests.id('B');
  alice uuid := tests.id('owner_A');
  bob uuid := tests.id('owner_B');
  carol uuid := tests.id('carol');
  dave uuid := tests.id('dave');
  erin uuid := tests.id('erin');
  mia uuid := tests.id('mia');
  ins_a text; ins_b text; ins_fk text;
  upd text; del text; mv text;
  t text;
begin
  for m in select * from tests.matrix order by ord loop
    perform tests.as_postgres();
    ins_a := tests.render(m.ord, 'A') || ' returning tenant_id';
    ins_b := tests.render(m.ord, 'B') || ' returning tenant_id';
    -- A's tenant, B's parents / B's member
    ins_fk := tests.with_tenant(tests.render(m.ord, 'B'), a) || ' returning tenant_id';
    upd := format('update %s set tenant_id = tenant_id returning tenant_id', m.tbl);
    del := format('delete from %s returning tenant_id', m.tbl);
    mv := format('update %s set tenant_id = %L returning tenant_id', m.tbl, b);
    t := m.tbl;
    -- grants back to anon for this table, to show RLS (not grants) stops it
    execute format('grant select, insert, update, delete on %s to anon', m.tbl);

    -- SELECT ------------------------------------------------------------------------------------
    perform tests.authenticate_as(alice, a::text);
    return next is(tests.visible(t), 'A:1', t || ' select: own tenant (header A) sees its rows');
    perform tests.authenticate_as(alice, b::text);
    return next is(tests.visible(t), '', t || ' select: forged header of another tenant sees nothing');
    perform tests.authenticate_as(carol, a::text);
    return next is(tests.visible(t), 'A:1', t || ' select: member of two tenants, header A, sees exactly A');
    perform tests.authenticate_as(carol, b::text);
    return next is(tests.visible(t), 'B:1', t || ' select: member of two tenants, header B, sees exactly B');
    perform tests.authenticate_as(alice);
    return next is(tests.visible(t), 'A:1', t || ' select: no header, single membership sees it');
    perform tests.authenticate_as(carol);
    return next is(tests.visible(t), '', t || ' select: no header, two memberships sees nothing');
    perform tests.authenticate_as(carol, null, jsonb_build_object('tenant_id', b));
    return next is(tests.visible(t), 'B:1', t || ' select: no header, tenant_id claim B sees exactly B');
    perform tests.authenticate_as(bob, null, jsonb_build_object('tenant_id', a));
    return next is(tests.visible(t), 'B:1', t || ' select: claim of a non-member tenant gives nothing of it');
    perform tests.authenticate_as(alice, 'not-a-uuid');
    return next is(tests.visible(t), '', t || ' select: malformed header sees nothing (no error)');
    perform tests.authenticate_as(dave, a::text);
    return next is(tests.visible(t), '', t || ' select: user with no membership sees nothing');
    perform tests.as_anon(a::text);
    return next is(tests.visible(t), '', t || ' select: anon sees nothing even with table grants');
    perform tests.as_service_role();
    return next is(tests.visible(t, true), 'A:1,B:1', t || ' select: service_role bypasses RLS');

    -- INSERT ------------------------------------------------------------------------------------
    perform tests.authenticate_as(alice, a::text);
    return next is(tests.touched(ins_a), 'A:1', t || ' insert: own tenant allowed, tenant_id defaults to header tenant');
    return next is(tests.touched(tests.with_tenant(ins_b, b)), 'error 42501',
      t || ' insert: explicit tenant_id of another tenant rejected');
    return next is(tests.touched(ins_fk), 'error 23503',
      t || ' insert: foreign key pointing at another tenant''s row rejected');
    perform tests.authenticate_as(alice, b::text);
    return next is(tests.touched(ins_b), 'error 42501', t || ' insert: forged header of another tenant rejected');
    perform tests.authenticate_as(carol, b::text);
    return next is(tests.touched(ins_b), 'B:1', t || ' insert: member of two tenants, header B, lands in B');
    perform tests.authenticate_as(carol);
    return next is(tests.touched(ins_a), 'error 42501', t || ' insert: no header, two memberships rejected');
    perform tests.authenticate_as(mia, a::text);
    return next is(tests.touched(ins_a), case when m.admin_only then 'error 42501' else 'A:1' end,
      t || case when m.admin_only then ' insert: plain member rejected (owner/admin only)' else ' insert: plain member allowed' end);
    perform tests.as_anon(a::text);
    return next is(tests.touched(tests.with_tenant(ins_a, a)), 'error 42501', t || ' insert: anon rejected even with table grants');
    perform tests.as_service_role();
    return next is(tests.touched(tests.with_tenant(ins_b, b)), 'B:1', t || ' insert: service_role bypasses RLS');

    -- UPDATE ------------------------------------------------------------------------------------
    perform tests.authenticate_as(alice, a::text);
    return next is(tests.touched(upd), 'A:1', t || ' update: own tenant allowed');
    return next is(tests.touched(mv), 'error 42501', t || ' update: moving a row to another tenant rejected');
    perform tests.authenticate_as(alice, b::text);
    return next is(tests.touched(upd), '', t || ' update: forged header of another tenant changes nothing');
    perform tests.authenticate_as(carol, b::text);
    return next is(tests.touched(upd), 'B:1', t || ' update: member of two tenants, header B, changes exactly B');
    perform tests.authenticate_as(carol);
    return next is(tests.touched(upd), '', t || ' update: no header, two memberships changes nothing');
    perform tests.authenticate_as(mia, a::text);
    return next is(tests.touched(upd), case when m.admin_only then '' else 'A:1' end,
      t || case when m.admin_only then ' update: plain member changes nothing (owner/admin only)' else ' update: plain member allowed' end);
    perform tests.as_anon(a::text);
    return next is(tests.touched(upd), '', t || ' update: anon changes nothing even with table grants');
    perform tests.as_service_role();
    return next is(tests.touched(upd, true), 'A:1,B:1', t || ' update: service_role bypasses RLS');

    -- DELETE ------------------------------------------------------------------------------------
    perform tests.authenticate_as(alice, a::text);
    return next is(tests.touched(del), 'A:1', t || ' delete: own tenant allowed');
    perform tests.authenticate_as(alice, b::text);
    return next is(tests.touched(del), '', t || ' delete: forged header of another tenant deletes nothing');
    perform tests.authenticate_as(carol, b::text);
    return next is(tests.touched(del), 'B:1', t || ' delete: member of two tenants, header B, deletes exactly B');
    perform tests.authenticate_as(carol);
    return next is(tests.touched(del), '', t || ' delete: no header, two memberships deletes nothing');
    perform tests.authenticate_as(mia, a::text);
    return next is(tests.touched(del), case when m.admin_only then '' else 'A:1' end,
      t || case when m.admin_only then ' delete: plain member deletes nothing (owner/admin only)' else ' delete: plain member allowed' end);
    perform tests.as_anon(a::text);
    return next is(tests.touched(del), '', t || ' delete: anon deletes nothing even with table grants');
    perform tests.as_service_role();
    return next is(tests.touched(del, true), 'A:1,B:1', t || ' delete: service_role bypasses RLS');

    -- A removed member loses access on the very next statement ------------------------------------
    perform tests.as_postgres();
    perform tests.add_member(a, erin, 'admin');
    perform tests.authenticate_as(erin, a::text);
    return next is(tests.visible(t), 'A:1', t || ' select: member before removal sees A');
    perform tests.as_postgres();
    delete from public.tenant_members where tenant_id = a and user_id = erin;
    perform tests.authenticate_as(erin, a::text);
    return next is(tests.visible(t), '', t || ' select: removed member sees nothing on the next statement');
    return next is(tests.touched(ins_a), 'error 42501', t || ' insert: removed member rejected');
    return next is(tests.touched(upd), '', t || ' update: removed member changes nothing');
    return next is(tests.touched(del), '', t || ' delete: removed member deletes nothing');

    perform tests.as_postgres();
    execute format('revoke all on %s from anon', m.tbl);
    return next ok(not has_table_privilege('anon', m.tbl, 'select, insert, update, delete'),
      t || ' grants: anon holds no privilege on the table');
  end loop;
  perform tests.as_postgres();
end $$;

-- ----- fixture: tenants A and B, one row per table in each --------------------------------------
insert into tests.ids
select 'A', tests.create_tenant('matrix-a-' || substr(md5(random()::text), 1, 8));
insert into tests.ids
select 'B', tests.create_tenant('matrix-b-' || substr(md5(random()::text), 1, 8));
insert into tests.tenant_labels select id, name from tests.ids where name in ('A', 'B');
insert into tests.ids select 'owner_A', tests.create_user('alice-matrix@a.test');
insert into tests.ids select 'owner_B', tests.create_user('bob-matrix@b.test');
insert into tests.ids select 'carol', tests.create_user('carol-matrix@both.test');
insert into tests.ids select 'dave', tests.create_user('dave-matrix@none.test');
insert into tests.ids select 'erin', tests.create_user('erin-matrix@a.test');
insert into tests.ids select 'mia', tests.create_user('mia-matrix@a.test');
select tests.add_member(tests.id('A'), tests.id('owner_A'), 'owner');
select tests.add_member(tests.id('B'), tests.id('owner_B'), 'owner');
select tests.add_member(tests.id('A'), tests.id('carol'), 'admin');
select tests.add_member(tests.id('B'), tests.id('carol'), 'admin');
select tests.add_member(tests.id('A'), tests.id('mia'), 'member');

-- Fill each table through the API path itself (as the tenant's owner, header set, tenant_id defaulted).
create function tests.fill(p text) returns void language plpgsql as $$
declare
  m record;
  v_sql text;
begin
  for m in select * from tests.matrix order by ord loop
    perform tests.as_postgres();
    v_sql := tests.render(m.ord, p);
    perform tests.authenticate_as(tests.id('owner_' || p), tests.id(p)::text);
    execute v_sql;
  end loop;
  perform tests.as_postgres();
end $$;
select tests.fill('A');
select tests.fill('B');

select plan(1 + (select count(*)::int from tests.matrix) * 42);

select set_eq(
  $$select format('%I.%I', n.nspname, c.relname) from pg_class c join pg_namespace n on n.oid = c.relnamespace
    join pg_attribute a on a.attrelid = c.oid and a.attname = 'tenant_id' and not a.attisdropped
    where n.nspname = 'public' and c.relkind in ('r', 'p')
      and c.relname not in ('tenant_members', 'tenant_invitations', 'tenant_subscriptions', 'tenant_domains', 'provisionings', 'audit_log')$$,
  $$select tbl from tests.matrix$$,
  'matrix covers every application table in public that has tenant_id'
);

select * from tests.isolation_matrix();

select * from finish();
rollback;
