-- Guarantee (SPEC §6 "Invitations and membership"): an invitation becomes a membership only when its
-- invitee calls public.accept_invitation(tenant) with a session that proved the mailbox (an emailed
-- link or code: amr otp/magiclink/invite/recovery/email-signup) later than both the invitation and the
-- moment the address became the account's. Never by a self sign-up (confirmations on or off), never by
-- an email change, never by someone else. Multi-tenant users can accept another tenant's invitation.
begin;
\ir _helpers.psql
select plan(28);

create function pg_temp.memberships(p_user uuid) returns text language sql security definer as $$
  select coalesce(string_agg(t.slug || '/' || m.role, ',' order by t.slug), '')
  from public.tenant_members m join public.tenants t on t.id = m.tenant_id where m.user_id = p_user
$$;
grant execute on function pg_temp.memberships(uuid) to authenticated;
create function pg_temp.invite(p_tenant text, p_email text, p_role text default 'member',
                               p_created timestamptz default now()) returns void language sql as $$
  insert into public.tenant_invitations (tenant_id, email, role, created_at, expires_at)
  values (tests.id(p_tenant), p_email, p_role, p_created, p_created + interval '14 days')
$$;
-- accept_invitation as the given user with the given amr; returns the role, or 'error <SQLSTATE>'.
create function pg_temp.accept(p_user text, p_tenant text, p_amr jsonb) returns text language plpgsql as $$
declare v jsonb;
begin
  perform tests.authenticate_as(tests.id(p_user), tests.id(p_tenant)::text, p_amr);
  begin
    v := public.accept_invitation(tests.id(p_tenant))::jsonb;
  exception when others then
    perform tests.as_postgres();
    return 'error ' || sqlstate;
  end;
  perform tests.as_postgres();
  return v ->> 'role';
