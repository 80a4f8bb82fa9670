-- Guarantee (issue 15): suspend, resume, delete and purge are the platform's (service role) and each is
-- in the audit trail with who did it; a deleted tenant stops resolving at once; a purge — only after
-- the hold, or with an override — removes every row of the tenant in every table that has tenant_id
-- (found from the catalog), keeps the audit trail redacted of personal data, names the Auth users
-- who belong to no other tenant, refuses while storage objects remain (they go through the Storage
-- API) and refuses a tenant on a dedicated project; other tenants are untouched.
begin;
\ir _helpers.psql
select plan(23);

insert into tests.ids select 'T', tests.create_tenant('life-t', 'open', 'active', 'crm.life-t.test');
insert into tests.ids select 'K', tests.create_tenant('life-keep');
insert into tests.ids select 'only', tests.create_user('only@life.test');
insert into tests.ids select 'both', tests.create_user('both@life.test');
insert into tests.ids select 'operator', tests.create_user('operator@platform.test');
select tests.add_member(tests.id('T'), tests.id('only'), 'owner');
select tests.add_member(tests.id('T'), tests.id('both'), 'member');
select tests.add_member(tests.id('K'), tests.id('both'), 'member');
insert into public.subscription_plans (id, name) values ('life-plan', 'Plan');
insert into public.tenant_subscriptions (tenant_id, plan_id) values (tests.id('T'), 'life-plan'), (tests.id('K'), 'life-plan');
insert into public.contacts (id, tenant_id, name, email) values
  ('d1d1d1d1-0000-4000-8000-000000000001', tests.id('T'), 'Private Person', 'private@person.test'),
  ('d1d1d1d1-0000-4000-8000-000000000002', tests.id('K'), 'Kept Person', 'kept@person.test');
insert into public.conversations (tenant_id, contact_id, channel) values (tests.id('T'), 'd1d1d1d1-0000-4000-8000-000000000001', 'sms');
insert into public.knowledge_documents (tenant_id, title, content) values (tests.id('T'), 'doc', 'secret text');
-- a table a user added later, isolated the usual way: the purge must find it from the catalog
create table public.invoices (id uuid not null default gen_random_uuid(), tenant_id uuid not null, total int, primary key (tenant_id, id));
select tenancy.enable_tenant_isolation('public.invoices');
insert into public.invoices (tenant_id, total) values (tests.id('T'), 10), (tests.id('K'), 20);
insert into storage.objects (bucket_id, name) values ('tenant-files', tests.id('T') || '/f.pdf');

-- ----- who may --------------------------------------------------------------------------------------
select ok(not has_function_privilege('authenticated', 'public.purge_tenant(uuid, uuid, boolean)', 'execute'), 'clients cannot purge');
select ok(not has_function_privilege('authenticated', 'public.suspend_tenant(uuid, uuid)', 'execute'), 'clients cannot suspend');

-- ----- suspend / resume, attributed -------------------------------------------------------------------
select tests.as_service_role();
select is(public.suspend_tenant(tests.id('T'), tests.id('operator')) ->> 'status', 'suspended', 'suspend');
select is(public.resume_tenant(tests.id('T'), tests.id('operator')) ->> 'status', 'active', 'resume');
select tests.as_postgres();
select is((select count(*)::int from public.audit_log where tenant_id = tests.id('T') and table_name = 'public.tenants'
            and action = 'UPDATE' and actor_id = tests.id('operator')), 2,
  'suspend and resume are in the audit trail with who did them');

-- ----- delete: stops resolving at once ----------------------------------------------------------------
select tests.as_service_role();
select is(public.delete_tenant(tests.id('T'), tests.id('operator')) ->> 'status', 'deleted', 'delete is a soft delete');
select ok(public.resolve_tenant('life-t') is null, 'a deleted tenant no longer resolves by slug');
select ok(public.resolve_tenant(p_domain => 'crm.life-t.test') is null, 'nor by its hostnames');
select throws_ok(format($$select public.resume_tenant(%L, %L)$$, tests.id('T'), tests.id('operator')), 'PT409', null,
  'a deleted tenant cannot be resumed');
