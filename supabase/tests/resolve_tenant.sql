-- Guarantee: public.resolve_tenant gives anon exactly the public routing record (the router's static
-- directory shape) by slug or custom domain, case-insensitively, or null; and nothing else.
begin;
\ir _helpers.psql
select plan(15);

insert into public.tenants (id, slug, name, custom_domain, status, signup, branding, placement_project) values
  ('a1a1a1a1-0000-4000-8000-000000000001', 'rt-acme', 'RT Acme', null, 'active', 'open',
   '{"logo_url": "https://example.com/a.svg", "primary_color": "#004AAD"}', null),
  ('a1a1a1a1-0000-4000-8000-000000000002', 'rt-globex', 'RT Globex', 'crm.rt-globex.test', 'suspended', 'invite_only',
   '{"primary_color": "#111111"}', 'eu-dedicated');

select key as eu_key from tenancy.placement_keys where project = 'eu-dedicated' \gset
select tests.as_anon();
select is(public.resolve_tenant(p_slug => 'rt-acme')::jsonb,
  '{"id": "a1a1a1a1-0000-4000-8000-000000000001", "slug": "rt-acme", "name": "RT Acme", "status": "active",
    "custom_domain": null, "domains": [], "signup": "open",
    "branding": {"logo_url": "https://example.com/a.svg", "primary_color": "#004AAD"}, "placement": null}'::jsonb,
  'anon resolves a slug to exactly the routing record');
select is(public.resolve_tenant(p_domain => 'crm.rt-globex.test')::jsonb,
  ('{"id": "a1a1a1a1-0000-4000-8000-000000000002", "slug": "rt-globex", "name": "RT Globex", "status": "suspended",
    "custom_domain": "crm.rt-globex.test", "domains": ["crm.rt-globex.test"], "signup": "invite_only",
    "branding": {"primary_color": "#111111"},
    "placement": {"key": "' || :'eu_key' || '"}}')::jsonb,
  'anon resolves a custom domain; suspended status and the placement''s opaque key included');
select set_eq($$select jsonb_object_keys(public.resolve_tenant('rt-acme')::jsonb)$$,
  array['id', 'slug', 'name', 'status', 'custom_domain', 'domains', 'signup', 'branding', 'placement'],
  'the record has exactly the nine public keys');
select is(public.resolve_tenant('RT-ACME')::jsonb ->> 'slug', 'rt-acme', 'slug matches case-insensitively');
select is(public.resolve_tenant(p_domain => 'CRM.RT-Globex.TEST.')::jsonb ->> 'slug', 'rt-globex', 'domain matches case-insensitively, trailing dot ignored');
select ok(public.resolve_tenant('nobody') is null, 'unknown slug: null');
select ok(public.resolve_tenant(p_domain => 'unknown.test') is null, 'unknown domain: null');
select ok(public.resolve_tenant() is null, 'no argument: null');
select ok(public.resolve_tenant(p_domain => 'rt-acme') is null, 'a slug passed as a domain does not match');
select ok(public.resolve_tenant(p_slug => $$' or 1=1 --$$) is null, 'hostile input: null');
select tests.as_postgres();

select throws_ok($$insert into public.tenants (slug, name) values ('Upper', 'x')$$, '23514', null, 'slugs are stored lowercase (check)');
select throws_ok($$insert into public.tenants (slug, name, custom_domain) values ('okslug', 'x', 'CRM.Example.com')$$, '23514', null, 'custom domains are stored lowercase (check)');
select throws_ok($$insert into public.tenants (slug, name) values ('www', 'x')$$, '23514', null, 'reserved labels cannot be slugs');
select ok(has_function_privilege('anon', 'public.resolve_tenant(text, text)', 'execute'), 'anon may call resolve_tenant');
select tests.as_anon();
select is((select tests.sqlstate_of('select * from public.tenants')), '42501', 'anon cannot read the tenants table itself');

select * from finish();
rollback;
