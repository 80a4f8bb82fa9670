-- Guarantee (issue 14, "a tenant can hold several hostnames"): resolve_tenant finds a tenant by any of
-- its routable hostnames and lists them in "domains", primary first; tenants.custom_domain stays its
-- primary hostname (setting, changing and clearing it route exactly as before); a hostname belongs to
-- one tenant; members read their own tenant's hostnames and no client writes them; at most 50 each.
begin;
\ir _helpers.psql
select plan(17);

insert into tests.ids select 'T', tests.create_tenant('dom-t', 'open', 'active', 'crm.dom-t.test');
insert into tests.ids select 'U', tests.create_tenant('dom-u');
insert into tests.ids select 'owner', tests.create_user('owner@dom.test');
select tests.add_member(tests.id('T'), tests.id('owner'), 'owner');
insert into tests.tenant_labels select id, name from tests.ids where name in ('T', 'U');

select is((select status from public.tenant_domains where hostname = 'crm.dom-t.test'), 'active',
  'a custom_domain set on the tenant is its active primary hostname');
-- the platform adds a second hostname while it validates
insert into public.tenant_domains (tenant_id, hostname) values (tests.id('T'), 'www.dom-t.test');
select is(public.resolve_tenant(p_domain => 'WWW.dom-t.test.')::jsonb ->> 'slug', 'dom-t', 'a pending second hostname resolves (case and trailing dot ignored)');
select is(public.resolve_tenant('dom-t')::jsonb -> 'domains', '["crm.dom-t.test", "www.dom-t.test"]'::jsonb,
  'the record lists the routable hostnames, primary first');
select is(public.resolve_tenant('dom-t')::jsonb ->> 'custom_domain', 'crm.dom-t.test', 'custom_domain is still the primary');
select is(public.resolve_tenant(p_domain => 'www.dom-t.test')::jsonb ->> 'custom_domain', 'crm.dom-t.test',
  'any hostname gives the same record');

-- states Cloudflare no longer serves do not route
update public.tenant_domains set status = 'moved' where hostname = 'www.dom-t.test';
select ok(public.resolve_tenant(p_domain => 'www.dom-t.test') is null, 'a moved hostname does not resolve');
select is(public.resolve_tenant('dom-t')::jsonb -> 'domains', '["crm.dom-t.test"]'::jsonb, 'and is not listed');
update public.tenant_domains set status = 'active' where hostname = 'www.dom-t.test';

-- the primary moves: the old primary stops routing at once, as changing custom_domain always did
update public.tenants set custom_domain = 'www.dom-t.test' where id = tests.id('T');
select ok(public.resolve_tenant(p_domain => 'crm.dom-t.test') is null, 'changing custom_domain retires the old primary hostname');
select is(public.resolve_tenant(p_domain => 'www.dom-t.test')::jsonb ->> 'custom_domain', 'www.dom-t.test', 'the new primary routes');
update public.tenants set custom_domain = null where id = tests.id('T');
select ok(public.resolve_tenant(p_domain => 'www.dom-t.test') is null, 'clearing custom_domain stops the primary routing');
update public.tenants set custom_domain = 'crm.dom-t.test' where id = tests.id('T');

-- one tenant per hostname
select is(tests.sqlstate_of(format($$insert into public.tenant_domains (tenant_id, hostname) values (%L, 'crm.dom-t.test')$$, tests.id('U'))),
  '23505', 'a hostname belongs to one tenant');
select is(tests.sqlstate_of(format($$update public.tenants set custom_domain = 'crm.dom-t.test' where id = %L$$, tests.id('U'))),
  '23505', 'another tenant cannot take it as its custom_domain');
select is(tests.sqlstate_of(format($$insert into public.tenant_domains (tenant_id, hostname) values (%L, 'Bad_Host.test')$$, tests.id('U'))),
  '23514', 'hostnames are stored lowercase and well-formed');

-- clients
select tests.authenticate_as(tests.id('owner'), tests.id('T')::text);
select is(tests.visible('public.tenant_domains'), 'T:1', 'a member reads their tenant''s hostnames only');
select is(tests.touched(format($$insert into public.tenant_domains (tenant_id, hostname) values (%L, 'evil.dom-t.test') returning tenant_id$$, tests.id('T'))),
  'error 42501', 'an owner cannot add a hostname (the platform validates it with Cloudflare)');
select tests.as_postgres();

-- at most 50, and the largest record still fits the router's 64 KiB cap
insert into public.tenant_domains (tenant_id, hostname)
select tests.id('U'), 'h' || g || repeat('x', 55) || '.' || repeat('y', 60) || '.' || repeat('z', 60) || '.' || repeat('w', 55) || '.test'
from generate_series(1, 50) g;
select is(tests.sqlstate_of(format($$insert into public.tenant_domains (tenant_id, hostname) values (%L, 'one-more.test')$$, tests.id('U'))),
  '23514', 'a tenant has at most 50 hostnames');
update public.tenants set branding = jsonb_build_object('css', repeat('"', 8000)) where id = tests.id('U');
select cmp_ok(octet_length(public.resolve_tenant('dom-u')::text), '<', 65536,
  'fifty maximal hostnames and maximal branding still fit the router''s 64 KiB answer cap');

select * from finish();
rollback;
