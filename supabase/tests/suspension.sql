-- Guarantee (SPEC §6 "Suspension"): a tenant that is not active is no tenant for the tenancy helper, so
-- its members see and write nothing through any path (router header, JWT claim, single membership) —
-- a request straight at Supabase included — in every table that holds tenant_id, the platform tables
-- and storage; resuming restores everything; other tenants are untouched.
begin;
\ir _helpers.psql
select plan(24);

insert into tests.ids select 'S', tests.create_tenant('susp-s');
insert into tests.ids select 'A', tests.create_tenant('susp-a');
insert into tests.ids select 'owner', tests.create_user('owner@susp.test');
insert into tests.ids select 'both', tests.create_user('both@susp.test');
insert into tests.ids select 'invitee', tests.create_user('invitee@susp.test');
select tests.add_member(tests.id('S'), tests.id('owner'), 'owner');
select tests.add_member(tests.id('S'), tests.id('both'), 'member');
select tests.add_member(tests.id('A'), tests.id('both'), 'member');
insert into tests.tenant_labels select id, name from tests.ids where name in ('S', 'A');
insert into public.subscription_plans (id, name) values ('susp-plan', 'Plan');
insert into public.tenant_subscriptions (tenant_id, plan_id) values (tests.id('S'), 'susp-plan');

-- One row in every tenant table (fixtures written as the platform), and a file in each folder.
insert into public.contacts (id, tenant_id, name) values ('c0c0c0c0-0000-4000-8000-000000000001', tests.id('S'), 'S contact'),
  ('c0c0c0c0-0000-4000-8000-000000000002', tests.id('A'), 'A contact');
insert into public.conversations (tenant_id, contact_id, channel) values (tests.id('S'), 'c0c0c0c0-0000-4000-8000-000000000001', 'sms');
insert into public.leads_pipeline (tenant_id, contact_id, title) values (tests.id('S'), 'c0c0c0c0-0000-4000-8000-000000000001', 'deal');
insert into public.campaigns (tenant_id, name, channel) values (tests.id('S'), 'camp', 'email');
insert into public.ai_config (tenant_id, model) values (tests.id('S'), 'm');
insert into public.knowledge_documents (tenant_id, title) values (tests.id('S'), 'doc');
insert into public.system_settings (tenant_id, key, value) values (tests.id('S'), 'k', '1');
insert into public.tenant_invitations (tenant_id, email) values (tests.id('S'), 'invitee@susp.test');
insert into storage.objects (bucket_id, name) values ('tenant-files', tests.id('S') || '/s.pdf'), ('tenant-files', tests.id('A') || '/a.pdf');

