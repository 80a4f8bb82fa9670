-- Guarantee: one call, tenancy.enable_tenant_isolation('<table>'), gives a user-added table the same
-- isolation as the built-in ones, and refuses a table without a uuid tenant_id.
begin;
\ir _helpers.psql
select plan(17);

create table public.my_notes (id bigint generated always as identity, tenant_id uuid, body text, primary key (id));
create table public.no_tenant (id int primary key);
create table public.bad_tenant (id int primary key, tenant_id text);

select throws_ok($$select tenancy.enable_tenant_isolation('public.no_tenant')$$, '42703', null, 'refuses a table without tenant_id');
select throws_ok($$select tenancy.enable_tenant_isolation('public.bad_tenant')$$, '42804', null, 'refuses a tenant_id that is not uuid');
select lives_ok($$select tenancy.enable_tenant_isolation('public.my_notes')$$, 'isolates a table with tenant_id');
select lives_ok($$select tenancy.enable_tenant_isolation('public.my_notes')$$, 'calling it again is harmless');

select ok((select relrowsecurity and relforcerowsecurity from pg_class where oid = 'public.my_notes'::regclass), 'RLS enabled and forced');
select set_eq($$select cmd from pg_policies where tablename = 'my_notes' and 'authenticated' = any (roles)$$,
  array['SELECT', 'INSERT', 'UPDATE', 'DELETE'], 'one policy per command, to authenticated');
select col_not_null('public', 'my_notes', 'tenant_id', 'tenant_id made not null');
select col_default_is('public', 'my_notes', 'tenant_id', 'tenancy.current_tenant_id()', 'tenant_id defaults to the current tenant');
select ok(exists (select 1 from pg_index where indrelid = 'public.my_notes'::regclass and indkey[0] = 2), 'an index on tenant_id was created');
select fk_ok('public', 'my_notes', 'tenant_id', 'public', 'tenants', 'id', 'tenant_id references tenants');
select ok(not has_table_privilege('anon', 'public.my_notes', 'select'), 'anon loses its default grant');
select ok(exists (select 1 from pg_trigger where tgname = 'tenant_audit' and tgrelid = 'public.my_notes'::regclass), 'audit trigger attached');

-- and it isolates
insert into tests.ids select 'A', tests.create_tenant('notes-a');
insert into tests.ids select 'B', tests.create_tenant('notes-b');
insert into tests.ids select 'alice', tests.create_user('alice@notes.test');
insert into tests.ids select 'bob', tests.create_user('bob@notes.test');
select tests.add_member(tests.id('A'), tests.id('alice'), 'member');
select tests.add_member(tests.id('B'), tests.id('bob'), 'member');
insert into tests.tenant_labels select id, name from tests.ids where name in ('A', 'B');

select tests.authenticate_as((select id from tests.ids where name = 'alice'), (select id from tests.ids where name = 'A')::text);
select is(tests.touched($$insert into public.my_notes (body) values ('mine') returning tenant_id$$), 'A:1', 'insert lands in the current tenant');
insert into public.my_notes (body) values ('kept');
select tests.authenticate_as((select id from tests.ids where name = 'bob'), (select id from tests.ids where name = 'B')::text);
select is(tests.visible('public.my_notes'), '', 'another tenant sees nothing');
select tests.authenticate_as((select id from tests.ids where name = 'bob'), (select id from tests.ids where name = 'A')::text);
select is(tests.visible('public.my_notes'), '', 'a forged header sees nothing');
select tests.authenticate_as((select id from tests.ids where name = 'alice'), (select id from tests.ids where name = 'A')::text);
select is(tests.visible('public.my_notes'), 'A:1', 'the owner tenant sees its row');
select tests.as_postgres();

select ok(not has_function_privilege('authenticated', 'tenancy.enable_tenant_isolation(regclass, text[], boolean)', 'execute')
          and not has_function_privilege('service_role', 'tenancy.enable_tenant_isolation(regclass, text[], boolean)', 'execute'),
  'API roles cannot call enable_tenant_isolation');

select * from finish();
rollback;
