-- 010 the router's directory lookup (SPEC §3):
--   POST /rest/v1/rpc/resolve_tenant {"p_slug": "acme"}  or  {"p_domain": "crm.acme.com"}
-- Callable by anon. Returns exactly the public routing record, the shape of the router's static
-- directory, or null:
--   {"id", "slug", "name", "status": "active"|"suspended", "custom_domain": text|null,
--    "signup": "open"|"invite_only", "branding": {...}, "placement": null | {"project": "<name>"}}
-- Slug and domain match case-insensitively (they are stored lowercase; a trailing dot on the domain
-- is ignored). Suspended tenants are returned with their status: the router answers 403 for them.
-- The router sends one of the two arguments; if both are given the slug wins.

create or replace function public.resolve_tenant(p_slug text default null, p_domain text default null)
returns json
language plpgsql stable security definer
set search_path = ''
as $$
declare
  v_tenant public.tenants;
begin
  if p_slug is not null then
    select * into v_tenant from public.tenants t where t.slug = lower(btrim(p_slug));
  elsif p_domain is not null then
    select * into v_tenant from public.tenants t where t.custom_domain = rtrim(lower(btrim(p_domain)), '.');
  end if;
  if v_tenant.id is null then
    return null;
  end if;
  return json_build_object(
    'id', v_tenant.id,
    'slug', v_tenant.slug,
    'name', v_tenant.name,
    'status', v_tenant.status,
    'custom_domain', v_tenant.custom_domain,
    'signup', v_tenant.signup,
    'branding', v_tenant.branding,
    'placement', case when v_tenant.placement_project is null then null
                      else json_build_object('project', v_tenant.placement_project) end
  );
end
$$;
comment on function public.resolve_tenant(text, text) is
  'Public routing record of a tenant by slug or custom domain, for the edge router; null when unknown.';

revoke all on function public.resolve_tenant(text, text) from public;
grant execute on function public.resolve_tenant(text, text) to anon, authenticated, service_role;
