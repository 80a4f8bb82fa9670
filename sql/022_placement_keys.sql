-- rollout: contract
-- 022 resolve_tenant publishes no internal name (issue 10 item 6).
--
-- resolve_tenant is callable by anyone; until 021 it returned `"placement": {"project": "<name>"}`,
-- the operator's internal name of a dedicated project. Each project now has an opaque random key
-- (tenancy.placement_keys, made when a tenant is first placed there) and the record carries
-- `"placement": {"key": "pk_…"}`. The router finds the DEDICATED_PROJECTS entry whose "key" is that
-- value (`select project, key from tenancy.placement_keys` gives the keys to configure).
--
-- Contract migration: apply it after the router that reads both shapes is deployed (a router from
-- before it only understands {"project"}); see README "Deploy".

create table tenancy.placement_keys (
  project text primary key,
  key text not null unique default 'pk_' || replace(gen_random_uuid()::text, '-', '')
);
revoke all on tenancy.placement_keys from public, anon, authenticated, service_role;
insert into tenancy.placement_keys (project)
select distinct t.placement_project from public.tenants t where t.placement_project is not null
on conflict (project) do nothing;

create or replace function tenancy.ensure_placement_key() returns trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  if new.placement_project is not null then
    insert into tenancy.placement_keys (project) values (new.placement_project) on conflict (project) do nothing;
  end if;
  return null;
end
$$;
revoke all on function tenancy.ensure_placement_key() from public;
create trigger tenants_ensure_placement_key after insert or update of placement_project on public.tenants
  for each row execute function tenancy.ensure_placement_key();

create or replace function public.resolve_tenant(p_slug text default null, p_domain text default null)
returns json
language plpgsql stable security definer
set search_path = ''
as $$
declare
  v_tenant public.tenants := tenancy.find_tenant(p_slug, p_domain);
begin
  if v_tenant.id is null then
    return null;
  end if;
  return tenancy.routing_record(v_tenant,
    case when v_tenant.placement_project is null then null
         else json_build_object('key', (select k.key from tenancy.placement_keys k
                                        where k.project = v_tenant.placement_project)) end);
end
$$;
