// The admin Worker in workerd (issue 14): who may call it, the provisioning journal end to end
// (tenant, plan, first admin, custom hostname whose certificate goes active once the Cloudflare
// stand-in fetched its token through the router), idempotent retries, slug rules and races, and a
// failure injected at every step — the database, Cloudflare, the invite, and the Worker cut off
// mid-way then the reconciler — leaving nothing behind or finishing the job.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import crypto from "node:crypto";
import { startAdminStack } from "./support.mjs";
import { SEED } from "../support/stack.mjs";
import { tenantClient } from "../e2e/helpers.mjs";

const PG_SHAPE = ["code", "message", "details", "hint"];
let s;
let n = 0;
const company = (over = {}) => {
  n += 1;
  return { name: `Newco ${n} ${crypto.randomBytes(3).toString("hex")}`, plan: "pro", admin_email: `owner${n}@newco.localtest`, ...over };
};
const fault = (part, method, status = 503, body = { message: "injected failure" }) => ({
  match: (u, m) => u.pathname.includes(part) && (!method || m === method),
  respond: () => new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } }),
  times: 1,
});

async function expectNothingLeft(tenantId, hostname) {
  assert.deepEqual(await s.tenantRows(tenantId), {}, "no row of the tenant in any tenant table");
  if (hostname) assert.equal(s.cf.hostnames().filter((h) => h.hostname === hostname).length, 0, "no custom hostname left at Cloudflare");
}