end $$;
-- A proof of the mailbox made after everything that exists so far (now() is the transaction's start).
create function pg_temp.fresh(p_method text default 'otp') returns jsonb language sql as $$
  select tests.amr(p_method, now() + interval '2 seconds')
$$;

insert into tests.ids select 'closed', tests.create_tenant('inv-closed', 'invite_only');
insert into tests.ids select 'other', tests.create_tenant('inv-other', 'invite_only');
insert into tests.ids select 'open', tests.create_tenant('inv-open', 'open');

-- ----- confirmations off (auto-confirm: Auth confirms at sign-up, nothing proves the mailbox) -------
select pg_temp.invite('closed', 'victim@inv.test', 'admin');
-- an attacker signs up with the invited address, straight at Auth, naming the tenant
insert into tests.ids select 'squatter', tests.create_user('victim@inv.test',
  jsonb_build_object('tenant_id', tests.id('closed')), true);
select is(pg_temp.memberships(tests.id('squatter')), '',
  'auto-confirm: a self sign-up with an invited address is not a member');
select ok((select accepted_at is null from public.tenant_invitations where email = 'victim@inv.test'),
  'auto-confirm: the invitation stays pending after a self sign-up');
select is(pg_temp.accept('squatter', 'closed', tests.amr('password', now() + interval '2 seconds')), 'error PT403',
  'auto-confirm: a password session (sign-up) cannot accept the invitation');
select is(pg_temp.memberships(tests.id('squatter')), '', 'auto-confirm: still no membership after the refused accept');

-- an email change to an invited address (auto-confirm applies it at once) does not join
insert into tests.ids select 'eve', tests.create_user('eve@inv.test');
select pg_temp.invite('closed', 'boss@inv.test', 'owner');
update auth.users set email = 'boss@inv.test' where id = tests.id('eve');
select is(pg_temp.memberships(tests.id('eve')), '', 'an email change to an invited address does not join the tenant');
select is(pg_temp.accept('eve', 'closed', tests.amr('otp', now() - interval '1 minute')), 'error PT403',
  'an email proof made before the email change does not accept for the new address');

-- ----- confirmations on: confirming the address alone does not join either --------------------------
select pg_temp.invite('closed', 'carla@inv.test', 'admin');
insert into tests.ids select 'carla', tests.create_user('carla@inv.test', jsonb_build_object('tenant_id', tests.id('closed')), false);
select is(pg_temp.memberships(tests.id('carla')), '', 'confirmations on: unconfirmed sign-up with an invited address: no membership');
update auth.users set email_confirmed_at = now() where id = tests.id('carla');
select is(pg_temp.memberships(tests.id('carla')), '', 'confirmations on: confirming the address does not accept the invitation by itself');

-- ----- the invitee accepts, with a proof made after the invitation ---------------------------------
select is(pg_temp.accept('carla', 'closed', pg_temp.fresh('otp')), 'admin',
  'the invitee accepts with an emailed code (amr otp) made after the invitation: the invitation''s role');
select is(pg_temp.memberships(tests.id('carla')), 'inv-closed/admin', 'accepted: a membership with the invitation''s role');
select is((select accepted_by from public.tenant_invitations where email = 'carla@inv.test'), tests.id('carla'),
  'accepted: the invitation records its invitee');
select is(pg_temp.accept('carla', 'closed', pg_temp.fresh('otp')), 'error PT403', 'an invitation is accepted once');

-- a user who belongs to one tenant is invited to and accepts another (magic link, PKCE amr)
select pg_temp.invite('other', 'carla@inv.test', 'member');
select is(pg_temp.accept('carla', 'other', pg_temp.fresh('magiclink')), 'member',
  'a member of one tenant accepts another tenant''s invitation (magic link)');
select is(pg_temp.memberships(tests.id('carla')), 'inv-closed/admin,inv-other/member', 'multi-tenant user keeps both memberships');

-- Auth's invite flow for a new address: the platform invites, the user verifies the emailed link
select pg_temp.invite('closed', 'newhire@inv.test', 'member');
insert into auth.users (instance_id, id, aud, role, email, invited_at, raw_app_meta_data, raw_user_meta_data, created_at, updated_at)
values ('00000000-0000-0000-0000-000000000000', gen_random_uuid(), 'authenticated', 'authenticated', 'newhire@inv.test',
        now(), '{"provider": "email"}', jsonb_build_object('tenant_id', tests.id('closed')), now(), now());
insert into tests.ids select 'newhire', id from auth.users where email = 'newhire@inv.test';
update auth.users set email_confirmed_at = now() where id = tests.id('newhire');
select is(pg_temp.memberships(tests.id('newhire')), '', 'Auth invite verified: no membership until the invitee accepts');
select is(pg_temp.accept('newhire', 'closed', pg_temp.fresh('invite')), 'member', 'Auth invite verified (amr invite): the invitee accepts');

-- ----- what is not a proof --------------------------------------------------------------------------
insert into tests.ids select 'late', tests.create_user('late@inv.test');
select pg_temp.invite('closed', 'late@inv.test', 'member');
select is(pg_temp.accept('late', 'closed', tests.amr('otp', now() - interval '1 minute')), 'error PT403',
  'a mailbox proof older than the invitation is refused');
select is(pg_temp.accept('late', 'closed', pg_temp.fresh('oauth')), 'error PT403', 'an OAuth sign-in is not a mailbox proof');
select is(pg_temp.accept('late', 'closed', pg_temp.fresh('email_change')), 'error PT403', 'an email change is not a proof of an invitation');
select is(pg_temp.accept('late', 'closed', '{"amr": "otp"}'), 'error PT403', 'a malformed amr claim is refused, not an error');
select is(pg_temp.accept('late', 'closed', '{}'), 'error PT403', 'no amr claim: refused');

-- an SMS code is also amr otp: an account with a phone must prove the mailbox with a typed link
insert into tests.ids select 'phoney', tests.create_user('phoney@inv.test');
update auth.users set phone = '+15550009' where id = tests.id('phoney');
select pg_temp.invite('closed', 'phoney@inv.test', 'member');
select is(pg_temp.accept('phoney', 'closed', pg_temp.fresh('otp')), 'error PT403',
  'an account with a phone cannot accept with an untyped otp (it may be an SMS code)');
select is(pg_temp.accept('phoney', 'closed', pg_temp.fresh('magiclink')), 'member', 'the same account accepts with a magic link');

-- someone else, an expired invitation, and what the refusals say
insert into tests.ids select 'mallory', tests.create_user('mallory@inv.test');
select is(pg_temp.accept('mallory', 'closed', pg_temp.fresh('otp')), 'error PT403', 'an invitation for another address cannot be accepted');
insert into tests.ids select 'expired', tests.create_user('expired@inv.test');
select pg_temp.invite('closed', 'expired@inv.test', 'member', now() - interval '20 days');
select is(pg_temp.accept('expired', 'closed', pg_temp.fresh('otp')), 'error PT403', 'an expired invitation cannot be accepted');
create function pg_temp.refusal(p_user text, p_tenant text, p_amr jsonb) returns text language plpgsql as $$
declare v text;
begin
  perform tests.authenticate_as(tests.id(p_user), null, p_amr);
  v := tests.error_of(format('select public.accept_invitation(%L)', tests.id(p_tenant)));
  perform tests.as_postgres();
  return v;
end $$;
select is(pg_temp.refusal('mallory', 'closed', pg_temp.fresh('otp')),
          pg_temp.refusal('squatter', 'closed', tests.amr('password', now())),
  'the refusal is the same whether or not the address has an invitation there');

select ok(not has_function_privilege('anon', 'public.accept_invitation(uuid)', 'execute'), 'anon cannot call accept_invitation');
select ok(has_function_privilege('authenticated', 'public.accept_invitation(uuid)', 'execute'), 'signed-in users can call accept_invitation');

select * from finish();
rollback;
