-- 008 plan limits, enforced by BEFORE INSERT triggers so no client (nor service_role) can skip them.
--
-- A tenant's limits come from its tenant_subscriptions row's plan; a null limit is unlimited, and a
-- tenant without a subscription row is not limited (provisioning creates one).
--
-- A limit hit raises SQLSTATE 'PT402'. PostgREST turns a 'PTxyz' SQLSTATE into HTTP status xyz, so
-- clients get 402 Payment Required with the PostgREST error body:
--   {"code": "PT402", "message": "plan limit reached: max_contacts (3 of 3)",
--    "details": "tenant <uuid> on plan <plan>", "hint": "Upgrade the tenant's subscription plan ..."}
-- Concurrent inserts for one tenant are serialised per limit by a transaction advisory lock, so two
-- requests cannot both take the last seat.

create or replace function tenancy.tenant_limit(p_tenant uuid, p_limit text) returns integer
language sql stable security definer
set search_path = ''
as $$
  select case p_limit
           when 'max_users' then p.max_users
           when 'max_contacts' then p.max_contacts
           when 'max_campaigns' then p.max_campaigns
         end
  from public.tenant_subscriptions s
  join public.subscription_plans p on p.id = s.plan_id
  where s.tenant_id = p_tenant
$$;

-- Trigger argument: the limit's name (a column of subscription_plans).
create or replace function tenancy.enforce_plan_limit() returns trigger
language plpgsql security definer
set search_path = ''
as $$
declare
  v_limit_name text := tg_argv[0];
  v_limit integer;
  v_count bigint;
  v_plan text;
begin
  v_limit := tenancy.tenant_limit(new.tenant_id, v_limit_name);
  if v_limit is null then
    return new;
  end if;
  perform pg_catalog.pg_advisory_xact_lock(
    pg_catalog.hashtextextended('tenancy.plan_limit:' || v_limit_name || ':' || new.tenant_id::text, 0));
  execute format('select count(*) from %I.%I where tenant_id = $1', tg_table_schema, tg_table_name)
    into v_count using new.tenant_id;
  if v_count >= v_limit then
    select s.plan_id into v_plan from public.tenant_subscriptions s where s.tenant_id = new.tenant_id;
    raise exception using
      errcode = 'PT402',
      message = format('plan limit reached: %s (%s of %s)', v_limit_name, v_count, v_limit),
      detail = format('tenant %s on plan %s', new.tenant_id, v_plan),
      hint = 'Upgrade the tenant''s subscription plan to raise this limit.';
  end if;
  return new;
end
$$;

revoke all on function tenancy.tenant_limit(uuid, text), tenancy.enforce_plan_limit() from public;

create trigger enforce_max_users before insert on public.tenant_members
  for each row execute function tenancy.enforce_plan_limit('max_users');
create trigger enforce_max_contacts before insert on public.contacts
  for each row execute function tenancy.enforce_plan_limit('max_contacts');
create trigger enforce_max_campaigns before insert on public.campaigns
  for each row execute function tenancy.enforce_plan_limit('max_campaigns');
