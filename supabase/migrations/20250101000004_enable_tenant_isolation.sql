-- 004 tenancy.enable_tenant_isolation(tbl): one call that gives a table the same guarantees as the
-- built-in application tables. Used by 005 for every application table, and by anyone adding one:
--
--   select tenancy.enable_tenant_isolation('public.my_table');
--   select tenancy.enable_tenant_isolation('public.my_table', write_roles => array['owner', 'admin']);
--
-- It refuses a table without a uuid `tenant_id` column. Otherwise it:
--   * makes tenant_id NOT NULL, defaults it to tenancy.current_tenant_id() if it has no default, and
--     adds a foreign key to public.tenants (on delete cascade) if there is none;
--   * creates an index on (tenant_id) unless an index already leads with tenant_id (NOTICE either way)
--     and WARNs about foreign keys to other tenant tables that do not include tenant_id;
--   * enables and forces RLS, and (re)creates one policy per command, TO authenticated, comparing
--     `tenant_id = (select tenancy.current_tenant_id())` (an equality: the tenant index is used);
--     writes re-check it in WITH CHECK, and with write_roles also require one of those roles;
--   * revokes everything from anon (no policy for anon either: RLS alone already denies it);
--   * attaches the audit trigger (audit => false to skip, for high-volume event tables).
-- Idempotent: calling it again re-applies the same state.

create or replace function tenancy.enable_tenant_isolation(
  tbl regclass,
  write_roles text[] default null,
  audit boolean default true
) returns void
language plpgsql
set search_path = ''
as $$
declare
  v_kind "char";
  v_attnum smallint;
  v_type text;
  v_notnull boolean;
  v_has_default boolean;
  v_rel text;
  v_read text := 'tenant_id = (select tenancy.current_tenant_id())';
  v_write text;
  v_pk text[];
  v_fk record;
  v_policy record;
begin
  select c.relkind into v_kind from pg_catalog.pg_class c where c.oid = tbl;
  if v_kind not in ('r', 'p') then
    raise exception using errcode = '42809', message = format('%s is not a table', tbl);
  end if;
  v_rel := tbl::text;

  select a.attnum, pg_catalog.format_type(a.atttypid, a.atttypmod), a.attnotnull, a.atthasdef
    into v_attnum, v_type, v_notnull, v_has_default
  from pg_catalog.pg_attribute a
  where a.attrelid = tbl and a.attname = 'tenant_id' and not a.attisdropped;
  if v_attnum is null then
    raise exception using
      errcode = '42703',
      message = format('%s has no tenant_id column; tenant isolation needs one', tbl),
      hint = 'Add: tenant_id uuid not null default tenancy.current_tenant_id() references public.tenants (id) on delete cascade';
  end if;
  if v_type <> 'uuid' then
    raise exception using
      errcode = '42804',
      message = format('%s.tenant_id is %s; tenant isolation needs uuid', tbl, v_type);
  end if;

  if not v_notnull then
    execute format('alter table %s alter column tenant_id set not null', v_rel);
  end if;
  if not v_has_default then
    execute format('alter table %s alter column tenant_id set default tenancy.current_tenant_id()', v_rel);
  end if;
  if not exists (
    select 1 from pg_catalog.pg_constraint k
    where k.conrelid = tbl and k.contype = 'f' and k.confrelid = 'public.tenants'::regclass
      and k.conkey = array[v_attnum]
  ) then
    execute format('alter table %s add foreign key (tenant_id) references public.tenants (id) on delete cascade', v_rel);
  end if;

  -- The policies filter on tenant_id = <constant>: an index leading with tenant_id makes that cheap.
  if exists (
    select 1 from pg_catalog.pg_index i
    where i.indrelid = tbl and i.indkey[0] = v_attnum and i.indpred is null and i.indisvalid
  ) then
    raise notice '%: an index leads with tenant_id', tbl;
  else
    execute format('create index on %s (tenant_id)', v_rel);
    raise notice '%: created an index on (tenant_id); add composite (tenant_id, ...) indexes for your queries', tbl;
  end if;

  -- A foreign key to another tenant table that does not carry tenant_id could point across tenants.
  for v_fk in
    select k.conname, k.confrelid::regclass as target
    from pg_catalog.pg_constraint k
    where k.conrelid = tbl and k.contype = 'f' and k.confrelid <> 'public.tenants'::regclass
      and exists (
        select 1 from pg_catalog.pg_attribute ta
        where ta.attrelid = k.confrelid and ta.attname = 'tenant_id' and not ta.attisdropped
      )
      and not (v_attnum = any (k.conkey))
  loop
    raise warning '%: foreign key % to % does not include tenant_id; a row could point at another tenant''s row',
      tbl, v_fk.conname, v_fk.target;
  end loop;

  execute format('alter table %s enable row level security', v_rel);
  execute format('alter table %s force row level security', v_rel);

  for v_policy in
    select p.polname from pg_catalog.pg_policy p
    where p.polrelid = tbl and p.polname like 'tenant\_isolation\_%'
  loop
    execute format('drop policy %I on %s', v_policy.polname, v_rel);
  end loop;

  v_write := v_read;
  if write_roles is not null then
    v_write := v_write || format(' and (select tenancy.current_tenant_role()) = any (%L::text[])', write_roles);
  end if;
  execute format('create policy tenant_isolation_select on %s for select to authenticated using (%s)', v_rel, v_read);
  execute format('create policy tenant_isolation_insert on %s for insert to authenticated with check (%s)', v_rel, v_write);
  execute format('create policy tenant_isolation_update on %s for update to authenticated using (%s) with check (%s)', v_rel, v_write, v_write);
  execute format('create policy tenant_isolation_delete on %s for delete to authenticated using (%s)', v_rel, v_write);

  execute format('revoke all on %s from anon', v_rel);
  execute format('grant select, insert, update, delete on %s to authenticated, service_role', v_rel);

  execute format('drop trigger if exists tenant_audit on %s', v_rel);
  if audit then
    select array_agg(a.attname::text order by x.ord) into v_pk
    from pg_catalog.pg_index i
    cross join lateral unnest(i.indkey) with ordinality as x(attnum, ord)
    join pg_catalog.pg_attribute a on a.attrelid = i.indrelid and a.attnum = x.attnum
    where i.indrelid = tbl and i.indisprimary;
    execute format(
      'create trigger tenant_audit after insert or update or delete on %s for each row execute function tenancy.audit_row_change(%s)',
      v_rel,
      (select string_agg(quote_literal(c), ', ') from unnest(array['tenant_id'] || coalesce(v_pk, '{}')) c)
    );
  end if;
end
$$;
comment on function tenancy.enable_tenant_isolation(regclass, text[], boolean) is
  'Turn tenant isolation on for a table with a uuid tenant_id: forced RLS, one policy per command TO authenticated, tenant index, audit trigger.';
revoke all on function tenancy.enable_tenant_isolation(regclass, text[], boolean) from public;
