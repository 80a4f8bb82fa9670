-- 003 audit: an append-only trail of every change to tenant data, written by triggers so that no
-- client can skip it. Application tables get the trigger from tenancy.enable_tenant_isolation (004);
-- the platform tables get it here.
--
-- Trigger arguments: argv[0] = the column holding the tenant id, argv[1..] = primary-key columns.

create or replace function tenancy.audit_row_change() returns trigger
language plpgsql security definer
set search_path = ''
as $$
declare
  v_old jsonb;
  v_new jsonb;
  v_row jsonb;
  v_pk jsonb := '{}'::jsonb;
  v_tenant uuid;
  i integer;
begin
  if tg_op in ('UPDATE', 'DELETE') then v_old := to_jsonb(old); end if;
  if tg_op in ('INSERT', 'UPDATE') then v_new := to_jsonb(new); end if;
  if tg_op = 'UPDATE' and v_old = v_new then
    return null; -- a no-op update changes nothing worth recording
  end if;
  v_row := coalesce(v_new, v_old);
  v_tenant := tenancy.to_uuid(v_row ->> coalesce(tg_argv[0], 'tenant_id'));
  if v_tenant is null then
    return null;
  end if;
  for i in 1 .. coalesce(tg_nargs, 0) - 1 loop
    v_pk := v_pk || jsonb_build_object(tg_argv[i], v_row -> tg_argv[i]);
  end loop;

  insert into public.audit_log (tenant_id, actor_id, actor_role, action, table_name, row_pk, old_data, new_data)
  values (
    v_tenant,
    tenancy.current_user_id(),
    -- the role PostgREST/Auth switched to (SET ROLE survives SECURITY DEFINER), else the login role
    coalesce(nullif(current_setting('role', true), 'none'), session_user),
    tg_op,
    tg_table_schema || '.' || tg_table_name,
    nullif(v_pk, '{}'::jsonb),
    v_old,
    v_new
  );
  return null;
end
$$;

-- The trail is append-only for every role, service_role and table owner included.
create or replace function tenancy.audit_log_is_append_only() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  raise exception using
    errcode = '42501',
    message = 'audit_log is append-only',
    hint = 'Audit entries cannot be changed or removed.';
end
$$;

revoke all on function tenancy.audit_row_change(), tenancy.audit_log_is_append_only() from public;

create trigger audit_log_append_only before update or delete on public.audit_log
  for each row execute function tenancy.audit_log_is_append_only();
create trigger audit_log_no_truncate before truncate on public.audit_log
  for each statement execute function tenancy.audit_log_is_append_only();

create trigger tenant_audit after insert or update or delete on public.tenants
  for each row execute function tenancy.audit_row_change('id', 'id');
create trigger tenant_audit after insert or update or delete on public.tenant_members
  for each row execute function tenancy.audit_row_change('tenant_id', 'tenant_id', 'user_id');
create trigger tenant_audit after insert or update or delete on public.tenant_invitations
  for each row execute function tenancy.audit_row_change('tenant_id', 'tenant_id', 'id');
create trigger tenant_audit after insert or update or delete on public.tenant_subscriptions
  for each row execute function tenancy.audit_row_change('tenant_id', 'tenant_id');
