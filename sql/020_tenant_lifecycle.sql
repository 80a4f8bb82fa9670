-- 020 suspend, resume, delete and purge a tenant, in the database (issue 15).
--
-- For the admin service (service role only), each attributed to the platform admin who asked:
--   public.suspend_tenant(tenant, actor) / public.resume_tenant(tenant, actor)
--   public.delete_tenant(tenant, actor, hold)  soft delete: status 'deleted' (the tenancy helpers of
--       017 already treat it as no tenant), resolve_tenant stops finding it at once (an older router
--       then answers 404 as for any unknown host), and a purge is due after the hold (30 days)
--   public.purge_tenant(tenant, actor, override)  after the hold, or with the override: removes every
--       row of the tenant in every table of public that has tenant_id (found from the catalog, so a
--       table added later is covered) and the tenant; keeps its audit trail, redacted of personal
--       data; answers a report. It refuses (PT409) while storage objects of the tenant remain — the
--       admin service deletes them through the Storage API first, since deleting storage.objects rows
--       in SQL would orphan the files — and a tenant placed on a dedicated project. The report names
--       the Auth users who belong to no other tenant, for the admin service to delete through Auth's
--       admin API (deleting auth.users rows in SQL would skip Auth's own cleanup).
-- The purge's own audit entry also carries users_without_tenant (ids only, which the redacted trail
-- keeps anyway): a service cut off between the purge and the user deletions finds them there and
-- finishes.
-- Who did it: the functions set the transaction-local `tenancy.actor`, which the audit trigger
-- records when the request carries no user of its own (the platform calls with the secret key).

alter table public.tenants drop constraint tenants_status;
alter table public.tenants add constraint tenants_status check (status in ('active', 'suspended', 'deleted'));
alter table public.tenants add column deleted_at timestamptz, add column purge_after timestamptz;

