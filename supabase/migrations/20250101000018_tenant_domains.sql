-- 018 a tenant holds several hostnames (issue 14: a domain change serves old and new until the new one
-- is active; several custom domains per tenant).
--
-- public.tenant_domains lists every hostname of a tenant with what Cloudflare for SaaS last said of it
-- (the admin service writes it; clients only read their own tenant's). tenants.custom_domain stays the
-- tenant's PRIMARY hostname, and a trigger keeps it among the tenant's domains: setting it adds that
-- hostname (active), changing it replaces the old primary row, clearing it removes it — exactly what
-- routing did before 018, so tools and routers that only know custom_domain keep working.
-- resolve_tenant(p_domain) matches any routable hostname of the table (not only the primary) and the
-- record gains "domains", the tenant's routable hostnames, primary first (an older router ignores it).
-- A tenant has at most 50 hostnames, so its routing record stays far below the router's 64 KiB cap.

create table public.tenant_domains (
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  -- Stored lowercase, no port, no trailing dot (as tenants.custom_domain).
  hostname text not null
    constraint tenant_domains_hostname_format check (
      length(hostname) <= 253
      and hostname ~ '^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$'
    ),
  -- Cloudflare's custom hostname status (pending, active, active_redeploying, moved, deleted, blocked, …).
  status text not null default 'pending' constraint tenant_domains_status_format check (status ~ '^[a-z_]{1,40}$'),
  -- Cloudflare's certificate status (initializing, pending_validation, …, active, *_timed_out); null: not asked yet.
  ssl_status text constraint tenant_domains_ssl_status_format check (ssl_status ~ '^[a-z_]{1,40}$'),
  -- The DNS/TXT/HTTP records the customer must set, as Cloudflare lists them.
  verification jsonb not null default '[]'::jsonb constraint tenant_domains_verification_array check (jsonb_typeof(verification) = 'array'),
  cloudflare_id text unique,
  checked_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (tenant_id, hostname),
  constraint tenant_domains_hostname_key unique (hostname)
);
comment on table public.tenant_domains is 'Every hostname of a tenant and its Cloudflare for SaaS state; tenants.custom_domain is the primary one.';
alter table public.tenant_domains enable row level security;
alter table public.tenant_domains force row level security;
revoke all on public.tenant_domains from anon;
revoke insert, update, delete, truncate, references, trigger on public.tenant_domains from authenticated;

create policy tenant_domains_select on public.tenant_domains for select to authenticated
  using (tenant_id = (select tenancy.current_tenant_id()));
create policy tenant_domains_insert on public.tenant_domains for insert to authenticated with check (false);
create policy tenant_domains_update on public.tenant_domains for update to authenticated using (false) with check (false);
create policy tenant_domains_delete on public.tenant_domains for delete to authenticated using (false);

create trigger tenant_domains_touch_updated_at before update on public.tenant_domains
  for each row execute function tenancy.touch_updated_at();
create trigger tenant_audit after insert or update or delete on public.tenant_domains
  for each row execute function tenancy.audit_row_change('tenant_id', 'tenant_id', 'hostname');

-- Which hostname states route: all but those Cloudflare no longer serves for the tenant.
create or replace function tenancy.domain_routes(p_status text) returns boolean
language sql immutable parallel safe
as $$
  select p_status operator(pg_catalog.<>) all (array['moved', 'deleted', 'blocked', 'pending_deletion', 'pending_blocked'])
$$;
revoke all on function tenancy.domain_routes(text) from public;
grant execute on function tenancy.domain_routes(text) to authenticated, service_role;

-- At most 50 hostnames a tenant (serialised on the tenant's row, so two inserts cannot both take the last).
create or replace function tenancy.limit_tenant_domains() returns trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  perform 1 from public.tenants t where t.id = new.tenant_id for update;
  if (select count(*) from public.tenant_domains d where d.tenant_id = new.tenant_id) >= 50 then
    raise exception using
      errcode = '23514',
      message = 'a tenant has at most 50 hostnames',
      hint = 'Remove a hostname the tenant no longer uses first.';
  end if;
  return new;
end
$$;
revoke all on function tenancy.limit_tenant_domains() from public;
create trigger tenant_domains_limit before insert on public.tenant_domains
  for each row execute function tenancy.limit_tenant_domains();

-- tenants.custom_domain -> its primary row in tenant_domains (the routing it always meant).
create or replace function tenancy.mirror_primary_domain() returns trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  if tg_op = 'UPDATE' and old.custom_domain is not null and old.custom_domain is distinct from new.custom_domain then
    delete from public.tenant_domains d where d.tenant_id = new.id and d.hostname = old.custom_domain;
  end if;
  if new.custom_domain is not null and (tg_op = 'INSERT' or old.custom_domain is distinct from new.custom_domain) then
    insert into public.tenant_domains as d (tenant_id, hostname, status)
    values (new.id, new.custom_domain, 'active')
    on conflict (tenant_id, hostname) do update set status = 'active';
  end if;
  return null;
end
$$;
revoke all on function tenancy.mirror_primary_domain() from public;
create trigger tenants_mirror_primary_domain after insert or update of custom_domain on public.tenants
  for each row execute function tenancy.mirror_primary_domain();

-- Backfill: every existing custom domain was routing, so it is active.
insert into public.tenant_domains (tenant_id, hostname, status)
select t.id, t.custom_domain, 'active' from public.tenants t where t.custom_domain is not null
on conflict do nothing;

-- The routing record (SPEC §3) with "domains"; the placement stays as 010 renders it until 022.
create or replace function tenancy.routing_record(p_tenant public.tenants, p_placement json) returns json
language sql stable security definer
set search_path = ''
as $$
  select json_build_object(
    'id', p_tenant.id,
    'slug', p_tenant.slug,
    'name', p_tenant.name,
    'status', p_tenant.status,
    'custom_domain', p_tenant.custom_domain,
    'domains', coalesce((
      select json_agg(d.hostname order by d.hostname is distinct from p_tenant.custom_domain, d.hostname)
      from public.tenant_domains d
      where d.tenant_id = p_tenant.id and tenancy.domain_routes(d.status)), '[]'::json),
    'signup', p_tenant.signup,
    'branding', p_tenant.branding,
    'placement', p_placement
  )
$$;
revoke all on function tenancy.routing_record(public.tenants, json) from public;

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
    select t.* into v_tenant
    from public.tenant_domains d join public.tenants t on t.id = d.tenant_id
    where d.hostname = rtrim(lower(btrim(p_domain)), '.') and tenancy.domain_routes(d.status);
  end if;
  if v_tenant.id is null then
    return null;
  end if;
  return tenancy.routing_record(v_tenant,
    case when v_tenant.placement_project is null then null
         else json_build_object('project', v_tenant.placement_project) end);
end
$$;
