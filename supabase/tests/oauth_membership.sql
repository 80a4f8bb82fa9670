-- Guarantee (issue 17, item 4): a user created by an OAuth provider joins the open tenant of the host
-- they came back to, through public.join_tenant_after_oauth() with the router's x-tenant-id, once;
-- never an invite-only or suspended tenant, never an email user, never a second tenant, never
-- anonymously; every refusal is the same PT403.
begin;
\ir _helpers.psql
select plan(12);

create temp table ids (name text primary key, id uuid);
grant select on ids to authenticated, anon;
create function pg_temp.id(p text) returns uuid language sql as $$ select id from ids where name = p $$;
grant execute on function pg_temp.id(text) to authenticated, anon;
create function pg_temp.oauth_user(p_email text, p_created timestamptz default now()) returns uuid language sql as $$
  insert into auth.users (instance_id, id, aud, role, email, email_confirmed_at,
                          raw_app_meta_data, raw_user_meta_data, created_at, updated_at)
  values ('00000000-0000-0000-0000-000000000000', gen_random_uuid(), 'authenticated', 'authenticated',
          p_email, now(), '{"provider": "github", "providers": ["github"]}', '{}', p_created, p_created)
  returning id
$$;
create function pg_temp.memberships(p_user uuid) returns text language sql security definer as $$
  select coalesce(string_agg(t.slug || '/' || m.role, ',' order by t.slug), '')
  from public.tenant_members m join public.tenants t on t.id = m.tenant_id where m.user_id = p_user
$$;
-- join_tenant_after_oauth as p_user on the host of p_tenant: 'member', or 'error <SQLSTATE>'.
create function pg_temp.join(p_user text, p_header text) returns text language plpgsql as $$
declare v jsonb;
begin
  perform tests.authenticate_as(pg_temp.id(p_user), p_header);
  begin
    v := public.join_tenant_after_oauth()::jsonb;
  exception when others then
    perform tests.as_postgres();
    return 'error ' || sqlstate;
  end;
  perform tests.as_postgres();
  return v ->> 'role';
end $$;

insert into ids values
  ('open', tests.create_tenant('oauth-open')),
  ('other', tests.create_tenant('oauth-other')),
  ('closed', tests.create_tenant('oauth-closed', 'invite_only')),
  ('suspended', tests.create_tenant('oauth-susp', 'open', 'suspended'));
insert into ids values
  ('gh', pg_temp.oauth_user('gh@example.com')),
  ('gh2', pg_temp.oauth_user('gh2@example.com')),
  ('gh3', pg_temp.oauth_user('gh3@example.com')),
  ('old', pg_temp.oauth_user('old@example.com', now() - interval '2 days')),
  ('mail', tests.create_user('mail@example.com'));

select is(pg_temp.memberships(pg_temp.id('gh')), '', 'an OAuth user starts with no membership');
select is(pg_temp.join('gh', pg_temp.id('open')::text), 'member', 'an OAuth user joins the open tenant of its host');
select is(pg_temp.memberships(pg_temp.id('gh')), 'oauth-open/member', '... as a member of that tenant only');
select is(pg_temp.join('gh', pg_temp.id('open')::text), 'error PT403', 'once: a second call is refused');
select is(pg_temp.join('gh', pg_temp.id('other')::text), 'error PT403', 'once: no second tenant either');
select is(pg_temp.join('gh2', pg_temp.id('closed')::text), 'error PT403', 'an invite-only tenant takes no OAuth user');
select is(pg_temp.join('gh2', pg_temp.id('suspended')::text), 'error PT403', 'a suspended tenant takes no one');
select is(pg_temp.join('gh2', null), 'error PT403', 'no host, no tenant');
select is(pg_temp.join('gh2', 'not-a-uuid'), 'error PT403', 'a malformed header is no tenant');
select is(pg_temp.join('mail', pg_temp.id('open')::text), 'error PT403', 'an email user joins only by signing up or accepting');
select is(pg_temp.join('old', pg_temp.id('open')::text), 'error PT403', 'an account older than a return''s lifetime does not join');
select is(pg_temp.memberships(pg_temp.id('gh2')) || pg_temp.memberships(pg_temp.id('mail')) || pg_temp.memberships(pg_temp.id('old')),
          '', 'refusals leave no membership');

select * from finish();
rollback;
