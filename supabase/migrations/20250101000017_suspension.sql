-- 017 suspension is enforced by the database (SPEC §6 "Suspension").
--
-- Until 016 only the router refused a suspended tenant's host; the tenancy helpers ignored
-- tenants.status, so its members kept full access by calling Supabase directly (or through Realtime's
-- tenant_id claim). Now a tenant that is not `active` is no tenant: current_tenant_id() never returns
-- it (header, claim or single membership), has_role()/is_member() are false for it and
-- user_tenant_ids() leaves it out, so every policy built on them — every application table, the
-- platform tables, storage — shows and accepts nothing of it. A user's own membership rows stay
-- visible to them (tenant_members_select matches user_id). Resuming (status back to `active`)
-- restores everything at the next statement. accept_invitation (011) already refuses invitations of
-- a tenant that is not active; the sign-up trigger never joined one.
--
-- Cost: one primary-key lookup of tenants joined to the membership check, once per statement.

-- Is p_user a member of p_tenant, and is that tenant active? The one place both are asked together.
-- plpgsql, like the other per-request helpers (002): it keeps its plan for the session, where a SQL
-- function with a SET clause is planned again on every call.
create or replace function tenancy.is_active_member(p_tenant uuid, p_user uuid) returns boolean
language plpgsql stable security definer
set search_path = ''
as $$
begin
  return exists (
    select 1 from public.tenant_members m
    join public.tenants t on t.id = m.tenant_id and t.status = 'active'
    where m.tenant_id = p_tenant and m.user_id = p_user
  );
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
    if v_tenant is not null and tenancy.is_active_member(v_tenant, v_uid) then
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
  if v_tenant is not null and tenancy.is_active_member(v_tenant, v_uid) then
    return v_tenant;
  end if;

  -- 3. The only membership of an active tenant.
  select array_agg(s.tenant_id) into v_ids
  from (select m.tenant_id from public.tenant_members m
        join public.tenants t on t.id = m.tenant_id and t.status = 'active'
        where m.user_id = v_uid limit 2) s;
  if cardinality(v_ids) = 1 then
    return v_ids[1];
  end if;

  return null;
end
$$;

create or replace function tenancy.has_role(p_tenant uuid, p_roles text[]) returns boolean
language plpgsql stable security definer
set search_path = ''
as $$
begin
  return exists (
    select 1 from public.tenant_members m
    join public.tenants t on t.id = m.tenant_id and t.status = 'active'
    where m.tenant_id = p_tenant
      and m.user_id = tenancy.current_user_id()
      and m.role = any (p_roles)
  );
end
$$;

create or replace function tenancy.user_tenant_ids() returns uuid[]
language plpgsql stable security definer
set search_path = ''
as $$
declare
  v_ids uuid[];
begin
  select coalesce(array_agg(m.tenant_id), '{}') into v_ids
  from public.tenant_members m
  join public.tenants t on t.id = m.tenant_id and t.status = 'active'
  where m.user_id = tenancy.current_user_id();
  return v_ids;
end
$$;

revoke all on function tenancy.is_active_member(uuid, uuid) from public;
grant execute on function tenancy.is_active_member(uuid, uuid) to authenticated, service_role;
