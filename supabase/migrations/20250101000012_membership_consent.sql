-- 012 a user joins a tenant only by their own act (SPEC §6).
--
-- Until 011 an owner or admin could insert a tenant_members row for any user id, or re-point a row's
-- user_id, and then read that user's profile (email, phone) through users_select; a foreign-key error
-- told an existing user id from a missing one. Now:
--   * clients never insert memberships: they come from public.accept_invitation (011) and from
--     sign-up on an open tenant (the auth.users trigger), both SECURITY DEFINER;
--   * clients update only a membership's role; a membership's user_id and tenant_id never change,
--     for anyone (it would be another membership: delete it and invite instead);
--   * invitations take only (tenant_id, email, role, expires_at) from a client; who invited is the
--     caller, and the acceptance columns are written by accept_invitation alone. No column a client
--     writes references a user, so no error can tell whether a uuid is one.
-- Revoked privileges fail with the same 42501 whatever the values, so nothing leaks through errors.

drop policy tenant_members_insert on public.tenant_members;
create policy tenant_members_insert on public.tenant_members for insert to authenticated
  with check (false);
revoke insert, update on public.tenant_members from authenticated;
grant update (role) on public.tenant_members to authenticated;

-- Does the current role skip row level security (the platform, or a SECURITY DEFINER function owned
-- by it)? Security invoker on purpose: it asks about whoever runs the statement.
create or replace function tenancy.caller_bypasses_rls() returns boolean
language sql stable
set search_path = ''
as $$
  select coalesce((select r.rolsuper or r.rolbypassrls from pg_catalog.pg_roles r where r.rolname = current_user), false)
$$;
revoke all on function tenancy.caller_bypasses_rls() from public;
grant execute on function tenancy.caller_bypasses_rls() to authenticated, service_role;

create or replace function tenancy.membership_identity_fixed() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if new.user_id is distinct from old.user_id or new.tenant_id is distinct from old.tenant_id then
    raise exception using
      errcode = '23514',
      message = 'a membership''s user_id and tenant_id never change',
      hint = 'Remove the membership and invite the user instead.';
  end if;
  return new;
end
$$;
revoke all on function tenancy.membership_identity_fixed() from public;
create trigger tenant_members_identity_fixed before update of user_id, tenant_id on public.tenant_members
  for each row execute function tenancy.membership_identity_fixed();

revoke insert, update on public.tenant_invitations from authenticated;
grant insert (tenant_id, email, role, expires_at) on public.tenant_invitations to authenticated;
grant update (role, expires_at) on public.tenant_invitations to authenticated;

-- A client's invitation: invited by the caller, created now, not accepted. (The column grants above
-- already refuse these columns; this keeps the rule if a grant is ever widened.)
create or replace function tenancy.invitation_from_client() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if not tenancy.caller_bypasses_rls() then
    new.invited_by := tenancy.current_user_id();
    new.created_at := now();
    new.accepted_at := null;
    new.accepted_by := null;
    new.proof_method := null;
  end if;
  return new;
end
$$;
revoke all on function tenancy.invitation_from_client() from public;
create trigger tenant_invitations_from_client before insert on public.tenant_invitations
  for each row execute function tenancy.invitation_from_client();