select tests.authenticate_as(tests.id('only'), tests.id('T')::text);
select is(tests.visible('public.contacts'), '', 'its members see nothing');

-- ----- purge --------------------------------------------------------------------------------------------
select tests.as_service_role();
select throws_ok(format($$select public.purge_tenant(%L, %L)$$, tests.id('T'), tests.id('operator')), 'PT409', null,
  'a purge before the retention hold is refused');
select throws_ok(format($$select public.purge_tenant(%L, %L, true)$$, tests.id('T'), tests.id('operator')), 'PT409', null,
  'a purge is refused while storage objects remain (they are deleted through the Storage API first)');
select tests.as_postgres();
delete from storage.objects where name like tests.id('T') || '/%';  -- what the Storage API did
select tests.as_service_role();
create temp table report as select public.purge_tenant(tests.id('T'), tests.id('operator'), true)::jsonb as r;
select tests.as_postgres();
select is((select (r -> 'tables' ->> 'public.contacts')::int from report), 1, 'the report counts each table''s rows');
select is((select (r -> 'tables' ->> 'public.invoices')::int from report), 1, 'including a table added later (found from the catalog)');
select is((select r -> 'users_without_tenant' from report), jsonb_build_array(tests.id('only')),
  'it names the Auth users who belong to no other tenant (for the Auth admin API)');
select is((select a.new_data -> 'users_without_tenant' from public.audit_log a
            where a.tenant_id = tests.id('T') and a.new_data ->> 'purged' = 'true'),
  jsonb_build_array(tests.id('only')),
  'the purge''s own audit entry names them too, so a purge cut off before deleting them finishes (020)');
create function pg_temp.rows_of(p_tenant uuid) returns text language plpgsql as $$
declare r record; n bigint; v text := '';
begin
  for r in select c.oid::regclass::text as tbl from pg_class c join pg_namespace n on n.oid = c.relnamespace
           join pg_attribute a on a.attrelid = c.oid and a.attname = 'tenant_id' and not a.attisdropped
           where n.nspname = 'public' and c.relkind in ('r', 'p') and c.relname <> 'audit_log' order by 1 loop
    execute format('select count(*) from %s where tenant_id = %L', r.tbl, p_tenant) into n;
    if n > 0 then v := v || r.tbl || ':' || n || ' '; end if;
  end loop;
  return btrim(v);
end $$;
select is(pg_temp.rows_of(tests.id('T')), '', 'no table with tenant_id (but the audit trail) holds a row of the tenant');
select is((select count(*)::int from public.tenants where id = tests.id('T')), 0, 'the tenant row is gone');
select ok(exists (select 1 from public.contacts where tenant_id = tests.id('K')) and exists (select 1 from public.invoices where tenant_id = tests.id('K')),
  'other tenants'' rows are intact');
select ok(exists (select 1 from public.audit_log where tenant_id = tests.id('T')), 'the audit trail is kept');
select is((select count(*)::int from public.audit_log where tenant_id = tests.id('T')
            and (coalesce(old_data::text, '') || coalesce(new_data::text, '')) ~ 'private@person|Private Person|secret text'), 0,
  'redacted of personal data');
select ok(exists (select 1 from public.audit_log where tenant_id = tests.id('T') and action = 'DELETE' and table_name = 'public.tenants'
                  and actor_id = tests.id('operator')), 'the purge itself is in the trail with who did it');

-- a tenant on a dedicated project is refused until placement moves exist
insert into tests.ids select 'P', tests.create_tenant('life-placed');
update public.tenants set placement_project = 'eu-dedicated' where id = tests.id('P');
select tests.as_service_role();
select public.delete_tenant(tests.id('P'), tests.id('operator'));
select throws_ok(format($$select public.purge_tenant(%L, %L, true)$$, tests.id('P'), tests.id('operator')), 'PT409', null,
  'a tenant placed on a dedicated project cannot be purged');
select tests.as_postgres();

select * from finish();
rollback;
