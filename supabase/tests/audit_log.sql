-- Guarantee: every change to tenant data is recorded by triggers (no client can skip them), the
-- trail is append-only for every role, and only owners/admins of the tenant can read it.
begin;
\ir _helpers.psql
select plan(13);

insert into tests.ids select 'A', tests.create_tenant('audit-a');
insert into tests.ids select 'B', tests.create_tenant('audit-b');
insert into tests.ids select 'owner', tests.create_user('owner@audit.test');
insert into tests.ids select 'member', tests.create_user('member@audit.test');
insert into tests.ids select 'bob', tests.create_user('bob@audit.test');
select tests.add_member(tests.id('A'), tests.id('owner'), 'owner');
select tests.add_member(tests.id('A'), tests.id('member'), 'member');
select tests.add_member(tests.id('B'), tests.id('bob'), 'owner');

select tests.authenticate_as(tests.id('member'), tests.id('A')::text);
insert into public.contacts (id, name) values ('c0000000-0000-4000-8000-0000000000a1', 'Audited');
update public.contacts set name = 'Audited twice' where id = 'c0000000-0000-4000-8000-0000000000a1';
delete from public.contacts where id = 'c0000000-0000-4000-8000-0000000000a1';
select tests.authenticate_as(tests.id('bob'), tests.id('B')::text);
insert into public.contacts (name) values ('Bob''s');
select tests.as_postgres();

select results_eq(
  format($$select action, actor_id, actor_role, table_name from public.audit_log
           where tenant_id = %L and table_name = 'public.contacts' order by id$$, tests.id('A')),
  format($$values ('INSERT'::text, %1$L::uuid, 'authenticated'::text, 'public.contacts'::text),
                 ('UPDATE', %1$L::uuid, 'authenticated', 'public.contacts'),
                 ('DELETE', %1$L::uuid, 'authenticated', 'public.contacts')$$, tests.id('member')),
  'insert, update and delete of a contact are recorded with actor and role');
select is((select row_pk from public.audit_log where tenant_id = tests.id('A') and action = 'UPDATE' and table_name = 'public.contacts'),
  jsonb_build_object('tenant_id', tests.id('A'), 'id', 'c0000000-0000-4000-8000-0000000000a1'), 'audit row_pk holds the primary key');
select is((select old_data ->> 'name' || ' -> ' || (new_data ->> 'name') from public.audit_log
           where tenant_id = tests.id('A') and action = 'UPDATE' and table_name = 'public.contacts'),
  'Audited -> Audited twice', 'audit keeps old and new values');
select ok(exists (select 1 from public.audit_log where tenant_id = tests.id('A') and table_name = 'public.tenant_members'),
  'membership changes are audited');

-- reading
select tests.authenticate_as(tests.id('owner'), tests.id('A')::text);
select ok((select count(*) > 0 and bool_and(tenant_id = tests.id('A')) from public.audit_log), 'an owner reads exactly their tenant''s trail');
select tests.authenticate_as(tests.id('member'), tests.id('A')::text);
select is((select count(*)::int from public.audit_log), 0, 'a plain member reads no audit entries');
select tests.authenticate_as(tests.id('owner'), tests.id('B')::text);
select is((select count(*)::int from public.audit_log), 0, 'forged header: no audit entries of another tenant');

-- writing
select tests.authenticate_as(tests.id('owner'), tests.id('A')::text);
select is(tests.touched(format($$insert into public.audit_log (tenant_id, action, table_name) values (%L, 'INSERT', 'fake') returning tenant_id$$, tests.id('A'))),
  'error 42501', 'clients cannot write audit entries');
select is(tests.touched($$delete from public.audit_log returning tenant_id$$), 'error 42501', 'clients cannot delete audit entries');
select tests.as_service_role();
select throws_ok($$delete from public.audit_log$$, '42501', 'audit_log is append-only', 'service_role cannot delete audit entries');
select throws_ok($$update public.audit_log set action = 'DELETE'$$, '42501', 'audit_log is append-only', 'service_role cannot rewrite audit entries');
select tests.as_postgres();
select throws_ok($$truncate public.audit_log$$, '42501', 'audit_log is append-only', 'not even the owner can truncate the trail');
select set_eq(
  $$select tgrelid::regclass::text from pg_trigger where tgname = 'tenant_audit'$$,
  array['tenants', 'tenant_members', 'tenant_invitations', 'tenant_subscriptions', 'tenant_domains', 'contacts', 'leads_pipeline',
        'conversations', 'campaigns', 'ai_config', 'knowledge_documents', 'system_settings'],
  'audit trigger on the platform tables and every application table but the event streams (messages, campaign_events)');

select * from finish();
rollback;
