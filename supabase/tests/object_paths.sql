-- Guarantee (issue 10 item 4): a path that names a tenant folder — a tenant-files object name (insert
-- and rename) and knowledge_documents.storage_path — has no `..`, `.` or empty segment, no backslash
-- and no percent-encoded separator or dot, so '<own tenant>/../<other tenant>/x' can never be written.
begin;
\ir _helpers.psql
select plan(8);

insert into tests.ids select 'A', tests.create_tenant('paths-a');
insert into tests.ids select 'B', tests.create_tenant('paths-b');
insert into tests.ids select 'alice', tests.create_user('alice@paths.test');
select tests.add_member(tests.id('A'), tests.id('alice'), 'member');
insert into storage.objects (bucket_id, name) values ('tenant-files', tests.id('A') || '/docs/a.pdf');

-- Names after the tenant folder: {A} is replaced by tenant A's id, {B} by tenant B's.
create temp table bad_names (tail text);
insert into bad_names values
  ('{A}/../{B}/x.pdf'), ('{A}/docs/../../{B}/x.pdf'), ('{A}/..'), ('{A}/./x.pdf'), ('{A}/.'),
  ('{A}//x.pdf'), ('{A}/docs/'), ('{A}/'), ('{A}\..\{B}\x.pdf'), ('{A}/docs\x.pdf'),
  ('{A}/%2e%2e/{B}/x.pdf'), ('{A}/%2E%2E/{B}/x.pdf'), ('{A}/..%2f{B}%2fx.pdf'), ('{A}/..%2F{B}/x.pdf'),
  ('{A}/x%5c..%5c{B}'), ('{A}/%252e%252e/{B}/x'), ('{A}/.%2e/{B}/x'),
  ('{A}/x' || chr(10) || '.pdf'), ('{A}/x' || chr(13)), ('{A}/x' || chr(9) || 'y'),
  ('{A}/..' || chr(65295) || '{B}/x'), ('{A}/..' || chr(8725) || '{B}'), ('{A}/..' || chr(65340) || '{B}');
create temp table good_names (tail text);
insert into good_names values ('{A}/docs/b.pdf'), ('{A}/my file (1).pdf'), ('{A}/100% sure.txt'), ('{A}/a.b.c/..d/e..f'),
  ('{A}/Ünïcode/файл.txt');
grant select on bad_names, good_names to authenticated;
create function pg_temp.fill(p_tail text) returns text language sql as $$
  select replace(replace(p_tail, '{A}', tests.id('A')::text), '{B}', tests.id('B')::text)
$$;
grant execute on function pg_temp.fill(text) to authenticated;

select tests.authenticate_as(tests.id('alice'), tests.id('A')::text);
select is(
  (select coalesce(string_agg(tail, ' | '), '') from bad_names
   where tests.sqlstate_of(format($$insert into storage.objects (bucket_id, name) values ('tenant-files', %L)$$, pg_temp.fill(tail))) = '00000'),
  '', 'storage insert: no traversal, dot, empty, backslash or encoded-separator name is accepted');
select is(
  (select coalesce(string_agg(tail, ' | '), '') from bad_names
   where tests.sqlstate_of(format($$update storage.objects set name = %L where name like '%%/docs/a.pdf'$$, pg_temp.fill(tail))) = '00000'),
  '', 'storage rename: no such name is accepted as the new name');
select is(
  (select coalesce(string_agg(tail, ' | '), '') from good_names
   where tests.sqlstate_of(format($$insert into storage.objects (bucket_id, name) values ('tenant-files', %L)$$, pg_temp.fill(tail))) <> '00000'),
  '', 'storage insert: ordinary names (spaces, %, dots inside names, Unicode) are still accepted');
select is(
  (select coalesce(string_agg(tail, ' | '), '') from good_names
   where tests.sqlstate_of(format($$update storage.objects set name = %L where name like '%%/docs/a.pdf'$$, pg_temp.fill(tail))) <> '00000'),
  '', 'storage rename: to an ordinary name still works');

select is(
  (select coalesce(string_agg(tail, ' | '), '') from bad_names
   where tests.sqlstate_of(format($$insert into public.knowledge_documents (title, storage_path) values ('t', %L)$$, pg_temp.fill(tail))) = '00000'),
  '', 'knowledge_documents insert: no such storage_path is accepted');
insert into public.knowledge_documents (title, storage_path) values ('ok', tests.id('A') || '/docs/a.pdf');
select is(
  (select coalesce(string_agg(tail, ' | '), '') from bad_names
   where tests.sqlstate_of(format($$update public.knowledge_documents set storage_path = %L where title = 'ok'$$, pg_temp.fill(tail))) = '00000'),
  '', 'knowledge_documents update: no such storage_path is accepted');
select is(
  (select coalesce(string_agg(tail, ' | '), '') from good_names
   where tests.sqlstate_of(format($$insert into public.knowledge_documents (title, storage_path) values ('t', %L)$$, pg_temp.fill(tail))) <> '00000'),
  '', 'knowledge_documents: ordinary storage paths are still accepted');
select is(tests.sqlstate_of(format($$insert into public.knowledge_documents (title, storage_path) values ('t', '%s/x.pdf')$$, tests.id('B'))),
  '23514', 'knowledge_documents: a path in another tenant''s folder is refused');

select * from finish();
rollback;
