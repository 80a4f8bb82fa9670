-- Guarantee (SPEC §6): a non-member's write into another tenant fails exactly as row level security
-- fails, whatever that tenant's plan and usage; nothing runs first that reveals anything about it.
-- Members still hit their limits. One case per limited table.
begin;
\ir _helpers.psql
select plan(9);

insert into tests.ids select 'full', tests.create_tenant('side-full');     -- at every limit
insert into tests.ids select 'free', tests.create_tenant('side-free');     -- no limits at all
insert into tests.ids select 'mine', tests.create_tenant('side-mine');
insert into tests.ids select 'stranger', tests.create_user('stranger@side.test');
insert into tests.ids select 'fullowner', tests.create_user('fullowner@side.test');
insert into tests.ids select 'freeowner', tests.create_user('freeowner@side.test');
insert into tests.ids select 'newbie', tests.create_user('newbie@side.test');
select tests.add_member(tests.id('mine'), tests.id('stranger'), 'owner');
select tests.add_member(tests.id('full'), tests.id('fullowner'), 'owner');
select tests.add_member(tests.id('free'), tests.id('freeowner'), 'owner');
insert into public.subscription_plans (id, name, max_users, max_contacts, max_campaigns) values ('side-zero', 'Zero', 1, 0, 0);
insert into public.tenant_subscriptions (tenant_id, plan_id) values (tests.id('full'), 'side-zero');

-- The error a stranger gets writing into tenant p_tenant, with p_sql's %L filled by the tenant id.
create function pg_temp.stranger_error(p_sql text, p_tenant text) returns text language plpgsql as $$
declare v text;
begin
  perform tests.authenticate_as(tests.id('stranger'), tests.id('mine')::text);
  v := tests.error_of(format(p_sql, tests.id(p_tenant)));
  perform tests.as_postgres();
  return v;
end $$;

select is(pg_temp.stranger_error($$insert into public.contacts (tenant_id, name) values (%L, 'x')$$, 'full'),
  '42501: new row violates row-level security policy for table "contacts"',
  'contacts: a stranger''s insert into a tenant at its limit fails as RLS fails');
select is(pg_temp.stranger_error($$insert into public.contacts (tenant_id, name) values (%L, 'x')$$, 'full'),
          pg_temp.stranger_error($$insert into public.contacts (tenant_id, name) values (%L, 'x')$$, 'free'),
  'contacts: the failure says nothing about the other tenant''s plan or usage');
select is(pg_temp.stranger_error($$insert into public.campaigns (tenant_id, name, channel) values (%L, 'c', 'email')$$, 'full'),
  '42501: new row violates row-level security policy for table "campaigns"',
  'campaigns: a stranger''s insert into a tenant at its limit fails as RLS fails');
select is(pg_temp.stranger_error($$insert into public.campaigns (tenant_id, name, channel) values (%L, 'c', 'email')$$, 'full'),
          pg_temp.stranger_error($$insert into public.campaigns (tenant_id, name, channel) values (%L, 'c', 'email')$$, 'free'),
  'campaigns: the failure says nothing about the other tenant''s plan or usage');
select is(pg_temp.stranger_error(format($$insert into public.tenant_members (tenant_id, user_id) values (%%L, %L)$$, tests.id('newbie')), 'full'),
          pg_temp.stranger_error(format($$insert into public.tenant_members (tenant_id, user_id) values (%%L, %L)$$, tests.id('newbie')), 'free'),
  'tenant_members: the failure says nothing about the other tenant''s plan or usage');
select unalike(pg_temp.stranger_error(format($$insert into public.tenant_members (tenant_id, user_id) values (%%L, %L)$$, tests.id('newbie')), 'full'),
  '%PT402%', 'tenant_members: a stranger never sees the plan-limit error');

-- members still hit their limits
select tests.authenticate_as(tests.id('fullowner'), tests.id('full')::text);
select is(tests.sqlstate_of($$insert into public.contacts (name) values ('x')$$), 'PT402', 'a member still hits max_contacts');
select is(tests.sqlstate_of($$insert into public.campaigns (name, channel) values ('c', 'email')$$), 'PT402', 'a member still hits max_campaigns');
select tests.as_postgres();
select throws_ok(format($$select tests.add_member(%L, %L)$$, tests.id('full'), tests.id('newbie')), 'PT402', null,
  'the platform still hits max_users');

select * from finish();
rollback;
