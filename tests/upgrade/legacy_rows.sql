-- Upgrade-path fixture, applied by scripts/test-sql.sh to a database that ran the migrations of the last
-- release (through 20250101000010) and sql/seed.sql, BEFORE the newer migrations. It writes, the way a
-- client could before issue 10's fixes, the rows the new rules forbid; tests/upgrade/upgraded.sql then
-- checks that the new migrations applied over them, kept every row, and report each one.
\set ON_ERROR_STOP on
set client_min_messages = warning;

-- A person who is not dave signs up with dave's invited address (auto-confirm): the old trigger made
-- them a globex member at once.
insert into auth.users (instance_id, id, aud, role, email, email_confirmed_at, raw_app_meta_data, raw_user_meta_data, created_at, updated_at)
values ('00000000-0000-0000-0000-000000000000', 'dddddddd-dddd-4ddd-8ddd-dddddddddddd', 'authenticated', 'authenticated',
        'dave@globex.test', now(), '{"provider": "email"}', '{"tenant_id": "22222222-2222-4222-8222-222222222222"}', now(), now());

-- An ordinary user of no tenant, and a user for an invitation still pending after the upgrade.
insert into auth.users (instance_id, id, aud, role, email, email_confirmed_at, raw_app_meta_data, raw_user_meta_data, created_at, updated_at)
values ('00000000-0000-0000-0000-000000000000', 'eeeeeeee-eeee-4eee-8eee-eeeeeeeeeeee', 'authenticated', 'authenticated',
        'erin@nowhere.test', now(), '{"provider": "email"}', '{}', now(), now()),
       ('00000000-0000-0000-0000-000000000000', '99999999-0000-4000-8000-000000000001', 'authenticated', 'authenticated',
        'gina@nowhere.test', now(), '{"provider": "email"}', '{}', now(), now()),
       ('00000000-0000-0000-0000-000000000000', '99999999-0000-4000-8000-000000000002', 'authenticated', 'authenticated',
        'hank@nowhere.test', now(), '{"provider": "email"}', '{}', now(), now());
insert into public.tenant_invitations (tenant_id, email, role, invited_by)
values ('22222222-2222-4222-8222-222222222222', 'frank@globex.test', 'admin', 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb');

-- As carol (admin of acme), through RLS: add erin, who never asked, to acme; add hank and re-point his
-- membership at gina (who never asked either); write a document path and
-- a storage object that climb into globex's folder. As alice (owner of acme): oversize branding.
begin;
set local role authenticated;
select set_config('request.jwt.claims', '{"sub": "cccccccc-cccc-4ccc-8ccc-cccccccccccc", "role": "authenticated"}', true);
select set_config('request.headers', '{"x-tenant-id": "11111111-1111-4111-8111-111111111111"}', true);
insert into public.tenant_members (tenant_id, user_id, role)
values ('11111111-1111-4111-8111-111111111111', 'eeeeeeee-eeee-4eee-8eee-eeeeeeeeeeee', 'member'),
       ('11111111-1111-4111-8111-111111111111', '99999999-0000-4000-8000-000000000002', 'member');
update public.tenant_members set user_id = '99999999-0000-4000-8000-000000000001'
where user_id = '99999999-0000-4000-8000-000000000002';
insert into public.knowledge_documents (id, title, storage_path)
values ('f0f0f0f0-0000-4000-8000-000000000001', 'climber',
        '11111111-1111-4111-8111-111111111111/../22222222-2222-4222-8222-222222222222/secret.pdf');
insert into storage.objects (bucket_id, name)
values ('tenant-files', '11111111-1111-4111-8111-111111111111/../22222222-2222-4222-8222-222222222222/secret.pdf');
commit;
begin;
set local role authenticated;
select set_config('request.jwt.claims', '{"sub": "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa", "role": "authenticated"}', true);
select set_config('request.headers', '{"x-tenant-id": "11111111-1111-4111-8111-111111111111"}', true);
update public.tenants set branding = jsonb_build_object('css', repeat('x', 70000))
where id = '11111111-1111-4111-8111-111111111111';
commit;

-- A tenant placed on a dedicated project (the platform's write).
insert into public.tenants (id, slug, name, placement_project)
values ('33333333-3333-4333-8333-333333333333', 'initech', 'Initech', 'eu-bigcorp-dedicated');