describe("admin service", () => {
  before(async () => {
    s = await startAdminStack();
  });
  after(async () => {
    await s?.stop();
  });

  describe("authorisation", () => {
    const forged = () => {
      // A real user's token with app_metadata and aal rewritten: the signature no longer matches.
      const [h, p, sig] = s.tokens.user.split(".");
      const claims = JSON.parse(Buffer.from(p, "base64url"));
      claims.app_metadata = { ...claims.app_metadata, platform_role: "admin" };
      claims.aal = "aal2";
      return `${h}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.${sig}`;
    };
    for (const [what, token, status] of [
      ["no token", () => null, 401],
      ["a garbage token", () => "abc.def.ghi", 401],
      ["a forged app_metadata", forged, 401],
      ["a non-admin user with MFA", () => s.tokens.user, 403],
      ["a platform admin without MFA (aal1)", () => s.tokens.aal1Admin, 403],
      // An HS256 legacy key, and this admin allows ES256/RS256 only (JWT_ALGORITHMS): refused before its
      // claims are read. A verified service_role token is 403 (admin/tests/core.rs).
      ["the service_role key", () => s.tokens.serviceRole, 401],
    ]) {
      test(`${what} is refused ${status} in the PostgREST shape`, async () => {
        const r = await s.request("POST", "/admin/v1/tenants", { token: token(), body: company(), key: crypto.randomUUID() });
        assert.equal(r.status, status, r.body);
        for (const k of PG_SHAPE) assert.ok(k in r.json(), k);
        const g = await s.request("GET", "/admin/v1/tenants", { token: token() });
        assert.equal(g.status, status);
      });
    }
    test("unknown paths are 404 JSON", async () => {
      const r = await s.request("GET", "/admin/v2/x");
      assert.equal(r.status, 404);
      assert.equal(r.json().code, "not_found");
    });
  });

  test("one call makes the company: tenant, plan, owner invitation, custom hostname whose certificate goes active through the router", async () => {
    const host = "crm.newco-one.localtest";
    const body = company({ name: "Newco One, Inc.", custom_domain: host, branding: { primary_color: "#123456" } });
    const r = await s.create(body);
    assert.equal(r.status, 202, r.body);
    const { provisioning, tenant } = r.json();
    assert.equal(tenant.slug, "newco-one-inc");
    assert.deepEqual(provisioning.steps.map((x) => x.name), ["create_tenant", "custom_hostname", "invite_admin"]);
    const j = await s.settle(provisioning.id);
    assert.equal(j.status, "succeeded", JSON.stringify(j));
    assert.ok(j.steps.every((x) => x.status === "done" && x.at));

    const { rows: t } = await s.stack.pg.query("select slug, status from public.tenants where id = $1", [tenant.id]);
    assert.deepEqual(t, [{ slug: "newco-one-inc", status: "active" }]);
    const { rows: sub } = await s.stack.pg.query("select plan_id from public.tenant_subscriptions where tenant_id = $1", [tenant.id]);
    assert.deepEqual(sub, [{ plan_id: "pro" }]);
    const { rows: inv } = await s.stack.pg.query("select email, role from public.tenant_invitations where tenant_id = $1", [tenant.id]);
    assert.deepEqual(inv, [{ email: body.admin_email, role: "owner" }]);
    assert.equal(s.stack.supabase.auth.mailbox(body.admin_email).at(-1)?.type, "invite");
    const { rows: users } = await s.stack.pg.query("select raw_user_meta_data->>'tenant_id' as t from auth.users where email = $1", [body.admin_email]);
    assert.deepEqual(users, [{ t: tenant.id }]);
    const [ch] = s.cf.hostnames().filter((h) => h.hostname === host);
    assert.ok(ch, "custom hostname at Cloudflare");
    assert.equal(ch.ssl.method, "http");

    // The certificate waits as a status; it goes active once the stand-in fetched its token through the router.
    let shown;
    const end = Date.now() + 10000;
    do {
      await new Promise((res) => setTimeout(res, 100));
      shown = (await s.request("GET", `/admin/v1/tenants/${tenant.id}`)).json();
    } while (shown.hostnames?.[0]?.ssl_status !== "active" && Date.now() < end);
    assert.equal(shown.hostnames[0].hostname, host);
    assert.equal(shown.hostnames[0].ssl_status, "active");
    assert.equal(shown.hostnames[0].status, "active");
    assert.equal(shown.hostnames[0].cloudflare_id, ch.id);
    assert.ok(ch.validation_fetches >= 1, "the token was fetched through the router");
    assert.equal(shown.plan.id, "pro");
    assert.equal(shown.member_count, 0);
    assert.deepEqual(Object.keys(shown.usage).sort(), ["campaigns", "contacts", "users"]);

    const list = (await s.request("GET", `/admin/v1/tenants?q=Newco%20One&limit=5`)).json();
    assert.deepEqual(list.tenants.map((x) => x.id), [tenant.id]);
    // Pages follow the cursor (the last slug of the page) without repeats.
    const p1 = (await s.request("GET", "/admin/v1/tenants?limit=1")).json();
    const p2 = (await s.request("GET", `/admin/v1/tenants?limit=1&cursor=${p1.next_cursor}`)).json();
    assert.equal(p1.tenants.length, 1);
    assert.ok(p2.tenants[0].slug > p1.tenants[0].slug);
    assert.equal((await s.request("GET", "/admin/v1/tenants?limit=0")).status, 400);
    assert.equal((await s.request("GET", "/admin/v1/tenants?status=gone")).status, 400);
  });

  test("validation records appear asynchronously, the certificate pending until then", async () => {
    const host = "shop.newco-txt.localtest";
    const r = await s.create(company({ custom_domain: host }));
    const j = await s.settle(r.json().provisioning.id);
    assert.equal(j.status, "succeeded");
    const shown = (await s.request("GET", `/admin/v1/tenants/${r.json().tenant.id}`)).json();
    assert.ok(["initializing", "pending_validation", "pending_issuance", "pending_deployment", "active"].includes(shown.hostnames[0].ssl_status));
    assert.ok(shown.hostnames[0].verification.some((v) => v.purpose === "ownership"));
  });

  test("a retry with the same Idempotency-Key answers the first provisioning; another body with it is 422", async () => {
    const body = company();
    const key = crypto.randomUUID();
    const [a, b] = [await s.create(body, key), await s.create(body, key)];
    assert.equal(a.status, 202);
    assert.equal(b.status, 202);
    assert.equal(b.json().provisioning.id, a.json().provisioning.id);
    await s.settle(a.json().provisioning.id);
    const c = await s.create(body, key); // after it finished, too
    assert.equal(c.json().provisioning.id, a.json().provisioning.id);
    const { rows } = await s.stack.pg.query("select count(*)::int as n from public.tenants where slug = $1", [a.json().tenant.slug]);
    assert.equal(rows[0].n, 1);
    const other = await s.create({ ...body, plan: "free" }, key);
    assert.equal(other.status, 422, other.body);
    for (const k of PG_SHAPE) assert.ok(k in other.json());
    const none = await s.request("POST", "/admin/v1/tenants", { body });
    assert.equal(none.status, 400);
    assert.equal(none.json().code, "idempotency_key_required");
  });

  describe("slug rules", () => {
    for (const [slug, why] of [["admin", "reserved"], ["ab", "short"], ["Acme", "uppercase"], ["-x-y", "hyphen"], ["xn--abc", "punycode"], ["a".repeat(64), "long"]]) {
      test(`${why} slug ${slug.slice(0, 10)} is 400`, async () => {
        const r = await s.create(company({ slug }));
        assert.equal(r.status, 400, r.body);
        assert.equal(r.json().code, "invalid_body");
      });
    }
    test("a taken slug is 409", async () => {
      const r = await s.create(company({ slug: SEED.acme.slug }));
      assert.equal(r.status, 409);
      assert.equal(r.json().code, "slug_taken");
    });
    test("concurrent creates of one slug make one tenant; the others are 409 or fail compensated", async () => {
      const slug = `race-${crypto.randomBytes(3).toString("hex")}`;
      const answers = await Promise.all([1, 2, 3].map(() => s.create(company({ slug }))));
      const accepted = answers.filter((a) => a.status === 202);
      assert.ok(accepted.length >= 1);
      assert.ok(answers.every((a) => a.status === 202 || a.status === 409), answers.map((a) => a.status).join());
      const journals = await Promise.all(accepted.map((a) => s.settle(a.json().provisioning.id)));
      assert.equal(journals.filter((j) => j.status === "succeeded").length, 1);
      for (const j of journals.filter((x) => x.status === "failed")) {
        assert.match(j.error, /create_tenant/);
        await expectNothingLeft(j.tenant_id);
      }
      const { rows } = await s.stack.pg.query("select count(*)::int as n from public.tenants where slug = $1", [slug]);
      assert.equal(rows[0].n, 1);
    });
  });

  describe("a failure at any step leaves nothing behind", () => {
    const cases = [
      ["the database (provision_tenant)", () => fault("/rest/v1/rpc/provision_tenant", "POST"), "create_tenant"],
      ["Cloudflare (create the hostname)", () => fault("/custom_hostnames", "POST", 500, { success: false, errors: [{ code: 1000, message: "boom" }] }), "custom_hostname"],
      ["Cloudflare refusing the hostname (1411)", () => null, "custom_hostname", "crm.example.com"],
      ["the database (recording the hostname)", () => fault("/rest/v1/tenant_domains", "PATCH"), "custom_hostname"],
      ["the invite", () => fault("/auth/v1/invite", "POST", 500, { code: 500, error_code: "unexpected_failure", msg: "smtp down" }), "invite_admin"],
    ];
    for (const [what, rule, step, domain] of cases) {
      test(what, async () => {
        const host = domain ?? `crm.fail-${crypto.randomBytes(3).toString("hex")}.localtest`;
        const f = rule();
        if (f) s.faults.push(f);
        const r = await s.create(company({ custom_domain: host }));
        assert.equal(r.status, 202, r.body);
        const j = await s.settle(r.json().provisioning.id);
        assert.equal(j.status, "failed", JSON.stringify(j));
        assert.match(j.error, new RegExp(`^${step}: `));
        const failed = j.steps.find((x) => x.name === step);
        assert.equal(failed.status, "compensated");
        assert.equal(failed.error, j.error, "the step keeps its cause");
        assert.ok(j.steps.every((x) => ["compensated", "pending"].includes(x.status)), JSON.stringify(j.steps));
        await expectNothingLeft(j.tenant_id, host);
      });
    }
    test("Cloudflare's documented refusals reach the journal with their codes", async () => {
      for (const [host, code] of [["crm.acme.test", 1409], ["bad_host.localtest", null], ["shop.example.com", 1411]]) {
        const r = await s.create(company({ custom_domain: host }));
        if (code === null) {
          assert.equal(r.status, 400); // not a hostname: refused before Cloudflare
          continue;
        }
        const j = await s.settle(r.json().provisioning.id);
        assert.equal(j.status, "failed");
        assert.match(j.error, new RegExp(`${code}`));
      }
    });
  });

  test("the Worker cut off mid-way: the reconciler finishes the job after the lease", async () => {
    const host = `crm.cut-${crypto.randomBytes(3).toString("hex")}.localtest`;
    // The runner dies when it records the hostname step done (as if the Worker were evicted there).
    const from = s.outbound.length;
    const hostnameMade = () => s.outbound.slice(from).some((o) => o.method === "POST" && o.url.includes("/custom_hostnames"));
    s.faults.push({ ...fault("/rpc/record_provisioning_step", "POST"), match: (u, m) => m === "POST" && u.pathname.endsWith("/rpc/record_provisioning_step") && hostnameMade() });
    const r = await s.create(company({ custom_domain: host }));
    const id = r.json().provisioning.id;
    await new Promise((res) => setTimeout(res, 1500));
    let j = (await s.request("GET", `/admin/v1/provisionings/${id}`)).json();
    assert.equal(j.status, "running", JSON.stringify(j));
    // The reconciler leaves it alone while the lease holds, then takes over.
    await s.reconcile();
    assert.equal((await s.request("GET", `/admin/v1/provisionings/${id}`)).json().status, "running");
    await s.stack.pg.query("update public.provisionings set lease_until = now() - interval '1 second' where id = $1", [id]);
    await s.reconcile();
    j = await s.settle(id, 5000);
    assert.equal(j.status, "succeeded", JSON.stringify(j));
    assert.equal(s.cf.hostnames().filter((h) => h.hostname === host).length, 1, "one hostname, not two");
    const { rows } = await s.stack.pg.query("select cloudflare_id from public.tenant_domains where hostname = $1", [host]);
    assert.equal(rows.length, 1);
    assert.ok(rows[0].cloudflare_id);
  });

  test("a compensation that fails is retried by the reconciler until nothing is left", async () => {
    const host = `crm.comp-${crypto.randomBytes(3).toString("hex")}.localtest`;
    s.faults.push(fault("/auth/v1/invite", "POST", 500, { msg: "down" }));
    s.faults.push(fault("/rest/v1/rpc/unprovision_tenant", "POST"));
    const r = await s.create(company({ custom_domain: host }));
    const id = r.json().provisioning.id;
    await new Promise((res) => setTimeout(res, 1500));
    let j = (await s.request("GET", `/admin/v1/provisionings/${id}`)).json();
    assert.equal(j.status, "compensating", JSON.stringify(j));
    await s.stack.pg.query("update public.provisionings set lease_until = now() - interval '1 second' where id = $1", [id]);
    await s.reconcile();
    j = await s.settle(id, 5000);
    assert.equal(j.status, "failed", JSON.stringify(j));
    assert.match(j.error, /^invite_admin: 500/);
    assert.match(j.steps.find((x) => x.name === "invite_admin").error, /^invite_admin: 500/);
    await expectNothingLeft(j.tenant_id, host);
  });

  /** The invitee reads the code mailed to them, verifies it on the tenant's host and accepts. */
  async function acceptOnTenantHost(slug, tenantId, email, type) {
    const code = s.stack.supabase.auth.mailbox(email).at(-1)?.token;
    assert.ok(code, `nothing mailed to ${email}`);
    const sb = tenantClient(s.stack, `${slug}.localhost`);
    const { error: verifyErr } = await sb.auth.verifyOtp({ email, token: code, type });
    assert.equal(verifyErr, null, verifyErr?.message);
    const { error } = await sb.rpc("accept_invitation", { p_tenant_id: tenantId });
    assert.equal(error, null, error?.message);
    const { rows } = await s.stack.pg.query(
      "select m.role from public.tenant_members m join auth.users u on u.id = m.user_id where m.tenant_id = $1 and u.email = $2",
      [tenantId, email],
    );
    assert.deepEqual(rows, [{ role: "owner" }]);
  }

  test("the invited first admin verifies the mailed code on the tenant's host and becomes its owner", async () => {
    const body = company();
    const r = await s.create(body);
    const j = await s.settle(r.json().provisioning.id);
    assert.equal(j.status, "succeeded");
    await acceptOnTenantHost(r.json().tenant.slug, j.tenant_id, body.admin_email, "invite");
    const shown = (await s.request("GET", `/admin/v1/tenants/${j.tenant_id}`)).json();
    assert.equal(shown.member_count, 1);
    assert.equal(shown.usage.users.used, 1);
  });

  test("an address that already has an account is invited the same way and accepts with accept_invitation", async () => {
    const email = SEED.users.bob.email;
    const r = await s.create(company({ admin_email: email }));
    const j = await s.settle(r.json().provisioning.id);
    assert.equal(j.status, "succeeded", JSON.stringify(j));
    assert.equal(s.stack.supabase.auth.mailbox(email).at(-1)?.type, "magiclink", "a sign-in link was mailed");
    await acceptOnTenantHost(r.json().tenant.slug, j.tenant_id, email, "magiclink");
  });
});