-- Every table in public that holds tenant_id and that clients may read at all, as the catalog lists
-- them (a table added later is covered; the platform's journal is not readable by clients at all).
create temp table tenant_tables as
  select c.oid::regclass::text as tbl from pg_class c join pg_namespace n on n.oid = c.relnamespace
  join pg_attribute a on a.attrelid = c.oid and a.attname = 'tenant_id' and not a.attisdropped
  where n.nspname = 'public' and c.relkind in ('r', 'p') and has_table_privilege('authenticated', c.oid, 'select');
grant select on tenant_tables to authenticated;
-- The tables where the current request sees any row of tenant S (by tenant_id).
create function pg_temp.tables_showing_s() returns text language plpgsql as $$
declare r record; n int; v text := '';
begin
  for r in select tbl from tenant_tables order by tbl loop
    execute format('select count(*) from %s where tenant_id = %L', r.tbl, tests.id('S')) into n;
    if n > 0 then v := v || r.tbl || ' '; end if;
  end loop;
  return btrim(v);
end $$;
grant execute on function pg_temp.tables_showing_s() to authenticated;
create function pg_temp.files() returns text language sql as $$
  select coalesce(string_agg(storage.filename(name), ',' order by name), '') from storage.objects where bucket_id = 'tenant-files'
$$;
grant execute on function pg_temp.files() to authenticated;

-- ----- active: the owner works ---------------------------------------------------------------------
select tests.authenticate_as(tests.id('owner'), tests.id('S')::text);
select isnt(pg_temp.tables_showing_s(), '', 'active: the owner sees the tenant''s rows');
select tests.as_postgres();
update public.tenants set status = 'suspended' where id = tests.id('S');

-- ----- suspended: nothing through any path ----------------------------------------------------------
select tests.authenticate_as(tests.id('owner'), tests.id('S')::text);
select is(tenancy.current_tenant_id(), null, 'suspended: the router''s header names no tenant');
select is(pg_temp.tables_showing_s(), 'tenant_members', 'suspended, by header: no table shows a row but the owner''s own membership');
select is(pg_temp.files(), '', 'suspended, by header: no file');
select tests.authenticate_as(tests.id('owner'), null, jsonb_build_object('tenant_id', tests.id('S')));
select is(tenancy.current_tenant_id(), null, 'suspended: a tenant_id claim (Realtime) names no tenant');
select is(pg_temp.tables_showing_s(), 'tenant_members', 'suspended, by claim: nothing');
select tests.authenticate_as(tests.id('owner'));
select is(tenancy.current_tenant_id(), null, 'suspended: the single membership names no tenant');
select is(pg_temp.tables_showing_s(), 'tenant_members', 'suspended, single membership (a request straight at Supabase): nothing');
select is((select count(*)::int from public.tenants where id = tests.id('S')), 0, 'suspended: the tenant row is not visible');
select is((select count(*)::int from public.users where id = tests.id('both')), 0, 'suspended: co-members'' profiles are not visible');
select ok(not tenancy.has_role(tests.id('S'), array['owner']), 'suspended: has_role is false');

select tests.authenticate_as(tests.id('owner'), tests.id('S')::text);
select is(tests.sqlstate_of($$insert into public.contacts (name) values ('new')$$), '42501', 'suspended: an insert without tenant_id has no tenant (RLS refuses it)');
select is(tests.sqlstate_of(format($$insert into public.contacts (tenant_id, name) values (%L, 'new')$$, tests.id('S'))), '42501',
  'suspended: an insert naming the tenant is refused by RLS');
select is(tests.touched($$update public.contacts set name = 'x' returning tenant_id$$), '', 'suspended: updates touch nothing');
select is(tests.touched($$delete from public.campaigns returning tenant_id$$), '', 'suspended: deletes touch nothing');
select is(tests.touched($$update public.tenants set branding = '{}' returning id as tenant_id$$), '', 'suspended: the owner cannot re-brand');
select is(tests.touched($$insert into public.tenant_invitations (email) values ('x@susp.test') returning tenant_id$$), 'error 42501',
  'suspended: no invitations');
select is(tests.sqlstate_of(format($$insert into storage.objects (bucket_id, name) values ('tenant-files', '%s/new.pdf')$$, tests.id('S'))), '42501',
  'suspended: no uploads');
select tests.authenticate_as(tests.id('invitee'), null, tests.amr('otp', now() + interval '2 seconds'));
select is(tests.sqlstate_of(format($$select public.accept_invitation(%L)$$, tests.id('S'))), 'PT403', 'suspended: an invitation cannot be accepted');

-- ----- other tenants are untouched; a member of both is not stuck -----------------------------------
select tests.authenticate_as(tests.id('both'), tests.id('A')::text);
select is(tests.visible('public.contacts'), 'A:1', 'a member of a suspended and an active tenant works in the active one (header)');
select tests.authenticate_as(tests.id('both'));
select is(tenancy.current_tenant_id(), tests.id('A'), 'the only active membership is the single membership');
select is(pg_temp.files(), 'a.pdf', 'and sees only the active tenant''s files');

-- ----- resumed: everything is back -------------------------------------------------------------------
select tests.as_postgres();
update public.tenants set status = 'active' where id = tests.id('S');
select tests.authenticate_as(tests.id('owner'), tests.id('S')::text);
select is(tests.visible('public.contacts'), 'S:1', 'resumed: the owner sees the tenant''s rows again');
select is(tests.touched($$update public.contacts set name = 'y' returning tenant_id$$), 'S:1', 'resumed: writes work again');

select * from finish();
rollback;
