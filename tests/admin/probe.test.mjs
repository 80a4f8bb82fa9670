// `tenantctl probe`, the live isolation probe (issue 15), against the whole local stack: the admin
// Worker, the router and the project (the Supabase test stand-in on the real Postgres). It holds on
// the stack as built and leaves no probe tenant or probe user behind; against a deliberately broken
// policy (contacts readable by everyone, or an insert policy that checks nothing) it fails with exit
// 1, naming the leak. The probe-users route
// it relies on makes users only in tenants provisioned as probes, and only for operators.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import crypto from "node:crypto";
import { startAdminStack, runTenantctl } from "./support.mjs";
import { SEED } from "../support/stack.mjs";

let s;

function probe(extra = []) {
  return runTenantctl(
    ["probe", "--router-url", s.stack.routerUrl, "--supabase-url", s.stack.supabase.url, "--anon-key", s.stack.anonKey, ...extra],
    { url: s.admin.url, token: s.tokens.admin },
  );
}

/** What a probe could leave: tenants it made, their users, their rows. */
async function probeLeftovers() {
  const q = async (sql) => (await s.stack.pg.query(sql)).rows[0].n;
  return {
    tenants: await q("select count(*)::int as n from public.tenants where slug like 'probe-%'"),
    users: await q("select count(*)::int as n from auth.users where raw_app_meta_data ->> 'probe' = 'true'"),
    contacts: await q("select count(*)::int as n from public.contacts where name like 'Probe %'"),
  };
}

