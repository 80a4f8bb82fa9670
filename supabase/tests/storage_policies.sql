-- Guarantee: in the tenant-files bucket a member reads and writes only objects under the current
-- tenant's folder ('<tenant uuid>/...'); other tenants' folders, the bucket root and anon get nothing.
begin;
\ir _helpers.psql
select plan(11);

insert into tests.ids select 'A', tests.create_tenant('files-a');
insert into tests.ids select 'B', tests.create_tenant('files-b');
insert into tests.ids select 'alice', tests.create_user('alice@files.test');
insert into tests.ids select 'carol', tests.create_user('carol@files.test');
select tests.add_member(tests.id('A'), tests.id('alice'), 'member');
select tests.add_member(tests.id('A'), tests.id('carol'), 'member');
select tests.add_member(tests.id('B'), tests.id('carol'), 'member');

insert into storage.objects (bucket_id, name) values
  ('tenant-files', tests.id('A') || '/docs/a.pdf'),
  ('tenant-files', tests.id('B') || '/docs/b.pdf');
insert into tests.tenant_labels select id, name from tests.ids where name in ('A', 'B');
create function pg_temp.visible_files() returns text language sql as $$
  select coalesce(string_agg(split_part(name, '/', 3), ',' order by name), '') from storage.objects where bucket_id = 'tenant-files'
$$;
grant execute on function pg_temp.visible_files() to authenticated, anon;

select tests.authenticate_as(tests.id('alice'), tests.id('A')::text);
select is(pg_temp.visible_files(), 'a.pdf', 'storage select: own tenant folder visible');
select is(tests.sqlstate_of(format($$insert into storage.objects (bucket_id, name) values ('tenant-files', '%s/new.txt')$$, tests.id('A'))),
  '00000', 'storage insert: into own tenant folder allowed');
select is(tests.sqlstate_of(format($$insert into storage.objects (bucket_id, name) values ('tenant-files', '%s/evil.txt')$$, tests.id('B'))),
  '42501', 'storage insert: into another tenant''s folder rejected');
select is(tests.sqlstate_of($$insert into storage.objects (bucket_id, name) values ('tenant-files', 'root.txt')$$),
  '42501', 'storage insert: at the bucket root rejected');
select is(tests.sqlstate_of(format($$update storage.objects set name = '%s/moved.pdf' where name like '%%a.pdf'$$, tests.id('B'))),
  '42501', 'storage update: moving an object into another tenant''s folder rejected');
delete from storage.objects where name like '%b.pdf';
select tests.as_postgres();
select ok(exists (select 1 from storage.objects where name like '%b.pdf'), 'storage delete: another tenant''s object is still there');

select tests.authenticate_as(tests.id('alice'), tests.id('B')::text);
select is(pg_temp.visible_files(), '', 'storage select: forged header sees no files');
select tests.authenticate_as(tests.id('carol'), tests.id('B')::text);
select is(pg_temp.visible_files(), 'b.pdf', 'storage select: member of two tenants sees exactly the header tenant''s files');
select tests.authenticate_as(tests.id('carol'));
select is(pg_temp.visible_files(), '', 'storage select: two memberships, no header: nothing');
select tests.as_anon(tests.id('A')::text);
select is(pg_temp.visible_files(), '', 'storage select: anon sees nothing');
select tests.as_postgres();
select is((select public from storage.buckets where id = 'tenant-files'), false, 'the tenant-files bucket is private');

select * from finish();
rollback;
