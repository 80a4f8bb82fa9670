-- 021 OAuth sign-ins join the tenant they came back to (issue 17, item 4).
--
-- An OAuth provider creates the Auth user at GoTrue's callback, where the router cannot stamp the
-- tenant into the metadata as it does on /signup and /otp: the new user has a profile and no
-- membership. The signed return (router, AUTH_RETURN_HOST) brings the browser back to the exact
-- tenant host the sign-in started on; the app then calls, on that host,
--   POST /rest/v1/rpc/join_tenant_after_oauth   {}
-- and the tenant is the router's x-tenant-id for that host. It joins only:
--   * a user created by an OAuth provider (app metadata `provider` neither email nor phone), not
--     anonymous, within the last 24 hours (the signed return's lifetime);
--   * who belongs to no tenant and never joined this way (once per user, recorded);
--   * a tenant that is active with open sign-up: on an invite-only tenant OAuth creates no
--     membership (the router refuses OAuth there anyway).
-- A caller who forges x-tenant-id by calling Supabase directly can only join an open tenant, which
-- signing up there would give them too. Every refusal is the same PT403.
create table if not exists tenancy.oauth_joins (
  user_id uuid primary key references auth.users (id) on delete cascade,
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  joined_at timestamptz not null default now()
);
alter table tenancy.oauth_joins enable row level security;
alter table tenancy.oauth_joins force row level security;
revoke all on tenancy.oauth_joins from public, anon, authenticated;

create or replace function public.join_tenant_after_oauth() returns json
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  v_uid uuid := tenancy.current_user_id();
  v_headers jsonb;
  v_tenant uuid;
  v_user record;
begin
  begin
    v_headers := nullif(current_setting('request.headers', true), '')::jsonb;
    v_tenant := (v_headers ->> 'x-tenant-id')::uuid;
  exception when others then
    v_tenant := null;
  end;
  select coalesce(u.raw_app_meta_data ->> 'provider', '') as provider,
         coalesce(u.is_anonymous, false) as anonymous, u.created_at
    into v_user
  from auth.users u where u.id = v_uid;
  if v_uid is null or v_tenant is null or not found
     or v_user.provider in ('', 'email', 'phone') or v_user.anonymous
     or v_user.created_at < now() - interval '24 hours'
     or exists (select 1 from public.tenant_members m where m.user_id = v_uid)
     or exists (select 1 from tenancy.oauth_joins j where j.user_id = v_uid)
     or not exists (select 1 from public.tenants t
                    where t.id = v_tenant and t.status = 'active' and t.signup = 'open') then
    raise exception using
      errcode = 'PT403',
      message = 'this account cannot join this tenant',
      hint = 'Sign up on the tenant''s own site, or ask for an invitation.';
  end if;
  insert into tenancy.oauth_joins (user_id, tenant_id) values (v_uid, v_tenant);
  insert into public.tenant_members (tenant_id, user_id, role) values (v_tenant, v_uid, 'member');
  return json_build_object('tenant_id', v_tenant, 'role', 'member');
end
$$;
comment on function public.join_tenant_after_oauth() is
  'A user just created by an OAuth provider joins the open tenant of the host they came back to, once.';
revoke all on function public.join_tenant_after_oauth() from public, anon;
grant execute on function public.join_tenant_after_oauth() to authenticated;
