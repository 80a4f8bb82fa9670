-- Guarantee: auth.users and public.users/tenant_members stay in step, trusting nothing the client
-- wrote beyond what the tenant's sign-up policy allows, and a sign-up never fails on bad metadata.
begin;
\ir _helpers.psql
select plan(33);

insert into tests.ids select 'open', tests.create_tenant('signup-open');
insert into tests.ids select 'closed', tests.create_tenant('signup-closed', 'invite_only');
insert into tests.ids select 'suspended', tests.create_tenant('signup-suspended', 'open', 'suspended');
create function pg_temp.memberships(p_user uuid) returns text language sql as $$
  select coalesce(string_agg(t.slug || '/' || m.role, ',' order by t.slug), '')
  from public.tenant_members m join public.tenants t on t.id = m.tenant_id where m.user_id = p_user
$$;

-- ----- open tenant ----------------------------------------------------------------------------------
insert into tests.ids select 'u1', tests.create_user('new@open.test',
  jsonb_build_object('tenant_id', tests.id('open'), 'full_name', 'Nina New', 'avatar_url', 'https://x.test/a.png'));
select results_eq(
  $$select email, full_name, avatar_url from public.users where id = tests.id('u1')$$,
  $$values ('new@open.test'::text, 'Nina New'::text, 'https://x.test/a.png'::text)$$,
  'sign-up: profile created from auth.users with email, full_name and avatar_url');
select is(pg_temp.memberships(tests.id('u1')), 'signup-open/member', 'sign-up on an open tenant: membership as member');

insert into tests.ids select 'u_name', tests.create_user('named@open.test', '{"name": "Only Name"}');
select is((select full_name from public.users where id = tests.id('u_name')), 'Only Name',
  'sign-up: full_name falls back to metadata name');

