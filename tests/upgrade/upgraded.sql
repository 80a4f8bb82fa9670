-- Guarantee (issue 10, "How schema changes ship"): the new migrations apply over a database of the last
-- release that holds rows the new rules forbid (tests/upgrade/legacy_rows.sql), keep every row, report
-- each forbidden one in tenancy.upgrade_report(), and enforce the new rules from then on.
begin;
\ir ../../supabase/tests/_helpers.psql
select plan(18);

-- ----- every legacy row is still there ----------------------------------------------------------
select is((select count(*)::int from public.tenant_members), 7, 'all memberships kept (4 seeded, the squatter''s, erin''s, gina''s)');
select is((select count(*)::int from public.tenant_invitations), 2, 'all invitations kept');
select ok(exists (select 1 from public.knowledge_documents where title = 'climber'), 'the legacy document is kept');
select is((select count(*)::int from tenancy.email_bindings), (select count(*)::int from auth.users),
  'every existing user has an email binding');

-- ----- and each forbidden one is reported -------------------------------------------------------
select set_eq($$select finding, subject from tenancy.upgrade_report()$$,
  $$values
    ('invitation accepted without a mailbox proof', 'dave@globex.test -> user dddddddd-dddd-4ddd-8ddd-dddddddddddd'),
    ('membership a client added or re-pointed', 'user eeeeeeee-eeee-4eee-8eee-eeeeeeeeeeee (member)'),
    ('membership a client added or re-pointed', 'user 99999999-0000-4000-8000-000000000001 (member)'),
    ('unsafe tenant-files object name', '11111111-1111-4111-8111-111111111111/../22222222-2222-4222-8222-222222222222/secret.pdf'),
    ('unsafe knowledge_documents.storage_path', 'f0f0f0f0-0000-4000-8000-000000000001: 11111111-1111-4111-8111-111111111111/../22222222-2222-4222-8222-222222222222/secret.pdf'),
    ('oversize branding', 'acme: 70011 bytes')$$,
  'the report lists every legacy row the new rules forbid (and not the memberships the platform made)');
select ok(not (select convalidated from pg_constraint where conname = 'knowledge_documents_storage_path_safe'),
  'the storage-path check is NOT VALID while legacy rows break it');
select ok(not (select convalidated from pg_constraint where conname = 'tenants_branding_size'),
  'the branding bound is NOT VALID while legacy rows break it');

-- ----- the new rules hold from now on -----------------------------------------------------------
select tests.authenticate_as('cccccccc-cccc-4ccc-8ccc-cccccccccccc', '11111111-1111-4111-8111-111111111111');
select is(tests.sqlstate_of($$insert into public.tenant_members (tenant_id, user_id) values ('11111111-1111-4111-8111-111111111111', 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb')$$),
  '42501', 'after the upgrade an admin cannot add a user');
select is(tests.sqlstate_of($$insert into public.knowledge_documents (title, storage_path) values ('x', '11111111-1111-4111-8111-111111111111/../x')$$),
  '23514', 'after the upgrade a climbing storage path is refused');
select is(tests.sqlstate_of($$update public.knowledge_documents set title = 'renamed' where title = 'climber'$$),
  '23514', 'a legacy row that breaks the check cannot be updated without fixing it');
select is((select count(*)::int from storage.objects where name like '%/../%'), 0, 'clients no longer see the legacy object');
select tests.as_postgres();
select is(position('bigcorp' in public.resolve_tenant('initech')::text), 0, 'resolve_tenant no longer names the placed project');
select is(public.resolve_tenant('initech')::jsonb #>> '{placement,key}',
  (select key from tenancy.placement_keys where project = 'eu-bigcorp-dedicated'), 'the placed tenant carries its project''s key (backfilled)');

select is((select status from public.tenant_domains where hostname = 'crm.globex.test'), 'active',
  'an existing custom domain is backfilled as an active hostname of its tenant');
select is(public.resolve_tenant(p_domain => 'crm.globex.test')::jsonb ->> 'slug', 'globex', 'and still resolves after the upgrade');

-- a pending invitation from before the upgrade needs a proof made after it
insert into auth.users (instance_id, id, aud, role, email, email_confirmed_at, raw_app_meta_data, raw_user_meta_data, created_at, updated_at)
values ('00000000-0000-0000-0000-000000000000', 'ffffffff-ffff-4fff-8fff-ffffffffffff', 'authenticated', 'authenticated',
        'frank@globex.test', now(), '{"provider": "email"}', '{}', now(), now());
select is((select count(*)::int from public.tenant_members where user_id = 'ffffffff-ffff-4fff-8fff-ffffffffffff'), 0,
  'a sign-up with an address invited before the upgrade does not join');
select tests.authenticate_as('ffffffff-ffff-4fff-8fff-ffffffffffff', null, tests.amr('otp', now() + interval '2 seconds'));
select is(public.accept_invitation('22222222-2222-4222-8222-222222222222')::jsonb ->> 'role', 'admin',
  'the invitee accepts a pre-upgrade invitation with a fresh mailbox proof');
select tests.authenticate_as('dddddddd-dddd-4ddd-8ddd-dddddddddddd', null, tests.amr('password', now() + interval '2 seconds'));
select is(tests.sqlstate_of($$select public.accept_invitation('22222222-2222-4222-8222-222222222222')$$), 'PT403',
  'the squatter cannot accept anything with a password session');

select * from finish();
rollback;