describe("PATCH /admin/v1/tenants/:id", () => {
  before(async () => {
    s = await startAdminStack();
  });
  after(async () => {
    await s?.stop();
  });

  test("plan, branding and signup change; bad values are 4xx", async () => {
    const j = await s.settle((await s.create(company())).json().provisioning.id);
    const r = await s.request("PATCH", `/admin/v1/tenants/${j.tenant_id}`, { body: { plan: "free", signup: "open", branding: { primary_color: "#000000" } } });
    assert.equal(r.status, 200, r.body);
    assert.equal(r.json().plan.id, "free");
    assert.equal(r.json().signup, "open");
    assert.equal(r.json().branding.primary_color, "#000000");
    assert.equal((await s.request("PATCH", `/admin/v1/tenants/${j.tenant_id}`, { body: { plan: "no-such-plan" } })).status, 409);
    assert.equal((await s.request("PATCH", `/admin/v1/tenants/${j.tenant_id}`, { body: { signup: "maybe" } })).status, 400);
    assert.equal((await s.request("PATCH", `/admin/v1/tenants/${j.tenant_id}`, { body: { owner: "x" } })).status, 400);
    assert.equal((await s.request("PATCH", `/admin/v1/tenants/${crypto.randomUUID()}`, { body: {} })).status, 404);
  });

  test("a domain change serves old and new until the new one is active, then removes the old", async () => {
    const oldHost = "crm.mover.localtest";
    const newHost = "app.mover-new.localtest";
    const j = await s.settle((await s.create(company({ custom_domain: oldHost }))).json().provisioning.id);
    const show = async () => (await s.request("GET", `/admin/v1/tenants/${j.tenant_id}`)).json();
    let t;
    for (let i = 0; i < 100 && (t = await show()).custom_domain !== oldHost; i++) await new Promise((r) => setTimeout(r, 100));
    assert.equal(t.custom_domain, oldHost, "the first domain became the primary once active");

    const r = await s.request("PATCH", `/admin/v1/tenants/${j.tenant_id}`, { body: { custom_domain: newHost } });
    assert.equal(r.status, 200, r.body);
    assert.equal(r.json().custom_domain, oldHost, "the old one stays primary while the new one is pending");
    assert.deepEqual(r.json().hostnames.map((h) => h.hostname).sort(), [oldHost, newHost].sort());
    const both = s.cf.hostnames().map((h) => h.hostname);
    assert.ok(both.includes(oldHost) && both.includes(newHost));

    // The reconciler alone (no GET) promotes the new one once its certificate is active.
    for (let i = 0; i < 100; i++) {
      await s.reconcile();
      const { rows } = await s.stack.pg.query("select custom_domain from public.tenants where id = $1", [j.tenant_id]);
      if (rows[0].custom_domain === newHost) break;
      await new Promise((res) => setTimeout(res, 100));
    }
    t = await show();
    assert.equal(t.custom_domain, newHost);
    assert.deepEqual(t.hostnames.map((h) => h.hostname), [newHost]);
    assert.ok(!s.cf.hostnames().some((h) => h.hostname === oldHost), "the old custom hostname is deleted at Cloudflare");
  });

  test("a domain Cloudflare refuses is 4xx and leaves no row", async () => {
    const j = await s.settle((await s.create(company())).json().provisioning.id);
    const r = await s.request("PATCH", `/admin/v1/tenants/${j.tenant_id}`, { body: { custom_domain: "crm.refused.test" } });
    assert.equal(r.status, 400, r.body);
    const { rows } = await s.stack.pg.query("select * from public.tenant_domains where tenant_id = $1", [j.tenant_id]);
    assert.equal(rows.length, 0);
  });
});
