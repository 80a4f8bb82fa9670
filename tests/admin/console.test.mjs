// The operator console's side of the admin Worker in workerd (issue 18): the page and its assets
// (CSP, no external origin), the /auth/v1 pass-through for this host (supabase-js's sign-in and the
// TOTP step-up reach the project's Auth; its admin endpoints do not), and the API routes the pages
// read — members and invitations, the lifecycle audit trail, the list's usage columns, plans and the
// slug check — operators only.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import crypto from "node:crypto";
import { startAdminStack } from "./support.mjs";
import { SEED } from "../support/stack.mjs";
import { totpCode } from "../support/auth-standin.mjs";

const PG_SHAPE = ["code", "message", "details", "hint"];
let s;

before(async () => {
  s = await startAdminStack();
});
after(async () => {
  await s?.stop();
});

describe("the console's page and assets", () => {
  test("the page is served on / with a same-origin-only CSP and the publishable key, never the secret", async () => {
    const r = await s.admin.request("admin.localhost", "/");
    assert.equal(r.status, 200);
    assert.match(r.headers["content-type"], /text\/html/);
    const csp = r.headers["content-security-policy"];
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.match(csp, /connect-src 'self'(;|$)/);
    assert.equal(r.headers["x-frame-options"], "DENY");
    assert.ok(r.body.includes(`content="${s.stack.anonKey}"`), "the publishable key in the page");
    assert.ok(!r.body.includes(s.stack.supabase.serviceKey), "never the secret key");
    const src = /src="(\/console\/app\.js\?v=[0-9a-f]+)"/.exec(r.body)?.[1];
    assert.ok(src, r.body);
    const js = await s.admin.request("admin.localhost", src);
    assert.equal(js.status, 200);
    assert.match(js.headers["content-type"], /javascript/);
    assert.match(js.headers["cache-control"], /immutable/);
    assert.ok(!/https?:\/\/(cdn|unpkg|esm\.sh|jsdelivr)/.test(js.body), "no CDN at run time");
    const css = await s.admin.request("admin.localhost", "/console/app.css");
    assert.equal(css.status, 200);
    assert.equal(css.headers["cache-control"], "no-cache", "an unversioned asset URL is revalidated");
  });

  test("other paths are still the admin API's (404 in the PostgREST shape)", async () => {
    const r = await s.admin.request("admin.localhost", "/console/nothing.js");
    assert.equal(r.status, 404);
    for (const k of PG_SHAPE) assert.ok(k in r.json(), k);
  });
});

describe("/auth/v1 through the admin host", () => {
  test("password sign-in, TOTP enrolment, challenge and verify step the session up to aal2", async () => {
    const auth = (path, { method = "POST", token, body } = {}) =>
      s.admin.request("admin.localhost", `/auth/v1${path}`, {
        method,
        headers: { apikey: s.stack.anonKey, ...(token ? { authorization: `Bearer ${token}` } : {}), cookie: "x=leak", "x-forwarded-for": "6.6.6.6" },
        body,
      });
    const signin = await auth("/token?grant_type=password", { body: { email: SEED.users.bob.email, password: SEED.password } });
    assert.equal(signin.status, 200, signin.body);
    const aal1 = signin.json().access_token;
    assert.equal(JSON.parse(Buffer.from(aal1.split(".")[1], "base64url")).aal, "aal1");
    const enrolled = await auth("/factors", { token: aal1, body: { factor_type: "totp", friendly_name: `t-${crypto.randomUUID()}` } });
    assert.equal(enrolled.status, 200, enrolled.body);
    const { id, totp } = enrolled.json();
    const challenge = await auth(`/factors/${id}/challenge`, { token: aal1, body: {} });
    assert.equal(challenge.status, 200, challenge.body);
    const wrong = await auth(`/factors/${id}/verify`, { token: aal1, body: { challenge_id: challenge.json().id, code: totpCode(totp.secret, Date.now() - 300_000) } });
    assert.equal(wrong.status, 422);
    assert.equal(wrong.json().error_code, "mfa_verification_failed");
    const ok = await auth(`/factors/${id}/verify`, { token: aal1, body: { challenge_id: challenge.json().id, code: totpCode(totp.secret) } });
    assert.equal(ok.status, 200, ok.body);
    const claims = JSON.parse(Buffer.from(ok.json().access_token.split(".")[1], "base64url"));
    assert.equal(claims.aal, "aal2");
    assert.equal(claims.amr[0].method, "totp");
    assert.equal(ok.json().user.factors.find((f) => f.id === id).status, "verified");
    const last = s.outbound.filter((o) => o.url.startsWith("/auth/v1/factors")).at(-1);
    assert.ok(last, "the pass-through went to the project's Auth");
  });

  test("Auth's admin endpoints are not reachable through the console's host", async () => {
    for (const p of [`/auth/v1/admin/users/${SEED.users.alice.id}`, `/auth/v1//admin/users/${SEED.users.alice.id}`, `/auth/v1/ADMIN/users/${SEED.users.alice.id}`, `/auth/v1/x/../admin/users/${SEED.users.alice.id}`]) {
      const r = await s.admin.request("admin.localhost", p, {
        method: "DELETE",
        headers: { apikey: s.stack.supabase.serviceKey, authorization: `Bearer ${s.stack.supabase.serviceKey}` },
      });
      assert.equal(r.status, 404, `${p}: ${r.body}`);
    }
    const { rows } = await s.stack.pg.query("select 1 from auth.users where id = $1", [SEED.users.alice.id]);
    assert.equal(rows.length, 1, "alice is still there");
  });
});

