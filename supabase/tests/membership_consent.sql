-- Guarantee (SPEC §6 "Invitations and membership"): a user joins a tenant only by their own act (an
-- accepted invitation, or sign-up on an open tenant); an owner/admin cannot add an arbitrary user,
-- cannot re-point a membership at another user, and so never sees the profile of someone who did not
-- join; nothing an admin can write tells whether an arbitrary uuid is a user.
begin;
\ir _helpers.psql
select plan(14);

insert into tests.ids select 'A', tests.create_tenant('consent-a');
insert into tests.ids select 'owner', tests.create_user('owner@consent.test');
insert into tests.ids select 'admin', tests.create_user('admin@consent.test');
insert into tests.ids select 'member', tests.create_user('member@consent.test');
insert into tests.ids select 'victim', tests.create_user('victim@consent.test');
insert into tests.ids values ('ghost', '99999999-9999-4999-8999-999999999999');
select tests.add_member(tests.id('A'), tests.id('owner'), 'owner');
select tests.add_member(tests.id('A'), tests.id('admin'), 'admin');
select tests.add_member(tests.id('A'), tests.id('member'), 'member');
insert into tests.tenant_labels select id, name from tests.ids where name = 'A';

-- ----- adding an arbitrary user ----------------------------------------------------------------------
select tests.authenticate_as(tests.id('owner'), tests.id('A')::text);
select is(tests.touched(format($$insert into public.tenant_members (tenant_id, user_id, role) values (%L, %L, 'member') returning tenant_id$$,
  tests.id('A'), tests.id('victim'))), 'error 42501', 'an owner cannot add an existing user who did not accept');
select tests.authenticate_as(tests.id('admin'), tests.id('A')::text);
select is(tests.touched(format($$insert into public.tenant_members (tenant_id, user_id, role) values (%L, %L, 'member') returning tenant_id$$,
  tests.id('A'), tests.id('victim'))), 'error 42501', 'an admin cannot add an existing user who did not accept');
select is(tests.error_of(format($$insert into public.tenant_members (tenant_id, user_id) values (%L, %L)$$, tests.id('A'), tests.id('victim'))),
          tests.error_of(format($$insert into public.tenant_members (tenant_id, user_id) values (%L, %L)$$, tests.id('A'), tests.id('ghost'))),
  'adding a member fails the same way for an existing and a missing user');

-- ----- re-pointing a membership at someone else -----------------------------------------------------
select is(tests.touched(format($$update public.tenant_members set user_id = %L where user_id = %L returning tenant_id$$,
  tests.id('victim'), tests.id('member'))), 'error 42501', 'an admin cannot change a membership''s user_id');
select is(tests.error_of(format($$update public.tenant_members set user_id = %L where user_id = %L$$, tests.id('victim'), tests.id('member'))),
          tests.error_of(format($$update public.tenant_members set user_id = %L where user_id = %L$$, tests.id('ghost'), tests.id('member'))),
  'changing user_id fails the same way for an existing and a missing user');
select tests.as_service_role();
select is(tests.sqlstate_of(format($$update public.tenant_members set user_id = %L where user_id = %L$$, tests.id('victim'), tests.id('member'))),
  '23514', 'not even the platform changes a membership''s user_id (it is a different membership)');
select isnt(tests.sqlstate_of(format($$update public.tenant_members set tenant_id = gen_random_uuid() where user_id = %L$$, tests.id('member'))),
  '00000', 'a membership''s tenant_id never changes either');

-- ----- what an admin still does ---------------------------------------------------------------------
select tests.authenticate_as(tests.id('admin'), tests.id('A')::text);
select is(tests.touched(format($$update public.tenant_members set role = 'admin' where user_id = %L returning tenant_id$$, tests.id('member'))),
  'A:1', 'an admin still changes a member''s role');
select is(tests.touched(format($$delete from public.tenant_members where user_id = %L returning tenant_id$$, tests.id('member'))),
  'A:1', 'an admin still removes a member');

-- ----- profiles of people who did not join stay hidden ---------------------------------------------
select is((select count(*)::int from public.users where id = tests.id('victim')), 0,
  'an admin sees no profile of a user who did not join');

-- ----- invitations carry no user oracle --------------------------------------------------------------
select is(tests.error_of(format($$insert into public.tenant_invitations (email, invited_by) values ('x1@consent.test', %L)$$, tests.id('victim'))),
          tests.error_of(format($$insert into public.tenant_invitations (email, invited_by) values ('x2@consent.test', %L)$$, tests.id('ghost'))),
  'naming a user as invited_by fails the same way for an existing and a missing user');
select is(tests.error_of(format($$insert into public.tenant_invitations (email, accepted_by, accepted_at) values ('x3@consent.test', %L, now())$$, tests.id('victim'))),
          tests.error_of(format($$insert into public.tenant_invitations (email, accepted_by, accepted_at) values ('x4@consent.test', %L, now())$$, tests.id('ghost'))),
  'naming a user as accepted_by fails the same way for an existing and a missing user');
select is((select tests.touched($$insert into public.tenant_invitations (email) values ('x5@consent.test') returning tenant_id$$)), 'A:1',
  'an admin still invites by address');
insert into public.tenant_invitations (email) values ('x6@consent.test');
select tests.as_postgres();
select is((select invited_by from public.tenant_invitations where email = 'x6@consent.test'), tests.id('admin'),
  'an invitation records who invited (the caller, never a client-chosen id)');

select * from finish();
rollback;
