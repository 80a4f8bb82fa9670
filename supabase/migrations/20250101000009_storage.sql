-- 009 storage: a private bucket `tenant-files` whose objects live under their tenant's folder:
--   <tenant uuid>/<anything>
-- A member reads and writes only objects whose first folder is the current tenant
-- (tenancy.current_tenant_id(): the router's x-tenant-id header, else the tenant_id claim, else the
-- single membership). Other buckets are untouched by these policies.

insert into storage.buckets (id, name, public)
values ('tenant-files', 'tenant-files', false)
on conflict (id) do nothing;

create policy tenant_files_select on storage.objects for select to authenticated
  using (
    bucket_id = 'tenant-files'
    and (storage.foldername(name))[1] = (select tenancy.current_tenant_id())::text
  );
create policy tenant_files_insert on storage.objects for insert to authenticated
  with check (
    bucket_id = 'tenant-files'
    and (storage.foldername(name))[1] = (select tenancy.current_tenant_id())::text
  );
create policy tenant_files_update on storage.objects for update to authenticated
  using (
    bucket_id = 'tenant-files'
    and (storage.foldername(name))[1] = (select tenancy.current_tenant_id())::text
  )
  with check (
    bucket_id = 'tenant-files'
    and (storage.foldername(name))[1] = (select tenancy.current_tenant_id())::text
  );
create policy tenant_files_delete on storage.objects for delete to authenticated
  using (
    bucket_id = 'tenant-files'
    and (storage.foldername(name))[1] = (select tenancy.current_tenant_id())::text
  );
