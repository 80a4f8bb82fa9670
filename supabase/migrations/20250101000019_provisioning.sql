-- 019 provisioning a company in one step, as a journal (issue 14).
--
-- The admin service (its own Worker, holding the secret key) records a provisioning and its steps here
-- and answers 202; the steps run after it (ctx.waitUntil, and a Cron reconciler for anything
-- unfinished or stuck), each idempotent, each failure compensated in reverse order and recorded with
-- its cause. Everything here is the platform's: clients see none of it (RLS forced, every client
-- policy false, grants revoked), and the functions are executable by service_role only.
--
--   public.start_provisioning(key, request, steps, actor) -> the journal (a retry with the same
--       Idempotency-Key returns the first one; the same key with another request is 422)
--   public.claim_provisioning(id, lease_s)   -> the journal, leased to one runner (or null)
--   public.record_provisioning_step(id, step, status, error, detail) -> the journal
--   public.finish_provisioning(id, status, error) -> the journal
--   public.provision_tenant(tenant_id, name, slug, plan, admin_email, signup, branding, custom_domain)
--       the atomic part: tenant + subscription + the first admin's invitation (+ a pending hostname)
--       in one transaction; a retry for the same tenant id answers the same record
--   public.unprovision_tenant(tenant_id) -> compensation: removes what provision_tenant made
--
-- The tenant's id is chosen when the provisioning is recorded, so every step and retry names the same
-- tenant, and a compensation finds exactly what it must undo.

