-- 011 invitations are accepted by their invitee, with a proof of the mailbox (SPEC §6).
--
-- Until 010 the auth.users triggers turned a pending invitation into a membership as soon as the
-- address was "confirmed". With auto-confirm (Auth's enable_confirmations = false) every sign-up is
-- confirmed at once, so anyone who signed up with an invited address — or changed a confirmed
-- account's address to it — took the seat with its role. Now:
--   * the triggers never accept invitations;
--   * the invitee calls public.accept_invitation(tenant) (POST /rest/v1/rpc/accept_invitation) with a
--     session whose JWT `amr` holds a mailbox proof made later than both the invitation and the moment
--     the address became the account's (tenancy.email_bindings): an emailed link or code. Supabase
--     Auth (internal/models/factor.go, internal/api/verify.go) writes `otp` for every implicit-flow
--     verification — email link, email code, but also an SMS code — and the typed method (`magiclink`,
--     `invite`, `recovery`, `email/signup`) for PKCE links. So `otp` counts only for an account
--     without a phone (a user cannot remove their own phone); the typed methods always count.
--     `password`, `oauth`, `sso/saml`, `email_change`, `anonymous`, `token_refresh`… never do.
-- Existing users get an email binding made now: a pending invitation of theirs needs a proof made
-- after this migration. Invitations accepted before it have no proof_method: tenancy.upgrade_report()
-- (016) lists them for review.

-- When the account's current address became its own. Written only by the auth.users triggers.
create table tenancy.email_bindings (
  user_id uuid primary key references auth.users (id) on delete cascade,
  email text,
  bound_at timestamptz not null default now()
);
revoke all on tenancy.email_bindings from public, anon, authenticated, service_role;
insert into tenancy.email_bindings (user_id, email, bound_at)
select u.id, lower(u.email), now() from auth.users u
on conflict (user_id) do nothing;

-- How each accepted invitation was proven (the amr method); null for those accepted before 011.
alter table public.tenant_invitations add column proof_method text;

-- The mailbox proof in a JWT's claims made at or after p_since, or NULL. Auth writes whole seconds, so
-- "at or after" means within the same second or later: an invitee who opens the mail at once still
-- qualifies, and a proof from the second before cannot be told apart (harmless: it proves the same
-- mailbox, bound to the account no later than that second). Never raises, whatever the claims hold.
create or replace function tenancy.mailbox_proof(p_claims jsonb, p_since timestamptz, p_has_phone boolean)
returns text
language plpgsql immutable
set search_path = ''
as $$
declare
  v_entry jsonb;
  v_method text;
  v_at numeric;
begin
  if p_since is null or jsonb_typeof(p_claims -> 'amr') is distinct from 'array' then
    return null;
  end if;
  for v_entry in select e from jsonb_array_elements(p_claims -> 'amr') e loop
    continue when jsonb_typeof(v_entry) <> 'object' or jsonb_typeof(v_entry -> 'timestamp') <> 'number';
    v_method := v_entry ->> 'method';
    v_at := (v_entry ->> 'timestamp')::numeric;
    if (v_method in ('magiclink', 'invite', 'recovery', 'email/signup')
        or (v_method = 'otp' and not p_has_phone))
       and v_at >= floor(extract(epoch from p_since)) then
      return v_method;
    end if;
  end loop;
  return null;
end
$$;

-- Sign-up: the profile, the email binding, and a membership where the tenant's sign-up is open.
create or replace function tenancy.handle_auth_user_created() returns trigger
language plpgsql security definer
set search_path = ''
as $$
declare
  v_meta jsonb := case when jsonb_typeof(new.raw_user_meta_data) = 'object' then new.raw_user_meta_data else '{}'::jsonb end;
  v_tenant uuid := tenancy.to_uuid(v_meta ->> 'tenant_id');
begin
  insert into public.users (id, email, phone, full_name, avatar_url)
  values (new.id, new.email, new.phone, tenancy.profile_name(v_meta), tenancy.profile_avatar(v_meta))
  on conflict (id) do nothing;
  insert into tenancy.email_bindings (user_id, email) values (new.id, lower(new.email))
  on conflict (user_id) do update set email = excluded.email, bound_at = now();

  if v_tenant is not null and not coalesce(new.is_anonymous, false) then
    if exists (
      select 1 from public.tenants t
      where t.id = v_tenant and t.status = 'active' and t.signup = 'open'
    ) then
      begin
        insert into public.tenant_members (tenant_id, user_id, role)
        values (v_tenant, new.id, 'member')
        on conflict (tenant_id, user_id) do nothing;
      exception when others then
        raise warning 'user % not added to tenant %: % (%)', new.id, v_tenant, sqlerrm, sqlstate;
      end;
    end if;
  end if;
  return null;
end
$$;

-- Updates: the profile follows; a new address gets a new binding (older proofs no longer count).
create or replace function tenancy.handle_auth_user_updated() returns trigger
language plpgsql security definer
set search_path = ''
as $$
declare
  v_meta jsonb := case when jsonb_typeof(new.raw_user_meta_data) = 'object' then new.raw_user_meta_data else '{}'::jsonb end;
  v_old_meta jsonb := case when jsonb_typeof(old.raw_user_meta_data) = 'object' then old.raw_user_meta_data else '{}'::jsonb end;
  v_name_changed boolean;
  v_avatar_changed boolean;
begin
  v_name_changed := tenancy.profile_name(v_meta) is distinct from tenancy.profile_name(v_old_meta);
  v_avatar_changed := tenancy.profile_avatar(v_meta) is distinct from tenancy.profile_avatar(v_old_meta);

  if new.email is distinct from old.email or new.phone is distinct from old.phone
     or v_name_changed or v_avatar_changed then
    insert into public.users as u (id, email, phone, full_name, avatar_url)
    values (new.id, new.email, new.phone, tenancy.profile_name(v_meta), tenancy.profile_avatar(v_meta))
    on conflict (id) do update set
      email = excluded.email,
      phone = excluded.phone,
      full_name = case when v_name_changed then excluded.full_name else u.full_name end,
      avatar_url = case when v_avatar_changed then excluded.avatar_url else u.avatar_url end;
  end if;
  if lower(new.email) is distinct from lower(old.email) then
    insert into tenancy.email_bindings (user_id, email) values (new.id, lower(new.email))
    on conflict (user_id) do update set email = excluded.email, bound_at = now();
  end if;
  return null;
end
$$;

drop function tenancy.accept_invitations(uuid, text);

-- POST /rest/v1/rpc/accept_invitation {"p_tenant_id": "<uuid>"}: the caller's pending invitation to
-- that tenant becomes their membership (its role, or the one they hold if higher); a tenant that is
-- not active takes no one. Every refusal is
-- the same PT403 (HTTP 403), so it tells nothing about which tenants invited which address.
create or replace function public.accept_invitation(p_tenant_id uuid) returns json
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  v_uid uuid := tenancy.current_user_id();
  v_claims jsonb;
  v_user record;
  v_bound timestamptz;
  v_inv record;
  v_proof text;
  v_role text;
begin
  begin
    v_claims := nullif(current_setting('request.jwt.claims', true), '')::jsonb;
  exception when others then
    v_claims := null;
  end;
  select u.email, u.email_confirmed_at, coalesce(u.phone, '') <> '' as has_phone, coalesce(u.is_anonymous, false) as anonymous
    into v_user
  from auth.users u where u.id = v_uid;
  if found and not v_user.anonymous and v_user.email_confirmed_at is not null then
    select b.bound_at into v_bound
    from tenancy.email_bindings b where b.user_id = v_uid and b.email = lower(v_user.email);
    select i.id, i.role, i.created_at into v_inv
    from public.tenant_invitations i
    where i.tenant_id = p_tenant_id and i.email = lower(v_user.email)
      and i.accepted_at is null and i.expires_at > now()
      and exists (select 1 from public.tenants t where t.id = i.tenant_id and t.status = 'active')
    for update of i;
    if v_inv.id is not null then
      v_proof := tenancy.mailbox_proof(v_claims, greatest(v_inv.created_at, v_bound), v_user.has_phone);
    end if;
  end if;
  if v_proof is null then
    raise exception using
      errcode = 'PT403',
      message = 'no invitation this account can accept here',
      hint = 'Sign in with a link or code sent to your address after the invitation was made, then accept again.';
  end if;

  insert into public.tenant_members as m (tenant_id, user_id, role)
  values (p_tenant_id, v_uid, v_inv.role)
  on conflict (tenant_id, user_id) do update
    set role = excluded.role
    where array_position(array['member', 'admin', 'owner'], excluded.role)
        > array_position(array['member', 'admin', 'owner'], m.role);
  select m.role into v_role from public.tenant_members m where m.tenant_id = p_tenant_id and m.user_id = v_uid;
  update public.tenant_invitations
  set accepted_at = now(), accepted_by = v_uid, proof_method = v_proof
  where tenant_id = p_tenant_id and id = v_inv.id;
  return json_build_object('tenant_id', p_tenant_id, 'role', v_role);
end
$$;
comment on function public.accept_invitation(uuid) is
  'The caller accepts their pending invitation to a tenant; needs a mailbox proof (amr) newer than the invitation.';

revoke all on function tenancy.mailbox_proof(jsonb, timestamptz, boolean) from public;
revoke all on function public.accept_invitation(uuid) from public, anon;
grant execute on function public.accept_invitation(uuid) to authenticated;
