-- Guarantee: tenancy.current_tenant_id() returns the request's tenant only for a member, by the
-- contract of SPEC §3 (header, else tenant_id claim, else single membership, else NULL), and never
-- raises whatever the header and claims hold.
begin;
\ir _helpers.psql
select plan(22);

insert into tests.ids select 'A', tests.create_tenant('helper-a');
insert into tests.ids select 'B', tests.create_tenant('helper-b');
insert into tests.ids select 'one', tests.create_user('one@helper.test');
insert into tests.ids select 'two', tests.create_user('two@helper.test');
insert into tests.ids select 'none', tests.create_user('none@helper.test');
select tests.add_member(tests.id('A'), tests.id('one'), 'member');
select tests.add_member(tests.id('A'), tests.id('two'), 'owner');
select tests.add_member(tests.id('B'), tests.id('two'), 'member');

select tests.authenticate_as(tests.id('two'), tests.id('A')::text);
select is(tenancy.current_tenant_id(), tests.id('A'), 'header of a member tenant: that tenant');
select is(tenancy.current_tenant_role(), 'owner', 'current_tenant_role: role in the header tenant');
select ok(tenancy.has_role(tests.id('A'), array['owner']), 'has_role: owner of A');
select ok(not tenancy.has_role(tests.id('B'), array['owner', 'admin']), 'has_role: not owner/admin of B');
select tests.authenticate_as(tests.id('two'), tests.id('B')::text);
select is(tenancy.current_tenant_id(), tests.id('B'), 'header B for a member of A and B: B');
select is(tenancy.current_tenant_role(), 'member', 'current_tenant_role: role in B');
select tests.authenticate_as(tests.id('one'), tests.id('B')::text);
select is(tenancy.current_tenant_id(), null, 'header of a tenant the user is not in: NULL (no fallback to the membership)');
select tests.authenticate_as(tests.id('one'), 'not-a-uuid');
select is(tenancy.current_tenant_id(), null, 'non-uuid header: NULL, no error');
select tests.authenticate_as(tests.id('one'), '');
select is(tenancy.current_tenant_id(), null, 'empty header: NULL');
select tests.authenticate_as(tests.id('one'), '99999999-9999-4999-8999-999999999999');
select is(tenancy.current_tenant_id(), null, 'unknown tenant header: NULL');
select tests.authenticate_as(tests.id('one'));
select is(tenancy.current_tenant_id(), tests.id('A'), 'no header, one membership: that tenant');
select tests.authenticate_as(tests.id('two'));
select is(tenancy.current_tenant_id(), null, 'no header, two memberships: NULL');
select tests.authenticate_as(tests.id('two'), null, jsonb_build_object('tenant_id', tests.id('B')));
select is(tenancy.current_tenant_id(), tests.id('B'), 'no header, tenant_id claim of a member tenant: that tenant');
select tests.authenticate_as(tests.id('two'), null, '{"tenant_id": 12}');
select is(tenancy.current_tenant_id(), null, 'malformed tenant_id claim: NULL, no error');
select tests.authenticate_as(tests.id('none'), tests.id('A')::text);
select is(tenancy.current_tenant_id(), null, 'user with no membership: NULL');
select tests.as_anon(tests.id('A')::text);
select throws_ok($$select tenancy.current_tenant_id()$$, '42501', null, 'anon cannot call the helper at all (no usage on tenancy)');

-- malformed GUCs as only a direct SQL caller could set them
select tests.authenticate_as(tests.id('one'));
select set_config('request.headers', '{not json', true);
select is(tenancy.current_tenant_id(), null, 'malformed request.headers JSON: NULL, no error');
select set_config('request.headers', '["x-tenant-id"]', true);
select is(tenancy.current_tenant_id(), null, 'request.headers not an object: NULL');
select set_config('request.headers', '{}', true);
select set_config('request.jwt.claims', '{"sub": "not-a-uuid", "role": "authenticated"}', true);
select is(tenancy.current_tenant_id(), null, 'non-uuid sub: NULL, no error');
select tests.as_postgres();

select is(
  (select p.prosecdef and p.provolatile = 's' and p.proconfig = array['search_path=""']
   from pg_proc p where p.oid = 'tenancy.current_tenant_id()'::regprocedure),
  true, 'current_tenant_id is SECURITY DEFINER, STABLE, search_path empty');
select is(
  (select count(*)::int from pg_proc p join pg_namespace n on n.oid = p.pronamespace
   where n.nspname in ('tenancy', 'public') and p.prosecdef
     and (p.proconfig is null or not p.proconfig @> array['search_path=""'])),
  0, 'every SECURITY DEFINER function in tenancy and public pins search_path to empty');
select ok(
  not exists (select 1 from pg_proc p join pg_namespace n on n.oid = p.pronamespace
              where n.nspname = 'tenancy' and has_function_privilege('anon', p.oid, 'execute')),
  'anon can execute nothing in tenancy');

select * from finish();
rollback;
