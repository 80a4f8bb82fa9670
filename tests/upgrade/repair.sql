-- Upgrade-path fixture: what an operator does with tenancy.upgrade_report()'s findings after the
-- upgrade (docs/database.md, "After upgrading past 010"), applied by scripts/test-sql.sh before
-- tests/upgrade/repaired.sql and the whole pgTAP suite run on the upgraded database.
\set ON_ERROR_STOP on
set client_min_messages = warning;
begin;
-- memberships nobody consented to, and the one taken with someone else's invitation: removed
delete from public.tenant_members m
using tenancy.upgrade_report() r
where r.tenant_id = m.tenant_id
  and r.finding in ('membership a client added or re-pointed', 'invitation accepted without a mailbox proof')
  and r.subject like '%user ' || m.user_id || '%';
-- ... and that invitation reopened, for its real invitee to accept with a proof
update public.tenant_invitations set accepted_at = null, accepted_by = null
where accepted_at is not null and proof_method is null;
-- paths: fixed, or the object removed; branding: shrunk
update public.knowledge_documents set storage_path = null where not tenancy.is_safe_object_name(storage_path);
delete from storage.objects where bucket_id = 'tenant-files' and not tenancy.is_safe_object_name(name);
update public.tenants set branding = '{}' where octet_length(branding::text) > 16384;
-- then the NOT VALID checks become valid ones
alter table public.knowledge_documents validate constraint knowledge_documents_storage_path_safe;
alter table public.tenants validate constraint tenants_branding_size;
commit;
