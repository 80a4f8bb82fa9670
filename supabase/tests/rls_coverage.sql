-- Guarantee (a guard for future migrations): every table in public that holds tenant_id has RLS
-- enabled AND forced and a policy for each of select, insert, update and delete; every table in public
-- has RLS enabled and forced; no policy is granted to anon on tenant data; tenant_id is a uuid, not
-- null, and leads an index.
begin;
\ir _helpers.psql

create temp view tenant_tables as
  select c.oid, format('%I.%I', n.nspname, c.relname) as name, c.relrowsecurity, c.relforcerowsecurity, a.attnotnull,
         a.atttypid = 'uuid'::regtype as is_uuid, a.attnum
  from pg_class c
  join pg_namespace n on n.oid = c.relnamespace
  join pg_attribute a on a.attrelid = c.oid and a.attname = 'tenant_id' and not a.attisdropped
  where n.nspname = 'public' and c.relkind in ('r', 'p');

select plan(9);

select cmp_ok((select count(*)::int from tenant_tables), '>=', 13, 'the check sees the tenant tables (at least 13)');
select is(array(select name from tenant_tables where not relrowsecurity order by 1), '{}'::text[],
  'every public table with tenant_id has RLS enabled');
select is(array(select name from tenant_tables where not relforcerowsecurity order by 1), '{}'::text[],
  'every public table with tenant_id has RLS forced');
select is(
  array(
    select t.name || ' lacks ' || cmd
    from tenant_tables t
    cross join unnest(array['SELECT', 'INSERT', 'UPDATE', 'DELETE']) cmd
    where not exists (
      select 1 from pg_policies p
      where format('%I.%I', p.schemaname, p.tablename) = t.name
        and (p.cmd = cmd or p.cmd = 'ALL')
        and 'authenticated' = any (p.roles)
    )
    order by 1),
  '{}'::text[],
  'every public table with tenant_id has a policy for select, insert, update and delete');
select is(
  array(select format('%I.%I', n.nspname, c.relname) from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = 'public' and c.relkind in ('r', 'p') and not (c.relrowsecurity and c.relforcerowsecurity) order by 1),
  '{}'::text[],
  'every table in public has RLS enabled and forced');
select is(
  array(select p.tablename || ': ' || p.policyname from pg_policies p join tenant_tables t on t.name = format('%I.%I', p.schemaname, p.tablename)
        where 'anon' = any (p.roles) or 'public' = any (p.roles) order by 1),
  '{}'::text[],
  'no policy on tenant data applies to anon or PUBLIC');
select is(array(select name from tenant_tables where not (attnotnull and is_uuid) order by 1), '{}'::text[],
  'tenant_id is uuid not null everywhere');
select is(
  array(select t.name from tenant_tables t
        where not exists (select 1 from pg_index i where i.indrelid = t.oid and i.indkey[0] = t.attnum) order by 1),
  '{}'::text[],
  'every tenant table has an index leading with tenant_id');

select is(
  array(select rolname::text from pg_roles where rolbypassrls and rolname in ('anon', 'authenticated', 'authenticator', 'supabase_auth_admin') order by 1),
  '{}'::text[],
  'no API role but service_role bypasses RLS (anon, authenticated, authenticator, supabase_auth_admin do not)');

select * from finish();
rollback;
