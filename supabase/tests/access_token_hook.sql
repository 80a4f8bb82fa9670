-- Guarantee: the custom access token hook adds tenant_ids (always, possibly empty) and tenant_roles,
-- keeps every other claim, and has exactly the grants Supabase Auth documents.
begin;
\ir _helpers.psql
select plan(13);

insert into tests.ids select 'A', tests.create_tenant('hook-a');
insert into tests.ids select 'B', tests.create_tenant('hook-b');
insert into tests.ids select 'two', tests.create_user('two@hook.test');
insert into tests.ids select 'none', tests.create_user('none@hook.test');
select tests.add_member(tests.id('A'), tests.id('two'), 'owner');
select tests.add_member(tests.id('B'), tests.id('two'), 'member');

create function pg_temp.event(p_user uuid) returns jsonb language sql as $$
  select jsonb_build_object('user_id', p_user, 'authentication_method', 'password',
    'claims', jsonb_build_object('sub', p_user, 'role', 'authenticated', 'aud', 'authenticated',
                                 'email', 'x@hook.test', 'app_metadata', '{"provider": "email"}'::jsonb))
$$;
create temp table result (name text primary key, out jsonb);
grant all on result to supabase_auth_admin;
grant execute on function pg_temp.event(uuid) to supabase_auth_admin;

-- as Supabase Auth calls it
set local role supabase_auth_admin;
insert into result select 'two', public.custom_access_token_hook(pg_temp.event(tests.id('two')));
insert into result select 'none', public.custom_access_token_hook(pg_temp.event(tests.id('none')));
reset role;

select ok((select out ? 'claims' from result where name = 'two'), 'hook returns {"claims": ...}');
select set_eq(
  $$select jsonb_array_elements_text(out -> 'claims' -> 'tenant_ids') from result where name = 'two'$$,
  $$select id::text from tests.ids where name in ('A', 'B')$$,
  'tenant_ids lists every tenant of the user');
select is((select out -> 'claims' -> 'tenant_roles' ->> tests.id('A')::text from result where name = 'two'), 'owner', 'tenant_roles: owner in A');
select is((select out -> 'claims' -> 'tenant_roles' ->> tests.id('B')::text from result where name = 'two'), 'member', 'tenant_roles: member in B');
select is((select out -> 'claims' -> 'tenant_ids' from result where name = 'none'), '[]'::jsonb, 'tenant_ids present and empty for a user with no tenant');
select is((select out -> 'claims' -> 'tenant_roles' from result where name = 'none'), '{}'::jsonb, 'tenant_roles present and empty for a user with no tenant');
select is((select (out -> 'claims') - 'tenant_ids' - 'tenant_roles' from result where name = 'two'),
  pg_temp.event(tests.id('two')) -> 'claims', 'every other claim is kept unchanged');

select lives_ok($$select public.custom_access_token_hook('{"user_id": "garbage", "claims": {}}')$$, 'hook never raises on a malformed event');

select ok(has_function_privilege('supabase_auth_admin', 'public.custom_access_token_hook(jsonb)', 'execute'), 'supabase_auth_admin can execute the hook');
select ok(not has_function_privilege('authenticated', 'public.custom_access_token_hook(jsonb)', 'execute'), 'authenticated cannot execute the hook');
select ok(not has_function_privilege('anon', 'public.custom_access_token_hook(jsonb)', 'execute'), 'anon cannot execute the hook');
select ok(not exists (select 1 from information_schema.routine_privileges
                      where routine_schema = 'public' and routine_name = 'custom_access_token_hook' and grantee = 'PUBLIC'),
  'PUBLIC holds no execute on the hook');
select ok(has_table_privilege('supabase_auth_admin', 'public.tenant_members', 'select'), 'supabase_auth_admin may read tenant_members');

select * from finish();
rollback;
