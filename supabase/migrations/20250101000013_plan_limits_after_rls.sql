-- 013 plan limits say nothing to a non-member (SPEC §6).
--
-- PostgreSQL runs BEFORE ROW triggers before row level security's WITH CHECK. Until 012 the plan-limit
-- trigger (008) therefore answered a stranger's insert into another tenant with PT402, naming that
-- tenant's plan and whether it is at its limit. Now the trigger only checks a limit for a caller who
-- is writing into the request's own tenant, or who bypasses RLS (the platform, and SECURITY DEFINER
-- functions such as accept_invitation); any other caller's row is left to RLS, which refuses it with
-- its usual 42501, exactly as it refuses a write into a tenant without limits.
--
-- The trigger runs as the caller (to ask about the caller); counting and locking run in a SECURITY
-- DEFINER helper so the count sees every row of the tenant whatever the table's select policy.
-- That helper is in the tenancy schema, which the API does not expose.

create or replace function tenancy.check_plan_limit(p_tenant uuid, p_limit text, p_table regclass) returns void
language plpgsql security definer
set search_path = ''
as $$
declare
  v_limit integer;
  v_count bigint;
  v_plan text;
begin
  v_limit := tenancy.tenant_limit(p_tenant, p_limit);
  if v_limit is null then
    return;
  end if;
  perform pg_catalog.pg_advisory_xact_lock(
    pg_catalog.hashtextextended('tenancy.plan_limit:' || p_limit || ':' || p_tenant::text, 0));
  execute format('select count(*) from %s where tenant_id = $1', p_table) into v_count using p_tenant;
  if v_count >= v_limit then
    select s.plan_id into v_plan from public.tenant_subscriptions s where s.tenant_id = p_tenant;
    raise exception using
      errcode = 'PT402',
      message = format('plan limit reached: %s (%s of %s)', p_limit, v_count, v_limit),
      detail = format('tenant %s on plan %s', p_tenant, v_plan),
      hint = 'Upgrade the tenant''s subscription plan to raise this limit.';
  end if;
end
$$;

create or replace function tenancy.enforce_plan_limit() returns trigger
language plpgsql security invoker
set search_path = ''
as $$
begin
  if not tenancy.caller_bypasses_rls()
     and new.tenant_id is distinct from (select tenancy.current_tenant_id()) then
    return new; -- not the caller's tenant: RLS's WITH CHECK refuses the row next
  end if;
  perform tenancy.check_plan_limit(new.tenant_id, tg_argv[0], tg_relid::regclass);
  return new;
end
$$;

revoke all on function tenancy.check_plan_limit(uuid, text, regclass), tenancy.enforce_plan_limit() from public;
grant execute on function tenancy.check_plan_limit(uuid, text, regclass) to authenticated, service_role;