-- The audit trigger of 003, plus: the actor a lifecycle function names, and nothing for the rows a
-- purge removes (the purge writes one entry for all of them; the rows' contents must not be copied).
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
  if v_tenant is null or v_tenant::text = current_setting('tenancy.purging', true) then
    return null;
  end if;
  for i in 1 .. coalesce(tg_nargs, 0) - 1 loop
    v_pk := v_pk || jsonb_build_object(tg_argv[i], v_row -> tg_argv[i]);
  end loop;

  insert into public.audit_log (tenant_id, actor_id, actor_role, action, table_name, row_pk, old_data, new_data)
  values (
    v_tenant,
    coalesce(tenancy.current_user_id(), tenancy.to_uuid(current_setting('tenancy.actor', true))),
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

-- The trail stays append-only, but for the one change a purge makes: redacting its tenant's entries.
create or replace function tenancy.audit_log_is_append_only() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if tg_op = 'UPDATE' and old.tenant_id::text = current_setting('tenancy.purging', true)
     and new.id = old.id and new.tenant_id = old.tenant_id and new.occurred_at = old.occurred_at
     and new.actor_id is not distinct from old.actor_id and new.action = old.action and new.table_name = old.table_name then
    return new;
  end if;
  raise exception using
    errcode = '42501',
    message = 'audit_log is append-only',
    hint = 'Audit entries cannot be changed or removed.';
end
$$;

-- What of a row may stay in a redacted trail: its keys and states, never its contents.
create or replace function tenancy.redact(p_row jsonb) returns jsonb
language sql immutable
set search_path = ''
as $$
  select case when jsonb_typeof(p_row) = 'object' then (
    select coalesce(jsonb_object_agg(e.key, e.value), '{}'::jsonb)
    from jsonb_each(p_row) e
    where e.key = 'id' or e.key like '%\_id' or e.key in ('status', 'role', 'stage', 'channel', 'direction', 'signup', 'slug',
                                                        'created_at', 'updated_at', 'occurred_at', 'deleted_at'))
  end
$$;

create or replace function tenancy.set_tenant_status(p_tenant uuid, p_actor uuid, p_from text[], p_to text) returns json
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  v_tenant public.tenants;
begin
  perform set_config('tenancy.actor', coalesce(p_actor::text, ''), true);
  select * into v_tenant from public.tenants t where t.id = p_tenant for update;
  if v_tenant.id is null then
    raise exception using errcode = 'PT404', message = 'no such tenant';
  end if;
  if v_tenant.status <> all (p_from) then
    raise exception using errcode = 'PT409', message = format('a %s tenant cannot become %s', v_tenant.status, p_to);
  end if;
  update public.tenants t set status = p_to where t.id = p_tenant returning * into v_tenant;
  return json_build_object('id', v_tenant.id, 'slug', v_tenant.slug, 'status', v_tenant.status,
                           'deleted_at', v_tenant.deleted_at, 'purge_after', v_tenant.purge_after);
end
$$;

create or replace function public.suspend_tenant(p_tenant uuid, p_actor uuid) returns json
language sql volatile security definer
set search_path = ''
as $$ select tenancy.set_tenant_status(p_tenant, p_actor, array['active', 'suspended'], 'suspended') $$;

create or replace function public.resume_tenant(p_tenant uuid, p_actor uuid) returns json
language sql volatile security definer
set search_path = ''
as $$ select tenancy.set_tenant_status(p_tenant, p_actor, array['active', 'suspended'], 'active') $$;

create or replace function public.delete_tenant(p_tenant uuid, p_actor uuid, p_hold interval default interval '30 days') returns json
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  v json;
begin
  perform set_config('tenancy.actor', coalesce(p_actor::text, ''), true);
  update public.tenants set deleted_at = now(), purge_after = now() + p_hold
  where id = p_tenant and status <> 'deleted';
  v := tenancy.set_tenant_status(p_tenant, p_actor, array['active', 'suspended', 'deleted'], 'deleted');
  return v;
end
$$;

create or replace function public.purge_tenant(p_tenant uuid, p_actor uuid, p_override boolean default false) returns json
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  v_tenant public.tenants;
  v_tables jsonb := '{}'::jsonb;
  v_users jsonb;
  v_rel record;
  v_count bigint;
  v_redacted bigint;
  v_left bigint;
begin
  select * into v_tenant from public.tenants t where t.id = p_tenant for update;
  if v_tenant.id is null then
    raise exception using errcode = 'PT404', message = 'no such tenant';
  end if;
  if v_tenant.status <> 'deleted' then
    raise exception using errcode = 'PT409', message = 'only a deleted tenant is purged', hint = 'Delete it first.';
  end if;
  if not p_override and now() < v_tenant.purge_after then
    raise exception using errcode = 'PT409', message = format('the retention hold runs until %s', v_tenant.purge_after),
      hint = 'Wait for the hold, or purge with the override.';
  end if;
  if v_tenant.placement_project is not null then
    raise exception using errcode = 'PT409', message = 'the tenant is placed on a dedicated project',
      hint = 'Purge it on its own project; moving placements is not supported yet.';
  end if;
  if exists (select 1 from storage.objects o where o.bucket_id = 'tenant-files' and split_part(o.name, '/', 1) = p_tenant::text) then
    raise exception using errcode = 'PT409', message = 'storage objects of the tenant remain',
      hint = 'Delete them through the Storage API first (SQL would orphan the files).';
  end if;

  select coalesce(jsonb_agg(m.user_id order by m.user_id), '[]'::jsonb) into v_users
  from public.tenant_members m
  where m.tenant_id = p_tenant
    and not exists (select 1 from public.tenant_members o where o.user_id = m.user_id and o.tenant_id <> p_tenant);

  perform set_config('tenancy.actor', coalesce(p_actor::text, ''), true);
  perform set_config('tenancy.purging', p_tenant::text, true);
  -- Every table of public with tenant_id but the trail, repeated until none holds a row of the tenant
  -- (a pass may find rows another table's foreign key still needs; the next one takes them).
  for i in 1 .. 10 loop
    v_left := 0;
    for v_rel in
      select c.oid::regclass as rel, format('%I.%I', n.nspname, c.relname) as name
      from pg_catalog.pg_class c
      join pg_catalog.pg_namespace n on n.oid = c.relnamespace
      join pg_catalog.pg_attribute a on a.attrelid = c.oid and a.attname = 'tenant_id' and not a.attisdropped
      where n.nspname = 'public' and c.relkind in ('r', 'p') and c.relname <> 'audit_log'
      order by 2
    loop
      begin
        execute format('with d as (delete from %s where tenant_id = $1 returning 1) select count(*) from d', v_rel.rel)
          into v_count using p_tenant;
        if v_count > 0 then
          v_tables := jsonb_set(v_tables, array[v_rel.name],
                                to_jsonb(coalesce((v_tables ->> v_rel.name)::bigint, 0) + v_count));
        end if;
      exception when foreign_key_violation then
        v_left := v_left + 1;
      end;
    end loop;
    exit when v_left = 0;
  end loop;
  if v_left > 0 then
    raise exception using errcode = 'PT409', message = 'rows of the tenant are still referenced from outside it';
  end if;
  delete from public.tenants where id = p_tenant;

  update public.audit_log set old_data = tenancy.redact(old_data), new_data = tenancy.redact(new_data)
  where tenant_id = p_tenant;
  get diagnostics v_redacted = row_count;
  perform set_config('tenancy.purging', '', true);
  insert into public.audit_log (tenant_id, actor_id, actor_role, action, table_name, row_pk, old_data, new_data)
  values (p_tenant, p_actor, coalesce(nullif(current_setting('role', true), 'none'), session_user), 'DELETE', 'public.tenants',
          jsonb_build_object('id', p_tenant), jsonb_build_object('id', p_tenant, 'slug', v_tenant.slug, 'status', 'deleted'),
          jsonb_build_object('purged', true, 'tables', v_tables, 'audit_entries_redacted', v_redacted,
                             'users_without_tenant', v_users));
  return json_build_object('tenant_id', p_tenant, 'slug', v_tenant.slug, 'tables', v_tables,
                           'users_without_tenant', v_users, 'audit_entries_redacted', v_redacted);
end
$$;

-- resolve_tenant's lookup, without deleted tenants (one place for 020 and 021).
create or replace function tenancy.find_tenant(p_slug text, p_domain text) returns public.tenants
language plpgsql stable security definer
set search_path = ''
as $$
declare
  v_tenant public.tenants;
begin
  if p_slug is not null then
    select * into v_tenant from public.tenants t where t.slug = lower(btrim(p_slug)) and t.status <> 'deleted';
  elsif p_domain is not null then
    select t.* into v_tenant
    from public.tenant_domains d join public.tenants t on t.id = d.tenant_id
    where d.hostname = rtrim(lower(btrim(p_domain)), '.') and tenancy.domain_routes(d.status) and t.status <> 'deleted';
  end if;
  return v_tenant;
end
$$;

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
         else json_build_object('project', v_tenant.placement_project) end);
end
$$;

revoke all on function tenancy.redact(jsonb), tenancy.set_tenant_status(uuid, uuid, text[], text),
  tenancy.find_tenant(text, text) from public;
revoke all on function public.suspend_tenant(uuid, uuid), public.resume_tenant(uuid, uuid),
  public.delete_tenant(uuid, uuid, interval), public.purge_tenant(uuid, uuid, boolean) from public, anon, authenticated;
grant execute on function public.suspend_tenant(uuid, uuid), public.resume_tenant(uuid, uuid),
  public.delete_tenant(uuid, uuid, interval), public.purge_tenant(uuid, uuid, boolean) to service_role;