describe("tenantctl probe", () => {
  before(async () => {
    s = await startAdminStack();
  });
  after(async () => {
    await s?.stop();
  });

  test("every isolation check holds on the local stack, and the probe removes what it made", async () => {
    const before = await s.stack.pg.query("select count(*)::int as n from public.contacts");
    const outboundBefore = s.outbound.length;
    const r = await probe(["--json"]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const report = r.json();
    assert.equal(report.leaks, 0, JSON.stringify(report.checks.filter((c) => c.result !== "held")));
    assert.equal(report.unproven, 0);
    assert.equal(report.checks.length, 32);
    assert.deepEqual(report.left_behind, []);
    // Both ways round: the cross-host, forged-header, foreign-token and direct-call families.
    const names = report.checks.map((c) => c.check).join("\n");
    for (const family of ["its token on the other's host", "anon key alone", "anonymous, straight to the project", "own host with a forged x-tenant-id", "forged x-forwarded-host", "foreign ES256 key", "alg none", "tampered", "bypassing the router", "project with a forged x-tenant-id"]) {
      assert.equal(names.split(family).length - 1, 2, `${family} in both directions:\n${names}`);
    }
    assert.deepEqual(await probeLeftovers(), { tenants: 0, users: 0, contacts: 0 });
    assert.equal((await s.stack.pg.query("select count(*)::int as n from public.contacts")).rows[0].n, before.rows[0].n, "the seed's rows untouched");
    // A probe tenant mails nothing: the admin never asked Auth to invite its made-up owner.
    assert.deepEqual(s.outbound.slice(outboundBefore).filter((o) => o.url.startsWith("/auth/v1/invite")), []);
    assert.equal(s.outbound.slice(outboundBefore).filter((o) => o.method === "POST" && o.url === "/auth/v1/admin/users").length, 2, "one user per probe tenant");
  });

  test("against a policy that lets every tenant read contacts, the probe fails with exit 1 naming the leak", async () => {
    const { rows } = await s.stack.pg.query("select qual from pg_policies where schemaname = 'public' and tablename = 'contacts' and policyname = 'tenant_isolation_select'");
    assert.equal(rows.length, 1);
    await s.stack.pg.query("alter policy tenant_isolation_select on public.contacts using (true)");
    let r;
    try {
      r = await probe();
    } finally {
      await s.stack.pg.query(`alter policy tenant_isolation_select on public.contacts using (${rows[0].qual})`);
    }
    assert.equal(r.code, 1, r.stderr + r.stdout);
    assert.match(r.stdout, /^LEAK +probe-[0-9a-f]+ -> probe-[0-9a-f]+: .*answered 200 with probe-[0-9a-f]+'s canary/m);
    assert.match(r.stdout, /^\d+ check\(s\): \d+ held, [1-9]\d* leak\(s\), 0 unproven$/m);
    assert.deepEqual(await probeLeftovers(), { tenants: 0, users: 0, contacts: 0 }, "cleaned up after findings too");
  });

  test("against an insert policy that checks nothing, the probe finds the row planted in the other tenant", async () => {
    const { rows } = await s.stack.pg.query("select with_check from pg_policies where schemaname = 'public' and tablename = 'contacts' and policyname = 'tenant_isolation_insert'");
    assert.equal(rows.length, 1);
    await s.stack.pg.query("alter policy tenant_isolation_insert on public.contacts with check (true)");
    let r;
    try {
      r = await probe(["--json"]);
    } finally {
      await s.stack.pg.query(`alter policy tenant_isolation_insert on public.contacts with check (${rows[0].with_check})`);
    }
    assert.equal(r.code, 1, r.stderr + r.stdout);
    const leaks = r.json().checks.filter((c) => c.result === "leak");
    // Written as supabase-js writes (no RETURNING, so no select check to stop it), naming the other's tenant_id.
    assert.match(leaks[0]?.detail ?? "", /^probe-[0-9a-f]+: 1 row\(s\) planted beside its canary$/);
    assert.deepEqual(await probeLeftovers(), { tenants: 0, users: 0, contacts: 0 });
  });

  test("probe users are made only in probe tenants, only for operators, and go with the tenant's purge", async () => {
    const acme = `/admin/v1/tenants/${SEED.acme.id}/probe-users`;
    const members = async (id) => (await s.stack.pg.query("select count(*)::int as n from public.tenant_members where tenant_id = $1", [id])).rows[0].n;
    const acmeMembers = await members(SEED.acme.id);
    const refused = await s.request("POST", acme);
    assert.equal(refused.status, 409, refused.body);
    assert.match(refused.json().details, /not a probe tenant/);
    assert.deepEqual(Object.keys(refused.json()).sort(), ["code", "details", "hint", "message"]);
    assert.equal((await s.request("POST", acme, { token: null })).status, 401);
    assert.equal((await s.request("POST", acme, { token: s.tokens.user })).status, 403, "a tenant's member is no operator");
    assert.equal((await s.request("POST", acme, { token: s.tokens.aal1Admin })).status, 403, "an operator without MFA");
    // (the project's HS256 key is refused by the admin's algorithm policy already: 401)
    assert.ok([401, 403].includes((await s.request("POST", acme, { token: s.tokens.serviceRole })).status), "a project key is no operator");
    assert.equal((await s.request("POST", `/admin/v1/tenants/${crypto.randomUUID()}/probe-users`)).status, 404);
    assert.equal(await members(SEED.acme.id), acmeMembers, "nothing planted in a customer's tenant");

    // A probe tenant takes one: a confirmed Auth user, member of that tenant alone.
    const made = await s.create({ name: "Probe route", slug: `probe-${crypto.randomBytes(4).toString("hex")}`, plan: "free", admin_email: "owner@probe.invalid", probe: true });
    assert.equal(made.status, 202, made.body);
    assert.equal((await s.settle(made.json().provisioning.id)).status, "succeeded");
    const id = made.json().tenant.id;
    const u = await s.request("POST", `/admin/v1/tenants/${id}/probe-users`);
    assert.equal(u.status, 201, u.body);
    const { user_id, email, password } = u.json();
    assert.ok(password.length >= 32);
    const m = await s.stack.pg.query("select tenant_id, role from public.tenant_members where user_id = $1", [user_id]);
    assert.deepEqual(m.rows, [{ tenant_id: id, role: "member" }]);
    const signin = await fetch(`${s.stack.supabase.url}/auth/v1/token?grant_type=password`, {
      method: "POST",
      headers: { apikey: s.stack.anonKey, "content-type": "application/json" },
      body: JSON.stringify({ email, password }),
    });
    assert.equal(signin.status, 200, "confirmed: signs in at once");
    assert.equal((await signin.json()).user.app_metadata.probe, true);

    // A suspended probe tenant takes no more.
    assert.equal((await s.request("POST", `/admin/v1/tenants/${id}/suspend`)).status, 200);
    assert.equal((await s.request("POST", `/admin/v1/tenants/${id}/probe-users`)).status, 409);
    assert.equal((await s.request("DELETE", `/admin/v1/tenants/${id}`)).status, 200);
    const purged = await s.request("POST", `/admin/v1/tenants/${id}/purge`, { body: JSON.stringify({ override: true }) });
    assert.equal(purged.status, 200, purged.body);
    assert.deepEqual(purged.json().users, [user_id]);
    assert.equal((await s.stack.pg.query("select count(*)::int as n from auth.users where id = $1", [user_id])).rows[0].n, 0);
  });
});
