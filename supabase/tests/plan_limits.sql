-- Guarantee: plan limits are enforced by triggers for every role (service_role included), with
-- SQLSTATE PT402 (HTTP 402 through PostgREST), a message naming the limit and a hint to upgrade.
begin;
\ir _helpers.psql
select plan(14);

insert into tests.ids select 'T', tests.create_tenant('limits-t');
insert into tests.ids select 'U', tests.create_tenant('limits-u');
insert into tests.ids select 'owner', tests.create_user('owner@limits.test');
insert into tests.ids select 'm2', tests.create_user('m2@limits.test');
insert into tests.ids select 'm3', tests.create_user('m3@limits.test');

insert into public.subscription_plans (id, name, max_users, max_contacts, max_campaigns)
values ('limits-small', 'Small', 2, 2, 1), ('limits-big', 'Big', null, null, null);
insert into public.tenant_subscriptions (tenant_id, plan_id) values (tests.id('T'), 'limits-small');
select tests.add_member(tests.id('T'), tests.id('owner'), 'owner');
select tests.add_member(tests.id('U'), tests.id('owner'), 'owner');

select tests.authenticate_as(tests.id('owner'), tests.id('T')::text);
select lives_ok($$insert into public.contacts (name) values ('one'), ('two')$$, 'max_contacts 2: two contacts fit');
select throws_ok($$insert into public.contacts (name) values ('three')$$, 'PT402',
  'plan limit reached: max_contacts (2 of 2)', 'max_contacts: the third contact is refused with PT402 naming the limit');
select throws_ok($$insert into public.contacts (name) values ('x'), ('y')$$, 'PT402', null,
  'max_contacts: a multi-row insert cannot slip past the limit');
select lives_ok($$insert into public.campaigns (name, channel) values ('c1', 'email')$$, 'max_campaigns 1: one campaign fits');
select throws_ok($$insert into public.campaigns (name, channel) values ('c2', 'email')$$, 'PT402',
  'plan limit reached: max_campaigns (1 of 1)', 'max_campaigns: the second campaign is refused');

-- hint and detail
create function pg_temp.error_fields(p_sql text) returns jsonb language plpgsql as $$
declare v_hint text; v_detail text; v_state text;
begin
  execute p_sql;
  return null;
exception when others then
  get stacked diagnostics v_hint = pg_exception_hint, v_detail = pg_exception_detail, v_state = returned_sqlstate;
  return jsonb_build_object('state', v_state, 'hint', v_hint, 'detail', v_detail);
end $$;
select matches((pg_temp.error_fields($$insert into public.contacts (name) values ('z')$$)) ->> 'hint', 'Upgrade',
  'limit error carries a hint to upgrade');
select matches((pg_temp.error_fields($$insert into public.contacts (name) values ('z')$$)) ->> 'detail', 'limits-small',
  'limit error detail names the plan');

-- service_role bypasses RLS but not the limit
select tests.as_service_role();
select throws_ok(format($$insert into public.contacts (tenant_id, name) values (%L, 'svc')$$, tests.id('T')), 'PT402', null,
  'service_role is limited too');

-- members: max_users 2
select tests.as_postgres();
select tests.add_member(tests.id('T'), tests.id('m2'), 'member');
select throws_ok(format($$select tests.add_member(%L, %L, 'member')$$, tests.id('T'), tests.id('m3')), 'PT402',
  'plan limit reached: max_users (2 of 2)', 'max_users: a third member is refused');

-- other tenants and unlimited plans
select tests.authenticate_as(tests.id('owner'), tests.id('U')::text);
select lives_ok($$insert into public.contacts (name) select 'u' || g from generate_series(1, 5) g$$,
  'a tenant without a subscription is not limited');
select tests.as_postgres();
update public.tenant_subscriptions set plan_id = 'limits-big' where tenant_id = tests.id('T');
select tests.authenticate_as(tests.id('owner'), tests.id('T')::text);
select lives_ok($$insert into public.contacts (name) values ('after upgrade')$$, 'after an upgrade to unlimited plans the insert works');

-- limits are the platform's: a tenant owner cannot change the plan
select is(tests.touched(format($$update public.tenant_subscriptions set plan_id = 'limits-big' where tenant_id = %L returning tenant_id$$, tests.id('T'))),
  'error 42501', 'an owner cannot change the subscription (no update privilege)');
select is(tests.touched($$insert into public.subscription_plans (id, name) values ('free-for-all', 'x') returning null::uuid as tenant_id$$),
  'error 42501', 'an owner cannot create plans');
select tests.as_postgres();
select ok(exists (select 1 from pg_trigger where tgname = 'enforce_max_users' and tgrelid = 'public.tenant_members'::regclass and tgenabled = 'O'),
  'max_users trigger is enabled on tenant_members');

select * from finish();
rollback;