-- unconfirmed sign-up on an open tenant still joins (the tenant's policy is open)
insert into tests.ids select 'u_unconf', tests.create_user('unconfirmed@open.test',
  jsonb_build_object('tenant_id', tests.id('open')), false);
select is(pg_temp.memberships(tests.id('u_unconf')), 'signup-open/member', 'sign-up on an open tenant: membership before confirmation');

-- ----- bad or closed tenants: a profile, no membership, no error ------------------------------------
select lives_ok(format($$select tests.create_user('closed@x.test', %L)$$, jsonb_build_object('tenant_id', tests.id('closed'))),
  'sign-up naming an invite-only tenant does not fail');
select is(pg_temp.memberships((select id from auth.users where email = 'closed@x.test')), '',
  'sign-up naming an invite-only tenant gives no membership');
select ok(exists (select 1 from public.users where email = 'closed@x.test'), 'sign-up naming an invite-only tenant still gets a profile');

select lives_ok(format($$select tests.create_user('susp@x.test', %L)$$, jsonb_build_object('tenant_id', tests.id('suspended'))),
  'sign-up naming a suspended tenant does not fail');
select is(pg_temp.memberships((select id from auth.users where email = 'susp@x.test')), '',
  'sign-up naming a suspended tenant gives no membership');

select lives_ok($$select tests.create_user('garbage@x.test', '{"tenant_id": "not-a-uuid"}')$$, 'sign-up with a non-uuid tenant_id does not fail');
select is(pg_temp.memberships((select id from auth.users where email = 'garbage@x.test')), '', 'non-uuid tenant_id: no membership');
select lives_ok($$select tests.create_user('unknown@x.test', '{"tenant_id": "99999999-9999-4999-8999-999999999999"}')$$, 'sign-up with an unknown tenant does not fail');
select is(pg_temp.memberships((select id from auth.users where email = 'unknown@x.test')), '', 'unknown tenant: no membership');
select lives_ok($$select tests.create_user('weird@x.test', '{"tenant_id": {"nested": true}, "full_name": 42}')$$, 'sign-up with odd metadata types does not fail');
select lives_ok($$select tests.create_user('array@x.test', '["not", "an", "object"]')$$, 'sign-up with non-object metadata does not fail');
select lives_ok($$select tests.create_user('null@x.test', null)$$, 'sign-up with null metadata does not fail');
select is((select count(*)::int from public.users where email in ('weird@x.test', 'array@x.test', 'null@x.test')), 3,
  'odd metadata: profiles created');

-- anonymous users never join
insert into auth.users (id, aud, role, is_anonymous, raw_user_meta_data, created_at, updated_at)
values (gen_random_uuid(), 'authenticated', 'authenticated', true, jsonb_build_object('tenant_id', tests.id('open')), now(), now());
select is((select count(*)::int from public.tenant_members m join auth.users u on u.id = m.user_id where u.is_anonymous), 0,
  'anonymous sign-in on an open tenant gives no membership');

-- a full plan does not make sign-up fail
insert into public.subscription_plans (id, name, max_users) values ('tiny-test', 'Tiny', 0);
insert into public.tenant_subscriptions (tenant_id, plan_id) values (tests.id('open'), 'tiny-test');
select lives_ok(format($$select tests.create_user('full@open.test', %L)$$, jsonb_build_object('tenant_id', tests.id('open'))),
  'sign-up on an open tenant whose plan is full does not fail');
select is(pg_temp.memberships((select id from auth.users where email = 'full@open.test')), '', 'full plan: no membership');
delete from public.tenant_subscriptions where tenant_id = tests.id('open');

-- ----- invitations: never accepted by a trigger (invitation_acceptance.sql covers accepting) -------
insert into public.tenant_invitations (tenant_id, email, role) values (tests.id('closed'), 'invitee@x.test', 'admin');
insert into tests.ids select 'inv', tests.create_user('invitee@x.test', jsonb_build_object('tenant_id', tests.id('closed')), false);
select is(pg_temp.memberships(tests.id('inv')), '', 'invited address, unconfirmed at sign-up: no membership');
select ok((select accepted_at is null from public.tenant_invitations where email = 'invitee@x.test'), 'invitation still pending before confirmation');
update auth.users set email_confirmed_at = now() where id = tests.id('inv');
select is(pg_temp.memberships(tests.id('inv')), '', 'confirming the address does not turn the invitation into a membership');
select ok((select accepted_at is null from public.tenant_invitations where email = 'invitee@x.test'), 'invitation still pending after confirmation');

insert into public.tenant_invitations (tenant_id, email, role) values (tests.id('closed'), 'confirmed@x.test', 'member');
insert into tests.ids select 'conf', tests.create_user('confirmed@x.test');
select is(pg_temp.memberships(tests.id('conf')), '', 'invited address already confirmed at insert (auto-confirm): no membership');

insert into public.tenant_invitations (tenant_id, email, role, expires_at) values (tests.id('closed'), 'late@x.test', 'member', now() - interval '1 day');
insert into tests.ids select 'late', tests.create_user('late@x.test');
select is(pg_temp.memberships(tests.id('late')), '', 'expired invitation gives nothing');

-- ----- updates follow; deletes cascade --------------------------------------------------------------
update auth.users set email = 'renamed@open.test', phone = '+15550001',
  raw_user_meta_data = raw_user_meta_data || '{"full_name": "Nina Renamed"}' where id = tests.id('u1');
select results_eq(
  $$select email, phone, full_name from public.users where id = tests.id('u1')$$,
  $$values ('renamed@open.test'::text, '+15550001'::text, 'Nina Renamed'::text)$$,
  'auth.users update: email, phone and full_name follow');

update public.users set full_name = 'Edited In App' where id = tests.id('u1');
update auth.users set last_sign_in_at = now() where id = tests.id('u1');
update auth.users set email = 'again@open.test' where id = tests.id('u1');
select is((select full_name from public.users where id = tests.id('u1')), 'Edited In App',
  'auth.users update without a name change keeps the name edited in the app');

-- metadata changes alone never add memberships
update auth.users set raw_user_meta_data = jsonb_build_object('tenant_id', tests.id('open')) where id = tests.id('late');
select is(pg_temp.memberships(tests.id('late')), '', 'changing tenant_id metadata after sign-up does not join a tenant');

delete from auth.users where id = tests.id('u1');
select ok(not exists (select 1 from public.users where id = tests.id('u1')), 'auth.users delete: profile deleted');
select ok(not exists (select 1 from public.tenant_members where user_id = tests.id('u1')), 'auth.users delete: memberships deleted');

-- the trigger functions are not callable by API roles
select ok(not has_function_privilege('authenticated', 'tenancy.handle_auth_user_created()', 'execute'),
  'authenticated cannot execute the sign-up trigger function');
select ok(not has_function_privilege('authenticated', 'tenancy.handle_auth_user_updated()', 'execute'),
  'authenticated cannot execute the user-update trigger function');

select * from finish();
rollback;
