-- Guarantee (issue 10 item 5): a tenant's branding is bounded in the schema (16 KiB of JSON text) far
-- below the router's cap on a directory answer (64 KiB, MAX_ANSWER_BYTES in src/directory/), so no
-- branding an owner writes can make the tenant's routing record unreadable (a 503 on every request).
begin;
\ir _helpers.psql
select plan(5);

insert into tests.ids select 'T', tests.create_tenant('brand-t');
insert into tests.ids select 'admin', tests.create_user('admin@brand.test');
select tests.add_member(tests.id('T'), tests.id('admin'), 'admin');
-- A branding object whose JSON text is p_bytes long.
create function pg_temp.branding_of(p_bytes int) returns jsonb language sql as $$
  select jsonb_build_object('css', repeat('x', p_bytes - length('{"css": ""}')))
$$;
grant execute on function pg_temp.branding_of(int) to authenticated;

select tests.authenticate_as(tests.id('admin'), tests.id('T')::text);
select is(tests.sqlstate_of($$update public.tenants set branding = pg_temp.branding_of(70000)$$), '23514',
  'an admin cannot store branding larger than the router reads');
select is(tests.sqlstate_of($$update public.tenants set branding = pg_temp.branding_of(16385)$$), '23514',
  'branding over 16 KiB is refused');
select is(tests.sqlstate_of($$update public.tenants set branding = pg_temp.branding_of(16384)$$), '00000',
  'branding of exactly 16 KiB is stored');
select tests.as_postgres();
select is(tests.sqlstate_of($$insert into public.tenants (slug, name, branding) values ('brand-big', 'x', pg_temp.branding_of(20000))$$), '23514',
  'the platform cannot create a tenant with oversize branding either');

-- The largest routing record the schema allows still fits the router's 64 KiB answer cap.
insert into public.tenants (slug, name, custom_domain, branding, placement_project)
values (repeat('a', 63), repeat('é', 200), repeat('b', 60) || '.' || repeat('c', 60) || '.' || repeat('d', 60) || '.' || repeat('e', 60) || '.com',
        jsonb_build_object('css', repeat('"', 5000)), repeat('p', 64));
select cmp_ok((select octet_length(public.resolve_tenant(repeat('a', 63))::text)), '<', 65536,
  'the largest routing record the schema allows is under the router''s 64 KiB cap');

select * from finish();
rollback;
