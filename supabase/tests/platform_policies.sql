-- Guarantee: the platform tables (tenants, tenant_members, tenant_invitations, tenant_subscriptions,
-- users) follow the same isolation: members see their own tenant's roster and profiles only,
-- owners/admins manage it, only owners touch the owner role, and the platform's columns stay the
-- platform's.
begin;
\ir _helpers.psql
select plan(24);

insert into tests.ids select 'A', tests.create_tenant('plat-a');
insert into tests.ids select 'B', tests.create_tenant('plat-b');
insert into tests.ids select 'owner', tests.create_user('owner@plat.test');
insert into tests.ids select 'admin', tests.create_user('admin@plat.test');
insert into tests.ids select 'member', tests.create_user('member@plat.test');
insert into tests.ids select 'bob', tests.create_user('bob@plat.test');
insert into tests.ids select 'newbie', tests.create_user('newbie@plat.test');
select tests.add_member(tests.id('A'), tests.id('owner'), 'owner');
select tests.add_member(tests.id('A'), tests.id('admin'), 'admin');
select tests.add_member(tests.id('A'), tests.id('member'), 'member');
select tests.add_member(tests.id('B'), tests.id('bob'), 'owner');
insert into tests.tenant_labels select id, name from tests.ids where name in ('A', 'B');
insert into public.subscription_plans (id, name) values ('plat-plan', 'Plan');
insert into public.tenant_subscriptions (tenant_id, plan_id) values (tests.id('A'), 'plat-plan'), (tests.id('B'), 'plat-plan');

-- tenants
select tests.authenticate_as(tests.id('member'), tests.id('A')::text);
select is((select string_agg(slug, ',') from public.tenants), 'plat-a', 'tenants: a member sees only their tenants');
select is(tests.touched($$update public.tenants set branding = '{"primary_color": "#000"}' returning id as tenant_id$$), '',
  'tenants: a plain member cannot re-brand');
select tests.authenticate_as(tests.id('admin'), tests.id('A')::text);
select is(tests.touched($$update public.tenants set branding = '{"primary_color": "#000"}' returning id as tenant_id$$), 'A:1',
  'tenants: an admin re-brands their tenant');
select is(tests.touched($$update public.tenants set status = 'active' returning id as tenant_id$$), 'error 42501',
  'tenants: status is the platform''s column');
select is(tests.touched($$update public.tenants set signup = 'open' returning id as tenant_id$$), 'error 42501',
  'tenants: sign-up policy is the platform''s column');
select is(tests.touched($$insert into public.tenants (slug, name) values ('sneaky', 'x') returning id as tenant_id$$), 'error 42501',
  'tenants: clients cannot create tenants');
select tests.authenticate_as(tests.id('bob'), tests.id('A')::text);
select is((select count(*)::int from public.tenants where slug = 'plat-a'), 0, 'tenants: another tenant''s row is invisible');

-- tenant_members
select tests.authenticate_as(tests.id('member'), tests.id('A')::text);
select is(tests.visible('public.tenant_members'), 'A:3', 'members: the current tenant''s roster');
select is(tests.touched(format($$insert into public.tenant_members (user_id, tenant_id, role) values (%L, %L, 'member') returning tenant_id$$, tests.id('newbie'), tests.id('A'))),
  'error 42501', 'members: a plain member cannot add members');
select is(tests.touched(format($$update public.tenant_members set role = 'owner' where user_id = %L returning tenant_id$$, tests.id('member'))),
  '', 'members: a member cannot promote themselves');
select tests.authenticate_as(tests.id('admin'), tests.id('A')::text);
select is(tests.touched(format($$insert into public.tenant_members (user_id, tenant_id, role) values (%L, %L, 'member') returning tenant_id$$, tests.id('newbie'), tests.id('A'))),
  'error 42501', 'members: an admin cannot add a member directly (members join by accepting an invitation)');
select is(tests.touched(format($$insert into public.tenant_members (user_id, tenant_id, role) values (%L, %L, 'owner') returning tenant_id$$, tests.id('newbie'), tests.id('A'))),
  'error 42501', 'members: an admin cannot grant owner');
select is(tests.touched(format($$delete from public.tenant_members where user_id = %L returning tenant_id$$, tests.id('owner'))),
  '', 'members: an admin cannot remove an owner');
select is(tests.touched(format($$insert into public.tenant_members (user_id, tenant_id, role) values (%L, %L, 'member') returning tenant_id$$, tests.id('newbie'), tests.id('B'))),
  'error 42501', 'members: an admin cannot add members to another tenant');
select tests.authenticate_as(tests.id('owner'), tests.id('A')::text);
select is(tests.touched(format($$update public.tenant_members set role = 'owner' where user_id = %L returning tenant_id$$, tests.id('admin'))),
  'A:1', 'members: an owner promotes to owner');
select tests.authenticate_as(tests.id('member'), tests.id('A')::text);
select is(tests.touched(format($$delete from public.tenant_members where user_id = %L returning tenant_id$$, tests.id('member'))),
  'A:1', 'members: anyone may leave a tenant');
select tests.authenticate_as(tests.id('bob'), tests.id('A')::text);
select is(tests.visible('public.tenant_members'), 'B:1', 'members: forged header shows only your own memberships');

-- invitations
select tests.authenticate_as(tests.id('admin'), tests.id('A')::text);
select is(tests.touched($$insert into public.tenant_invitations (email, role) values ('friend@plat.test', 'member') returning tenant_id$$),
  'A:1', 'invitations: an admin invites, tenant_id defaulted');
select tests.authenticate_as(tests.id('member'), tests.id('A')::text);
select is(tests.touched($$insert into public.tenant_invitations (email, role) values ('friend@plat.test', 'member') returning tenant_id$$),
  'error 42501', 'invitations: a plain member cannot invite');
select tests.authenticate_as(tests.id('bob'), tests.id('B')::text);
select is(tests.touched(format($$insert into public.tenant_invitations (tenant_id, email, role) values (%L, 'x@plat.test', 'member') returning tenant_id$$, tests.id('A'))),
  'error 42501', 'invitations: cannot invite into another tenant');

-- subscriptions and profiles
select tests.authenticate_as(tests.id('member'), tests.id('A')::text);
select is(tests.visible('public.tenant_subscriptions'), 'A:1', 'subscriptions: members read their own tenant''s plan only');
select is((select string_agg(email, ',' order by email) from public.users),
  'admin@plat.test,member@plat.test,owner@plat.test', 'users: profiles of the current tenant''s members only');
select is(tests.sqlstate_of(format($$update public.users set email = 'hijack@plat.test' where id = %L$$, tests.id('member'))),
  '42501', 'users: email follows auth.users, not client writes');
select is(tests.touched(format($$update public.users set full_name = 'Renamed' where id = %L returning null::uuid as tenant_id$$, tests.id('owner'))),
  '', 'users: cannot edit another user''s profile');

select * from finish();
rollback;
