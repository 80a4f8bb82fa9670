-- Guarantee (issue 14): the provisioning journal and the atomic step are the platform's alone; a retry
-- with the same Idempotency-Key returns the first provisioning (another request under it is refused);
-- one runner holds a provisioning at a time; provision_tenant makes tenant + subscription + the first
-- admin's invitation (+ a pending hostname) together or not at all, answers a retry with the same
-- record, and its compensation removes exactly what it made.
begin;
\ir _helpers.psql
select plan(25);

insert into public.subscription_plans (id, name, max_users) values ('prov-plan', 'Plan', 10);
create temp table j (name text primary key, v json);
grant all on j to service_role;

-- ----- who may ------------------------------------------------------------------------------------
select ok(not has_function_privilege('authenticated', 'public.provision_tenant(uuid, text, text, text, text, text, jsonb, text)', 'execute'),
  'authenticated cannot provision');
select ok(not has_function_privilege('anon', 'public.start_provisioning(text, jsonb, text[], uuid)', 'execute'), 'anon cannot start a provisioning');
select ok(has_function_privilege('service_role', 'public.start_provisioning(text, jsonb, text[], uuid)', 'execute'), 'service_role starts provisionings');

-- ----- the journal ----------------------------------------------------------------------------------
select tests.as_service_role();
insert into j select 'first', public.start_provisioning('key-1', '{"name": "Initech", "plan": "prov-plan"}',
  array['create_tenant', 'custom_hostname', 'invite_admin'], null);
select is((select v ->> 'status' from j where name = 'first'), 'pending', 'a new provisioning is pending');
select is((select json_agg(s ->> 'name')::text from j, json_array_elements(v -> 'steps') s where name = 'first'),
  '["create_tenant", "custom_hostname", "invite_admin"]', 'its steps, in order');
select is(public.start_provisioning('key-1', '{"name": "Initech", "plan": "prov-plan"}', array['create_tenant'], null) ->> 'id',
  (select v ->> 'id' from j where name = 'first'), 'a retry with the same Idempotency-Key returns the first provisioning');
select throws_ok($$select public.start_provisioning('key-1', '{"name": "Other"}', array['create_tenant'], null)$$, 'PT422', null,
  'the same key with another request is refused (422)');
select is((select count(*)::int from public.provisionings), 1, 'and never makes a second one');

create function pg_temp.pid() returns uuid language sql as $$ select (v ->> 'id')::uuid from j where name = 'first' $$;
create function pg_temp.tid() returns uuid language sql as $$ select (v ->> 'tenant_id')::uuid from j where name = 'first' $$;
grant execute on function pg_temp.pid(), pg_temp.tid() to service_role;
select is(public.claim_provisioning(pg_temp.pid(), 60) ->> 'status', 'running', 'a runner claims it');
select ok(public.claim_provisioning(pg_temp.pid(), 60) is null, 'a second runner cannot while the lease holds');
select tests.as_postgres();
update public.provisionings set lease_until = now() - interval '1 second' where id = pg_temp.pid();
select tests.as_service_role();
select ok(public.claim_provisioning(pg_temp.pid(), 60) is not null, 'once the lease runs out (a runner cut off) the reconciler claims it');
select is(public.record_provisioning_step(pg_temp.pid(), 'create_tenant', 'running') #>> '{steps,0,status}', 'running', 'a step is recorded');
select throws_ok(format($$select public.record_provisioning_step(%L, 'no_such_step', 'done')$$, pg_temp.pid()), 'PT404', null,
  'an unknown step is an error');

-- ----- the atomic step -------------------------------------------------------------------------------
select is(public.provision_tenant(pg_temp.tid(), 'Initech', 'prov-initech', 'prov-plan', 'Boss@Initech.example', 'invite_only', '{}', 'crm.initech.example') ->> 'slug',
  'prov-initech', 'provision_tenant makes the tenant');
select tests.as_postgres();
select results_eq(
  format($$select (select plan_id from public.tenant_subscriptions where tenant_id = %1$L),
                  (select email || '/' || role from public.tenant_invitations where tenant_id = %1$L),
                  (select hostname || '/' || status from public.tenant_domains where tenant_id = %1$L)$$, pg_temp.tid()),
  $$values ('prov-plan'::text, 'boss@initech.example/owner'::text, 'crm.initech.example/pending'::text)$$,
  'with its subscription, the first admin''s invitation (owner) and a pending hostname');
select is(public.resolve_tenant(p_domain => 'crm.initech.example')::jsonb ->> 'slug', 'prov-initech', 'the pending hostname already resolves');
select tests.as_service_role();
select is(public.provision_tenant(pg_temp.tid(), 'Initech', 'prov-initech', 'prov-plan', 'boss@initech.example') ->> 'id', pg_temp.tid()::text,
  'a retry of the step answers the same tenant');
select tests.as_postgres();
select is((select count(*)::int from public.tenants where slug = 'prov-initech'), 1, 'and makes no second one');
select tests.as_service_role();
select throws_ok($$select public.provision_tenant(gen_random_uuid(), 'X', 'prov-initech', 'prov-plan', 'a@x.example')$$, '23505', null,
  'a taken slug is refused (409)');
select throws_ok($$select public.provision_tenant(gen_random_uuid(), 'X', 'admin', 'prov-plan', 'a@x.example')$$, '23514', null,
  'a reserved slug is refused');
select throws_ok($$select public.provision_tenant(gen_random_uuid(), 'X', 'fresh-slug', 'no-such-plan', 'a@x.example')$$, '23503', null,
  'an unknown plan is refused');
select is(tests.sqlstate_of($$select public.provision_tenant('c1c1c1c1-0000-4000-8000-000000000001', 'X', 'half-made', 'prov-plan', 'not-an-email')$$),
  '23514', 'a bad admin address fails the step ...');
select tests.as_postgres();
select is((select count(*)::int from public.tenants where id = 'c1c1c1c1-0000-4000-8000-000000000001'), 0, '... and leaves no tenant behind (one transaction)');

-- ----- compensation ----------------------------------------------------------------------------------
select tests.as_service_role();
select ok(public.unprovision_tenant(pg_temp.tid()), 'compensation removes the tenant');
select tests.as_postgres();
select is((select count(*)::int from public.tenant_subscriptions where tenant_id = pg_temp.tid())
        + (select count(*)::int from public.tenant_invitations where tenant_id = pg_temp.tid())
        + (select count(*)::int from public.tenant_domains where tenant_id = pg_temp.tid()), 0,
  'and everything it made (subscription, invitation, hostname)');

select * from finish();
rollback;
