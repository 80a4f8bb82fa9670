-- Guarantee (issue 10 item 6): resolve_tenant, callable by anyone, publishes no internal name. A placed
-- tenant's record carries an opaque key of its project (the same for every tenant on that project);
-- the router maps the key to its DEDICATED_PROJECTS entry. Project names stay in the database.
begin;
\ir _helpers.psql
select plan(5);

insert into public.tenants (id, slug, name, placement_project) values
  ('b2b2b2b2-0000-4000-8000-000000000001', 'place-one', 'One', 'eu-bigcorp-dedicated'),
  ('b2b2b2b2-0000-4000-8000-000000000002', 'place-two', 'Two', 'eu-bigcorp-dedicated'),
  ('b2b2b2b2-0000-4000-8000-000000000003', 'place-three', 'Three', 'us-other'),
  ('b2b2b2b2-0000-4000-8000-000000000004', 'place-shared', 'Shared', null);

select tests.as_anon();
select is(position('bigcorp' in public.resolve_tenant('place-one')::text), 0,
  'anon''s routing record does not contain the placement project name');
select ok(public.resolve_tenant('place-one')::jsonb -> 'placement' ->> 'key' ~ '^pk_[0-9a-f]{32}$',
  'a placed tenant''s record carries an opaque placement key');
select is(public.resolve_tenant('place-one')::jsonb -> 'placement', public.resolve_tenant('place-two')::jsonb -> 'placement',
  'tenants on the same project get the same key');
select isnt(public.resolve_tenant('place-one')::jsonb -> 'placement', public.resolve_tenant('place-three')::jsonb -> 'placement',
  'tenants on different projects get different keys');
select is(public.resolve_tenant('place-shared')::jsonb -> 'placement', 'null'::jsonb, 'the shared project: placement null');

select * from finish();
rollback;
