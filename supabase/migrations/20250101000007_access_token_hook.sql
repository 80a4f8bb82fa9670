-- 007 Supabase custom access token hook: adds the user's tenants to every access token Auth mints.
--   tenant_ids:   json array of tenant uuid strings (always present, possibly empty)
--   tenant_roles: object tenant uuid -> 'owner' | 'admin' | 'member'
-- The router refuses a token whose tenant_ids lacks the host's tenant (403 tenant_mismatch); the
-- database still re-checks membership on every statement, so a stale token grants nothing.
--
-- Enabled in supabase/config.toml:
--   [auth.hook.custom_access_token]
--   enabled = true
--   uri = "pg-functions://postgres/public/custom_access_token_hook"
-- Supabase Auth calls it as supabase_auth_admin; grants as Supabase documents: execute for
-- supabase_auth_admin only, select on tenant_members, and an RLS policy for it (RLS is forced there).

create or replace function public.custom_access_token_hook(event jsonb) returns jsonb
language plpgsql stable
set search_path = ''
as $$
declare
  v_claims jsonb := case when jsonb_typeof(event -> 'claims') = 'object' then event -> 'claims' else '{}'::jsonb end;
  v_user_text text := event ->> 'user_id';
  v_ids jsonb := '[]'::jsonb;
  v_roles jsonb := '{}'::jsonb;
begin
  if v_user_text ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' then
    select coalesce(jsonb_agg(m.tenant_id::text order by m.created_at, m.tenant_id), '[]'::jsonb),
           coalesce(jsonb_object_agg(m.tenant_id::text, m.role), '{}'::jsonb)
      into v_ids, v_roles
    from public.tenant_members m
    where m.user_id = v_user_text::uuid;
  end if;

  v_claims := v_claims || jsonb_build_object('tenant_ids', v_ids, 'tenant_roles', v_roles);
  return jsonb_build_object('claims', v_claims);
end
$$;

grant usage on schema public to supabase_auth_admin;
grant execute on function public.custom_access_token_hook(jsonb) to supabase_auth_admin;
revoke execute on function public.custom_access_token_hook(jsonb) from authenticated, anon, public;

grant select on table public.tenant_members to supabase_auth_admin;
create policy tenant_members_auth_admin_select on public.tenant_members
  as permissive for select to supabase_auth_admin
  using (true);
