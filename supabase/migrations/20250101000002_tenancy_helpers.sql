-- 002 tenancy helpers: who is asking, which tenant the request is for, and which role they hold
-- there; then the policies of the platform tables built on them.
--
-- Contract (SPEC §3), evaluated once per statement because policies call it as
-- `(select tenancy.current_tenant_id())`:
--   1. request header x-tenant-id (PostgREST's `request.headers` GUC), set by the router:
--      that tenant if auth.uid() is a member of it, else NULL. A header that is present but
--      malformed or names a tenant the user is not in gives NULL; it never falls back to anything.
--   2. no header: a `tenant_id` claim in `request.jwt.claims` (Realtime sends no headers), if the
--      user is a member of it;
--   3. else the user's only membership;
--   4. else NULL, which matches no row.
-- Never raises, whatever the header or claims hold.
--
-- The helpers are SECURITY DEFINER so that they read tenant_members without going through its own
-- policies (no recursion), STABLE, with an empty search_path and fully qualified names.

-- Cost matters: a policy calls the helper once per statement, so it must stay in the microseconds.
-- plpgsql keeps its query plans for the session; SQL functions with a SET clause cannot be inlined
-- and are re-planned on every call (measured ~30 us each), so none of the per-request helpers is one.

-- text -> uuid, or NULL when it is not a uuid (never raises). Inlinable: no SET clause, built-in
-- operators named explicitly.
create or replace function tenancy.to_uuid(p_value text) returns uuid
language sql immutable parallel safe
as $$
  select case
    when p_value operator(pg_catalog.~*) '^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$'
    then p_value::pg_catalog.uuid
  end
$$;

-- auth.uid() that never raises: the `sub` of the request's JWT claims, or NULL.
create or replace function tenancy.current_user_id() returns uuid
language plpgsql stable
set search_path = ''
as $$
begin
  return coalesce(nullif(current_setting('request.jwt.claim.sub', true), ''),
                  nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')::uuid;
exception when others then
  return null; -- malformed claims or a non-uuid sub: nobody
end
$$;

create or replace function tenancy.current_tenant_id() returns uuid
language plpgsql stable security definer
set search_path = ''
as $$
declare
  v_claims jsonb;
  v_headers jsonb;
  v_uid uuid;
  v_has_header boolean;
  v_tenant uuid;
  v_ids uuid[];
begin
  -- Parse everything the request carries in one guarded block: a malformed GUC, a non-uuid sub or a
  -- non-uuid header means no tenant, never an error. (One exception block and plain casts measured
  -- ~12 us cheaper per call than regex checks.)
  begin
    v_claims := nullif(current_setting('request.jwt.claims', true), '')::jsonb;
    v_headers := nullif(current_setting('request.headers', true), '')::jsonb;
    if v_headers is not null and jsonb_typeof(v_headers) <> 'object' then
      return null; -- not what PostgREST sets: trust nothing
    end if;
    v_uid := coalesce(nullif(current_setting('request.jwt.claim.sub', true), ''), v_claims ->> 'sub')::uuid;
    v_has_header := coalesce(v_headers ? 'x-tenant-id', false);
    if v_has_header then
      v_tenant := (v_headers ->> 'x-tenant-id')::uuid;
    end if;
  exception when others then
    return null;
  end;
  if v_uid is null then
    return null;
  end if;

  -- 1. The router's header decides whenever it is present.
  if v_has_header then
    if v_tenant is not null and exists (
      select 1 from public.tenant_members m where m.tenant_id = v_tenant and m.user_id = v_uid
    ) then
      return v_tenant;
    end if;
    return null;
  end if;

  -- 2. A tenant_id claim, if the user is a member.
  begin
    v_tenant := (v_claims ->> 'tenant_id')::uuid;
  exception when others then
    v_tenant := null;
  end;
  if v_tenant is not null and exists (
    select 1 from public.tenant_members m where m.tenant_id = v_tenant and m.user_id = v_uid
  ) then
    return v_tenant;
  end if;

  -- 3. The only membership.
  select array_agg(s.tenant_id) into v_ids
  from (select m.tenant_id from public.tenant_members m where m.user_id = v_uid limit 2) s;
  if cardinality(v_ids) = 1 then
    return v_ids[1];
  end if;

  return null;
end
$$;
comment on function tenancy.current_tenant_id() is
  'The tenant of the current request (header x-tenant-id, else tenant_id claim, else single membership), only if the user is a member; else NULL. Call it as (select tenancy.current_tenant_id()).';

-- The current user's role in the current tenant, or NULL.
create or replace function tenancy.current_tenant_role() returns text
language plpgsql stable security definer
set search_path = ''
as $$
declare
  v_role text;
begin
  select m.role into v_role
  from public.tenant_members m
  where m.tenant_id = tenancy.current_tenant_id()
    and m.user_id = tenancy.current_user_id();
  return v_role;
end
$$;

-- Does the current user hold one of p_roles in p_tenant?
create or replace function tenancy.has_role(p_tenant uuid, p_roles text[]) returns boolean
language plpgsql stable security definer
set search_path = ''
as $$
begin
  return exists (
    select 1 from public.tenant_members m
    where m.tenant_id = p_tenant
      and m.user_id = tenancy.current_user_id()
      and m.role = any (p_roles)
  );
end
$$;

-- Is the current user a member of p_tenant (any role)?
create or replace function tenancy.is_member(p_tenant uuid) returns boolean
language plpgsql stable security definer
set search_path = ''
as $$
begin
  return tenancy.has_role(p_tenant, array['owner', 'admin', 'member']);
end
$$;

-- Every tenant the current user belongs to.
create or replace function tenancy.user_tenant_ids() returns uuid[]
language plpgsql stable security definer
set search_path = ''
as $$
declare
  v_ids uuid[];
begin
  select coalesce(array_agg(m.tenant_id), '{}') into v_ids
  from public.tenant_members m
  where m.user_id = tenancy.current_user_id();
  return v_ids;
end
$$;

-- Generic updated_at maintenance.
create or replace function tenancy.touch_updated_at() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  new.updated_at := now();
  return new;
end
$$;

revoke all on function tenancy.to_uuid(text), tenancy.current_user_id(), tenancy.current_tenant_id(),
  tenancy.current_tenant_role(), tenancy.has_role(uuid, text[]), tenancy.is_member(uuid),
  tenancy.user_tenant_ids(), tenancy.touch_updated_at() from public;
grant execute on function tenancy.to_uuid(text), tenancy.current_user_id(), tenancy.current_tenant_id(),
  tenancy.current_tenant_role(), tenancy.has_role(uuid, text[]), tenancy.is_member(uuid),
  tenancy.user_tenant_ids() to authenticated, service_role;

-- ----- defaults and housekeeping that need the helpers -----------------------------------------------
alter table public.tenant_invitations alter column tenant_id set default tenancy.current_tenant_id();

create trigger tenants_touch_updated_at before update on public.tenants
  for each row execute function tenancy.touch_updated_at();
create trigger users_touch_updated_at before update on public.users
  for each row execute function tenancy.touch_updated_at();
create trigger tenant_subscriptions_touch_updated_at before update on public.tenant_subscriptions
  for each row execute function tenancy.touch_updated_at();

-- ----- policies of the platform tables ---------------------------------------------------------------
-- tenants: a member sees the tenants they belong to; owners and admins may rename/re-brand (column
-- grants in 001 limit which columns). Creating and deleting tenants is the platform's job.
create policy tenants_select on public.tenants for select to authenticated
  using (id = any ((select tenancy.user_tenant_ids())::uuid[]));
create policy tenants_update on public.tenants for update to authenticated
  using (tenancy.has_role(id, array['owner', 'admin']))
  with check (tenancy.has_role(id, array['owner', 'admin']));

-- users: your own profile, and the profiles of the members of the current tenant.
create policy users_select on public.users for select to authenticated
  using (
    id = (select tenancy.current_user_id())
    or exists (
      select 1 from public.tenant_members m
      where m.user_id = users.id and m.tenant_id = (select tenancy.current_tenant_id())
    )
  );
create policy users_update on public.users for update to authenticated
  using (id = (select tenancy.current_user_id()))
  with check (id = (select tenancy.current_user_id()));

-- tenant_members: the current tenant's roster, plus your own memberships everywhere. Owners and
-- admins manage the roster of the current tenant; only owners grant or touch the owner role. Anyone
-- may leave a tenant.
create policy tenant_members_select on public.tenant_members for select to authenticated
  using (
    tenant_id = (select tenancy.current_tenant_id())
    or user_id = (select tenancy.current_user_id())
  );
create policy tenant_members_insert on public.tenant_members for insert to authenticated
  with check (
    tenant_id = (select tenancy.current_tenant_id())
    and (select tenancy.current_tenant_role()) in ('owner', 'admin')
    and (role <> 'owner' or (select tenancy.current_tenant_role()) = 'owner')
  );
create policy tenant_members_update on public.tenant_members for update to authenticated
  using (
    tenant_id = (select tenancy.current_tenant_id())
    and (select tenancy.current_tenant_role()) in ('owner', 'admin')
    and (role <> 'owner' or (select tenancy.current_tenant_role()) = 'owner')
  )
  with check (
    tenant_id = (select tenancy.current_tenant_id())
    and (select tenancy.current_tenant_role()) in ('owner', 'admin')
    and (role <> 'owner' or (select tenancy.current_tenant_role()) = 'owner')
  );
create policy tenant_members_delete on public.tenant_members for delete to authenticated
  using (
    user_id = (select tenancy.current_user_id())
    or (
      tenant_id = (select tenancy.current_tenant_id())
      and (select tenancy.current_tenant_role()) in ('owner', 'admin')
      and (role <> 'owner' or (select tenancy.current_tenant_role()) = 'owner')
    )
  );

-- tenant_invitations: owners and admins of the current tenant.
create policy tenant_invitations_select on public.tenant_invitations for select to authenticated
  using (
    tenant_id = (select tenancy.current_tenant_id())
    and (select tenancy.current_tenant_role()) in ('owner', 'admin')
  );
create policy tenant_invitations_insert on public.tenant_invitations for insert to authenticated
  with check (
    tenant_id = (select tenancy.current_tenant_id())
    and (select tenancy.current_tenant_role()) in ('owner', 'admin')
    and (role <> 'owner' or (select tenancy.current_tenant_role()) = 'owner')
  );
create policy tenant_invitations_update on public.tenant_invitations for update to authenticated
  using (
    tenant_id = (select tenancy.current_tenant_id())
    and (select tenancy.current_tenant_role()) in ('owner', 'admin')
  )
  with check (
    tenant_id = (select tenancy.current_tenant_id())
    and (select tenancy.current_tenant_role()) in ('owner', 'admin')
    and (role <> 'owner' or (select tenancy.current_tenant_role()) = 'owner')
  );
create policy tenant_invitations_delete on public.tenant_invitations for delete to authenticated
  using (
    tenant_id = (select tenancy.current_tenant_id())
    and (select tenancy.current_tenant_role()) in ('owner', 'admin')
  );

-- subscription_plans: a public price list.
create policy subscription_plans_select on public.subscription_plans for select to anon, authenticated
  using (true);

-- tenant_subscriptions: members read their tenant's plan; only the platform (service_role, which
-- bypasses RLS) changes it. The write policies say so explicitly rather than by omission.
create policy tenant_subscriptions_select on public.tenant_subscriptions for select to authenticated
  using (tenant_id = (select tenancy.current_tenant_id()));
create policy tenant_subscriptions_insert on public.tenant_subscriptions for insert to authenticated
  with check (false);
create policy tenant_subscriptions_update on public.tenant_subscriptions for update to authenticated
  using (false) with check (false);
create policy tenant_subscriptions_delete on public.tenant_subscriptions for delete to authenticated
  using (false);

-- audit_log: owners and admins read their tenant's trail; only triggers write it (003).
create policy audit_log_select on public.audit_log for select to authenticated
  using (
    tenant_id = (select tenancy.current_tenant_id())
    and (select tenancy.current_tenant_role()) in ('owner', 'admin')
  );
create policy audit_log_insert on public.audit_log for insert to authenticated with check (false);
create policy audit_log_update on public.audit_log for update to authenticated using (false) with check (false);
create policy audit_log_delete on public.audit_log for delete to authenticated using (false);