create table public.provisionings (
  id uuid primary key default gen_random_uuid(),
  idempotency_key text not null
    constraint provisionings_idempotency_key_key unique
    constraint provisionings_idempotency_key_format check (length(idempotency_key) between 1 and 255),
  -- The request as the admin service validated it, and a digest to tell a replay from a reuse.
  request jsonb not null constraint provisionings_request_object check (jsonb_typeof(request) = 'object'),
  request_digest text not null,
  -- The tenant this provisioning makes (chosen up front; the tenant row exists only after its step).
  tenant_id uuid not null default gen_random_uuid(),
  status text not null default 'pending'
    constraint provisionings_status check (status in ('pending', 'running', 'succeeded', 'compensating', 'failed')),
  error text,
  created_by uuid,
  lease_until timestamptz,
  attempts integer not null default 0,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index provisionings_tenant_id_idx on public.provisionings (tenant_id);
-- What the reconciler looks for: unfinished ones whose lease ran out.
create index provisionings_unfinished_idx on public.provisionings (lease_until) where status in ('pending', 'running', 'compensating');

create table public.provisioning_steps (
  provisioning_id uuid not null references public.provisionings (id) on delete cascade,
  ord integer not null constraint provisioning_steps_ord check (ord >= 0),
  name text not null constraint provisioning_steps_name_format check (name ~ '^[a-z0-9_]{1,64}$'),
  status text not null default 'pending'
    constraint provisioning_steps_status check (status in ('pending', 'running', 'done', 'failed', 'compensating', 'compensated', 'skipped')),
  error text,
  detail jsonb not null default '{}'::jsonb constraint provisioning_steps_detail_object check (jsonb_typeof(detail) = 'object'),
  attempts integer not null default 0,
  updated_at timestamptz not null default now(),
  primary key (provisioning_id, ord),
  constraint provisioning_steps_name_key unique (provisioning_id, name)
);

alter table public.provisionings enable row level security;
alter table public.provisionings force row level security;
alter table public.provisioning_steps enable row level security;
alter table public.provisioning_steps force row level security;
revoke all on public.provisionings, public.provisioning_steps from anon, authenticated;
create policy provisionings_select on public.provisionings for select to authenticated using (false);
create policy provisionings_insert on public.provisionings for insert to authenticated with check (false);
create policy provisionings_update on public.provisionings for update to authenticated using (false) with check (false);
create policy provisionings_delete on public.provisionings for delete to authenticated using (false);
create trigger provisionings_touch_updated_at before update on public.provisionings
  for each row execute function tenancy.touch_updated_at();
create trigger provisioning_steps_touch_updated_at before update on public.provisioning_steps
  for each row execute function tenancy.touch_updated_at();

-- The journal as the admin API shows it.
create or replace function tenancy.provisioning_json(p_id uuid) returns json
language sql stable security definer
set search_path = ''
as $$
  select json_build_object(
    'id', p.id, 'tenant_id', p.tenant_id, 'status', p.status, 'error', p.error,
    'created_at', p.created_at, 'updated_at', p.updated_at,
    'steps', coalesce((select json_agg(json_build_object('name', s.name, 'status', s.status, 'error', s.error,
                                                        'detail', s.detail, 'at', s.updated_at) order by s.ord)
                       from public.provisioning_steps s where s.provisioning_id = p.id), '[]'::json))
  from public.provisionings p where p.id = p_id
$$;

create or replace function public.start_provisioning(p_idempotency_key text, p_request jsonb, p_steps text[], p_actor uuid default null)
returns json
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  v_digest text := encode(sha256(convert_to(p_request::text, 'UTF8')), 'hex');
  v_id uuid;
  v_existing record;
begin
  if p_steps is null or cardinality(p_steps) = 0 then
    raise exception using errcode = '22023', message = 'a provisioning needs at least one step';
  end if;
  insert into public.provisionings (idempotency_key, request, request_digest, created_by)
  values (p_idempotency_key, p_request, v_digest, p_actor)
  on conflict (idempotency_key) do nothing
  returning id into v_id;
  if v_id is null then
    select p.id, p.request_digest into v_existing from public.provisionings p where p.idempotency_key = p_idempotency_key;
    if v_existing.request_digest <> v_digest then
      raise exception using
        errcode = 'PT422',
        message = 'this Idempotency-Key was used for another request',
        hint = 'Use a new Idempotency-Key for a different request.';
    end if;
    return tenancy.provisioning_json(v_existing.id);
  end if;
  insert into public.provisioning_steps (provisioning_id, ord, name)
  select v_id, s.ord - 1, s.name from unnest(p_steps) with ordinality as s(name, ord);
  return tenancy.provisioning_json(v_id);
end
$$;

-- One runner at a time: the lease is taken only when free or run out (a runner cut off mid-way loses
-- it, and the reconciler takes over).
create or replace function public.claim_provisioning(p_id uuid, p_lease_s integer default 60) returns json
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  v_id uuid;
begin
  update public.provisionings p
  set lease_until = now() + make_interval(secs => greatest(p_lease_s, 1)),
      attempts = p.attempts + 1,
      status = case when p.status = 'pending' then 'running' else p.status end
  where p.id = p_id and p.status in ('pending', 'running', 'compensating')
    and (p.lease_until is null or p.lease_until < now())
  returning p.id into v_id;
  return case when v_id is null then null else tenancy.provisioning_json(v_id) end;
end
$$;

create or replace function public.record_provisioning_step(p_id uuid, p_step text, p_status text,
                                                           p_error text default null, p_detail jsonb default null)
returns json
language plpgsql volatile security definer
set search_path = ''
as $$
begin
  update public.provisioning_steps s
  set status = p_status, error = p_error, detail = coalesce(p_detail, s.detail),
      attempts = s.attempts + case when p_status = 'running' then 1 else 0 end
  where s.provisioning_id = p_id and s.name = p_step;
  if not found then
    raise exception using errcode = 'PT404', message = format('no step %s in provisioning %s', p_step, p_id);
  end if;
  if p_status in ('compensating', 'compensated') then
    update public.provisionings set status = 'compensating' where id = p_id and status <> 'compensating';
  end if;
  return tenancy.provisioning_json(p_id);
end
$$;

create or replace function public.finish_provisioning(p_id uuid, p_status text, p_error text default null) returns json
language plpgsql volatile security definer
set search_path = ''
as $$
begin
  if p_status not in ('succeeded', 'failed') then
    raise exception using errcode = '22023', message = 'a provisioning finishes as succeeded or failed';
  end if;
  update public.provisionings set status = p_status, error = p_error, lease_until = null where id = p_id;
  if not found then
    raise exception using errcode = 'PT404', message = format('no provisioning %s', p_id);
  end if;
  return tenancy.provisioning_json(p_id);
end
$$;

-- The atomic step. The first admin is invited as owner; the hostname (if any) is added pending, and
-- becomes the primary (tenants.custom_domain) only once Cloudflare says it is active.
create or replace function public.provision_tenant(
  p_tenant_id uuid, p_name text, p_slug text, p_plan text, p_admin_email text,
  p_signup text default 'invite_only', p_branding jsonb default '{}'::jsonb, p_custom_domain text default null
) returns json
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  v_tenant public.tenants;
begin
  select * into v_tenant from public.tenants t where t.id = p_tenant_id;
  if v_tenant.id is not null then
    if v_tenant.slug is distinct from lower(p_slug) then
      raise exception using errcode = '23505', message = format('tenant %s exists with another slug', p_tenant_id);
    end if;
    return tenancy.routing_record(v_tenant, null); -- a retry of the same step
  end if;
  insert into public.tenants (id, slug, name, signup, branding)
  values (p_tenant_id, lower(p_slug), p_name, coalesce(p_signup, 'invite_only'), coalesce(p_branding, '{}'::jsonb))
  returning * into v_tenant;
  insert into public.tenant_subscriptions (tenant_id, plan_id, status) values (p_tenant_id, p_plan, 'active');
  insert into public.tenant_invitations (tenant_id, email, role) values (p_tenant_id, lower(btrim(p_admin_email)), 'owner');
  if p_custom_domain is not null then
    insert into public.tenant_domains (tenant_id, hostname) values (p_tenant_id, rtrim(lower(btrim(p_custom_domain)), '.'));
  end if;
  return tenancy.routing_record(v_tenant, null);
end
$$;

-- Compensation of provision_tenant: the tenant and everything that cascades from it. Refuses a
-- tenant that already has members (someone accepted: that is no longer a half-made provisioning).
create or replace function public.unprovision_tenant(p_tenant_id uuid) returns boolean
language plpgsql volatile security definer
set search_path = ''
as $$
begin
  if exists (select 1 from public.tenant_members m where m.tenant_id = p_tenant_id) then
    raise exception using
      errcode = 'PT409',
      message = 'the tenant has members: not a half-made provisioning',
      hint = 'Delete the tenant through the lifecycle API instead.';
  end if;
  delete from public.tenants where id = p_tenant_id;
  return found;
end
$$;

revoke all on function tenancy.provisioning_json(uuid) from public;
revoke all on function public.start_provisioning(text, jsonb, text[], uuid), public.claim_provisioning(uuid, integer),
  public.record_provisioning_step(uuid, text, text, text, jsonb), public.finish_provisioning(uuid, text, text),
  public.provision_tenant(uuid, text, text, text, text, text, jsonb, text), public.unprovision_tenant(uuid)
  from public, anon, authenticated;
grant execute on function public.start_provisioning(text, jsonb, text[], uuid), public.claim_provisioning(uuid, integer),
  public.record_provisioning_step(uuid, text, text, text, jsonb), public.finish_provisioning(uuid, text, text),
  public.provision_tenant(uuid, text, text, text, text, text, jsonb, text), public.unprovision_tenant(uuid)
  to service_role;
