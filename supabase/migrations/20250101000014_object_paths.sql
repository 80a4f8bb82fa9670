-- 014 paths that name a tenant folder cannot climb out of it (issue 10 item 4).
--
-- Until 013 the tenant-files policies (009) compared only the first folder of an object name, and
-- knowledge_documents.storage_path only its prefix, so '<own tenant>/../<other tenant>/x' passed both,
-- and a storage backend or client that resolves the path lands in the other tenant's folder. A safe
-- name has no empty, '.' or '..' segment, no backslash, no control character, no slash look-alike
-- (U+2044, U+2215, U+FE68, U+FF0F, U+FF3C) and no percent-encoded dot, slash, backslash or percent
-- (a layer that decodes once more would make them separators).
--
-- The policies require it for every command, so a legacy object with such a name is invisible to
-- clients until an operator renames it (tenancy.upgrade_report() lists them). The new
-- knowledge_documents check is NOT VALID: it holds for every new and updated row; existing rows are
-- listed by the report, then `alter table public.knowledge_documents validate constraint
-- knowledge_documents_storage_path_safe`.

create or replace function tenancy.is_safe_object_name(p_name text) returns boolean
language sql immutable parallel safe
as $$
  select p_name is not null
    and p_name operator(pg_catalog.!~) '[[:cntrl:]\\\u2044\u2215\ufe68\uff0f\uff3c]'
    and p_name operator(pg_catalog.!~*) '%(2e|2f|5c|25)'
    and not (pg_catalog.string_to_array(p_name, '/') operator(pg_catalog.&&) array['', '.', '..'])
$$;
comment on function tenancy.is_safe_object_name(text) is
  'True when a slash-separated object name has no empty/./.. segment, backslash, control character, slash look-alike or encoded separator.';
revoke all on function tenancy.is_safe_object_name(text) from public;
grant execute on function tenancy.is_safe_object_name(text) to authenticated, service_role;

alter table public.knowledge_documents add constraint knowledge_documents_storage_path_safe
  check (storage_path is null or tenancy.is_safe_object_name(storage_path)) not valid;

drop policy tenant_files_select on storage.objects;
drop policy tenant_files_insert on storage.objects;
drop policy tenant_files_update on storage.objects;
drop policy tenant_files_delete on storage.objects;
create policy tenant_files_select on storage.objects for select to authenticated
  using (
    bucket_id = 'tenant-files'
    and (storage.foldername(name))[1] = (select tenancy.current_tenant_id())::text
    and tenancy.is_safe_object_name(name)
  );
create policy tenant_files_insert on storage.objects for insert to authenticated
  with check (
    bucket_id = 'tenant-files'
    and (storage.foldername(name))[1] = (select tenancy.current_tenant_id())::text
    and tenancy.is_safe_object_name(name)
  );
create policy tenant_files_update on storage.objects for update to authenticated
  using (
    bucket_id = 'tenant-files'
    and (storage.foldername(name))[1] = (select tenancy.current_tenant_id())::text
    and tenancy.is_safe_object_name(name)
  )
  with check (
    bucket_id = 'tenant-files'
    and (storage.foldername(name))[1] = (select tenancy.current_tenant_id())::text
    and tenancy.is_safe_object_name(name)
  );
create policy tenant_files_delete on storage.objects for delete to authenticated
  using (
    bucket_id = 'tenant-files'
    and (storage.foldername(name))[1] = (select tenancy.current_tenant_id())::text
    and tenancy.is_safe_object_name(name)
  );
