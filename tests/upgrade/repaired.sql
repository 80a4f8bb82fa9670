-- Guarantee: after the documented repairs (tests/upgrade/repair.sql) the upgrade report is empty and the
-- checks added NOT VALID are validated; the whole pgTAP suite then runs on this database.
begin;
\ir ../../supabase/tests/_helpers.psql
select plan(3);
select is((select count(*)::int from tenancy.upgrade_report()), 0, 'after the repairs the upgrade report is empty');
select ok((select convalidated from pg_constraint where conname = 'knowledge_documents_storage_path_safe'), 'the storage-path check is validated');
select ok((select convalidated from pg_constraint where conname = 'tenants_branding_size'), 'the branding bound is validated');
select * from finish();
rollback;
