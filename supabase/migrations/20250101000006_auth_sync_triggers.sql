-- 006 auth.users -> public.users and memberships.
--
-- Anyone can call Supabase Auth directly with any user metadata, so these triggers trust nothing but:
--   * raw_user_meta_data.tenant_id (stamped by the router on sign-up) names a tenant; the user joins
--     it as 'member' only if that tenant exists, is active, and its sign-up is open;
--   * a pending invitation for the user's address gives its role, but only once the address is
--     confirmed (at insert when Auth already confirmed it, else on the update that confirms it):
--     otherwise anyone could sign up with an invited address and take the seat.
-- A sign-up never fails because of metadata: a bad or closed tenant gives a profile and no
-- membership (Supabase Auth would otherwise answer "Database error saving new user").
-- Anonymous users (is_anonymous) get a profile, never a membership.
-- Deletion: public.users references auth.users on delete cascade, and memberships cascade from it.

create or replace function tenancy.profile_name(p_meta jsonb) returns text
language sql immutable
set search_path = ''
as $$
  select left(coalesce(nullif(btrim(p_meta ->> 'full_name'), ''), nullif(btrim(p_meta ->> 'name'), '')), 200)
$$;

create or replace function tenancy.profile_avatar(p_meta jsonb) returns text
language sql immutable
set search_path = ''
as $$
  select left(nullif(btrim(coalesce(p_meta ->> 'avatar_url', p_meta ->> 'picture')), ''), 2000)
$$;

-- Turn the pending invitations for a confirmed address into memberships.
create or replace function tenancy.accept_invitations(p_user_id uuid, p_email text) returns void
language plpgsql security definer
set search_path = ''
as $$
declare
  v_inv record;
begin
  if p_email is null or p_user_id is null then
    return;
  end if;
  for v_inv in
    select i.tenant_id, i.id, i.role
    from public.tenant_invitations i
    where i.email = lower(p_email) and i.accepted_at is null and i.expires_at > now()
    order by i.created_at
    for update
  loop
    begin
      insert into public.tenant_members (tenant_id, user_id, role)
      values (v_inv.tenant_id, p_user_id, v_inv.role)
      on conflict (tenant_id, user_id) do nothing;
      update public.tenant_invitations
      set accepted_at = now(), accepted_by = p_user_id
      where tenant_id = v_inv.tenant_id and id = v_inv.id;
    exception when others then
      -- e.g. the tenant's plan is full: keep the invitation pending, never fail the Auth request.
      raise warning 'invitation % to tenant % not accepted: % (%)', v_inv.id, v_inv.tenant_id, sqlerrm, sqlstate;
    end;
  end loop;
end
$$;

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

  if new.email_confirmed_at is not null then
    perform tenancy.accept_invitations(new.id, new.email);
  end if;
  return null;
end
$$;

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

  -- The address was just confirmed, or a confirmed account changed to a new address.
  if new.email_confirmed_at is not null
     and (old.email_confirmed_at is null or new.email is distinct from old.email) then
    perform tenancy.accept_invitations(new.id, new.email);
  end if;
  return null;
end
$$;

revoke all on function tenancy.profile_name(jsonb), tenancy.profile_avatar(jsonb),
  tenancy.accept_invitations(uuid, text), tenancy.handle_auth_user_created(),
  tenancy.handle_auth_user_updated() from public;

drop trigger if exists on_auth_user_created on auth.users;
create trigger on_auth_user_created after insert on auth.users
  for each row execute function tenancy.handle_auth_user_created();

drop trigger if exists on_auth_user_updated on auth.users;
create trigger on_auth_user_updated
  after update of email, phone, raw_user_meta_data, email_confirmed_at on auth.users
  for each row execute function tenancy.handle_auth_user_updated();