describe("the console's API routes", () => {
  test("members and pending invitations of a tenant, with emails and roles", async () => {
    const r = await s.request("GET", `/admin/v1/tenants/${SEED.acme.id}/members`);
    assert.equal(r.status, 200, r.body);
    const { members, invitations } = r.json();
    const { rows } = await s.stack.pg.query("select u.email, m.role from public.tenant_members m join public.users u on u.id = m.user_id where m.tenant_id = $1 order by u.email", [SEED.acme.id]);
    assert.deepEqual(members.map((m) => ({ email: m.email, role: m.role })).sort((a, b) => a.email.localeCompare(b.email)), rows);
    const { rows: pending } = await s.stack.pg.query("select email from public.tenant_invitations where tenant_id = $1 and accepted_at is null order by created_at", [SEED.acme.id]);
    assert.deepEqual(invitations.map((i) => i.email), pending.map((p) => p.email));
    assert.ok(members.every((m) => !("tenant_id" in m)), "nothing of another tenant");
  });

  test("a new company's list row: plan, usage against its limits, domain status and last activity", async () => {
    const name = `Console ${crypto.randomBytes(3).toString("hex")}`;
    const c = await s.create({ name, plan: "free", admin_email: `o${crypto.randomBytes(3).toString("hex")}@console.localtest`, custom_domain: `crm.${crypto.randomBytes(3).toString("hex")}.localtest` });
    assert.equal(c.status, 202, c.body);
    const j = await s.settle(c.json().provisioning.id);
    assert.equal(j.status, "succeeded", JSON.stringify(j));
    const r = await s.request("GET", `/admin/v1/tenants?include=usage&limit=25&q=${encodeURIComponent(name)}`);
    assert.equal(r.status, 200, r.body);
    const [t] = r.json().tenants;
    assert.equal(t.slug, c.json().tenant.slug);
    assert.equal(t.plan.id, "free");
    assert.deepEqual(t.usage, { users: { used: 0, limit: 5 }, contacts: { used: 0, limit: 100 } });
    assert.deepEqual(t.domains.map((d) => d.hostname), [c.json().tenant.custom_domain]);
    const { rows } = await s.stack.pg.query("select max(occurred_at) as at from public.audit_log where tenant_id = $1", [t.id]);
    assert.equal(new Date(t.last_activity).getTime(), rows[0].at.getTime());
    // The seeded tenant's counts are the database's.
    const seeded = (await s.request("GET", "/admin/v1/tenants?include=usage&q=acme")).json().tenants.find((x) => x.id === SEED.acme.id);
    const { rows: n } = await s.stack.pg.query("select (select count(*)::int from public.tenant_members where tenant_id = $1) as users, (select count(*)::int from public.contacts where tenant_id = $1) as contacts", [SEED.acme.id]);
    assert.deepEqual([seeded.usage.users.used, seeded.usage.contacts.used], [n[0].users, n[0].contacts]);
    // Usage costs subrequests per tenant: pages are bounded.
    const big = await s.request("GET", "/admin/v1/tenants?include=usage&limit=26");
    assert.equal(big.status, 400);
    const bad = await s.request("GET", "/admin/v1/tenants?include=everything");
    assert.equal(bad.status, 400);
  });

  test("the audit trail reads each lifecycle action with its operator, newest first", async () => {
    const c = await s.create({ name: `Audit ${crypto.randomBytes(3).toString("hex")}`, plan: "pro", admin_email: `a${crypto.randomBytes(3).toString("hex")}@console.localtest` });
    const j = await s.settle(c.json().provisioning.id);
    assert.equal(j.status, "succeeded");
    const id = j.tenant_id;
    for (const step of ["suspend", "resume"]) assert.equal((await s.request("POST", `/admin/v1/tenants/${id}/${step}`)).status, 200);
    assert.equal((await s.request("DELETE", `/admin/v1/tenants/${id}`)).status, 200);
    const r = await s.request("GET", `/admin/v1/tenants/${id}/audit`);
    assert.equal(r.status, 200, r.body);
    const events = r.json().entries.map((e) => e.event);
    assert.deepEqual(events.slice(0, 4), ["deleted", "purge_scheduled", "resumed", "suspended"]);
    assert.equal(events.at(-1), "created");
    const suspended = r.json().entries.find((e) => e.event === "suspended");
    assert.equal(suspended.actor_id, SEED.users.carol.id);
    assert.equal(suspended.actor_email, SEED.users.carol.email);
    // Purged, its trail is still answered (redacted), ending with the purge.
    assert.equal((await s.request("POST", `/admin/v1/tenants/${id}/purge`, { body: { override: true } })).status, 200);
    const after = await s.request("GET", `/admin/v1/tenants/${id}/audit?limit=1`);
    assert.equal(after.status, 200, after.body);
    assert.deepEqual(after.json().entries.map((e) => e.event), ["purged"]);
    assert.equal((await s.request("GET", `/admin/v1/tenants/${crypto.randomUUID()}/audit`)).status, 404);
    assert.equal((await s.request("GET", `/admin/v1/tenants/${id}/audit?limit=0`)).status, 400);
  });

  test("the slug check answers the shared crate's suggestion and rules, and whether it is taken", async () => {
    const q = async (params) => {
      const r = await s.request("GET", `/admin/v1/slug?${new URLSearchParams(params)}`);
      assert.equal(r.status, 200, r.body);
      return r.json();
    };
    assert.deepEqual(await q({ name: "Acme Clinic, Inc." }), { slug: "acme-clinic-inc", valid: true, problem: null, taken: false, host: "acme-clinic-inc.localhost" });
    assert.equal((await q({ name: "Acme" })).taken, true);
    const reserved = await q({ slug: "admin" });
    assert.equal(reserved.valid, false);
    assert.match(reserved.problem, /reserved/);
    assert.equal((await q({ name: "日本" })).valid, false);
    assert.equal((await s.request("GET", "/admin/v1/slug")).status, 400);
    const plans = await s.request("GET", "/admin/v1/plans");
    assert.equal(plans.status, 200, plans.body);
    assert.deepEqual(plans.json().plans.map((p) => p.id), ["free", "pro", "enterprise"]);
  });

  test("every console route refuses a non-operator and an aal1 operator (403) and no token (401)", async () => {
    for (const path of [`/admin/v1/tenants/${SEED.acme.id}/members`, `/admin/v1/tenants/${SEED.acme.id}/audit`, "/admin/v1/slug?name=x", "/admin/v1/plans", "/admin/v1/tenants?include=usage"]) {
      for (const [token, status] of [[null, 401], [s.tokens.user, 403], [s.tokens.aal1Admin, 403]]) {
        const r = await s.request("GET", path, { token });
        assert.equal(r.status, status, `${path} with ${token ? "a token" : "none"}: ${r.body}`);
        for (const k of PG_SHAPE) assert.ok(k in r.json(), k);
      }
    }
  });
});
