-- 022 purge_tenant remembers whom it left without a tenant (issue 15).
--
-- The admin service deletes the Auth users a purge leaves without a tenant after `purge_tenant`
-- answers. A service cut off between the two would lose that list with the tenant's rows, so the
-- purge's own audit entry now carries it (user ids only, which the redacted trail keeps anyway): a
-- purge run again finds the entry and finishes the deletions. Otherwise the function of 020, unchanged.

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
