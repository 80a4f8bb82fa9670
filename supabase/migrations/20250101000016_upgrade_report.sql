-- 016 what the rules of 011–015 would refuse, among rows written before them.
--
--   select * from tenancy.upgrade_report();     -- as postgres, e.g. in the SQL editor
--
-- One row per finding: (finding, tenant_id, subject, action). Nothing is deleted automatically: each
-- of these may be legitimate (an invitation the right person accepted, a member the platform added),
-- and only an operator can tell. docs/database.md says what to do with each kind.

create or replace function tenancy.upgrade_report()
returns table (finding text, tenant_id uuid, subject text, action text)
language sql stable security definer
set search_path = ''
as $$
  -- 011: accepted by the old trigger on a mere confirmation (auto-confirm: no proof at all)
  select 'invitation accepted without a mailbox proof', i.tenant_id, i.email || ' -> user ' || i.accepted_by,
         'confirm with the user; if in doubt remove the membership and reopen the invitation (accepted_at, accepted_by = null)'
  from public.tenant_invitations i
  where i.accepted_at is not null and i.proof_method is null
  union all
  -- 012: a membership a client inserted, or re-pointed at another user (audit_log, 003, records the
  -- role that wrote it; the platform and Auth's triggers are not `authenticated`), without an
  -- invitation the user accepted with a proof
  select 'membership a client added or re-pointed', m.tenant_id, 'user ' || m.user_id || ' (' || m.role || ')',
         'confirm the user agreed; otherwise remove the membership'
  from public.tenant_members m
  where exists (
      select 1 from public.audit_log a
      where a.tenant_id = m.tenant_id and a.table_name = 'public.tenant_members' and a.actor_role = 'authenticated'
        and a.new_data ->> 'user_id' = m.user_id::text
        and (a.action = 'INSERT' or (a.action = 'UPDATE' and a.old_data ->> 'user_id' is distinct from a.new_data ->> 'user_id')))
    and not exists (
      select 1 from public.tenant_invitations i
      where i.tenant_id = m.tenant_id and i.accepted_by = m.user_id and i.proof_method is not null)
  union all
  -- 014: object names and storage paths that climb out of their folder
  select 'unsafe tenant-files object name', tenancy.to_uuid(split_part(o.name, '/', 1)), o.name,
         'rename or delete the object (clients no longer see it)'
  from storage.objects o
  where o.bucket_id = 'tenant-files' and not tenancy.is_safe_object_name(o.name)
  union all
  select 'unsafe knowledge_documents.storage_path', d.tenant_id, d.id::text || ': ' || d.storage_path,
         'fix the path, then validate constraint knowledge_documents_storage_path_safe'
  from public.knowledge_documents d
  where d.storage_path is not null and not tenancy.is_safe_object_name(d.storage_path)
  union all
  -- 015: branding over the bound (the router answers 503 for the tenant past 64 KiB)
  select 'oversize branding', t.id, t.slug || ': ' || pg_catalog.octet_length(t.branding::text) || ' bytes',
         'shrink it to 16 KiB, then validate constraint tenants_branding_size'
  from public.tenants t
  where pg_catalog.octet_length(t.branding::text) > 16384
$$;
revoke all on function tenancy.upgrade_report() from public;
