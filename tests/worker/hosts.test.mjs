// Host → tenant, router endpoints and configuration errors (SPEC §1.1, §1.2, §2).
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startUpstream } from "../support/upstream.mjs";
import { startRouter } from "../support/router.mjs";
import { ACME, GLOBEX, INITECH, TENANTS, JWT_SECRET, ANON_KEY, baseVars, hsToken, bearer, startPair, withPair, assertRouterError, requireBuilt } from "./fixtures.mjs";

function profileOf(t) {
  const { id, slug, name, status, custom_domain, signup, branding } = t;
  return { id, slug, name, status, custom_domain, signup, branding };
}

describe("host → tenant", () => {
  let up, router, pair;
  before(async () => {
    pair = await startPair();
    ({ up, router } = pair);
  });
  after(async () => {
    await pair?.dispose();
  });

  for (const host of ["nobody.app.example", "unknown.example.org", "acme.app.example.evil.com", "crm.globex.test.evil.com"]) {
    test(`unknown host ${host} → 404 tenant_not_found, nothing forwarded`, async () => {
      up.reset();
      const res = await router.request(host, "/rest/v1/contacts", { headers: bearer(hsToken(up)) });
      assertRouterError(res, 404, "tenant_not_found");
      assert.equal(up.forwarded().length, 0);
    });
  }

  for (const host of ["a.b.app.example", "evil.com.app.example", "x.acme.app.example"]) {
    test(`a deeper name under a base domain (${host}) → 404 tenant_not_found`, async () => {
      up.reset();
      const res = await router.request(host, "/rest/v1/contacts");
      assertRouterError(res, 404, "tenant_not_found");
      assert.equal(up.forwarded().length, 0);
    });
  }

  for (const host of ["initech.app.example", "crm.initech.test"]) {
    test(`suspended tenant (${host}) → 403 tenant_suspended, also for /__router/tenant`, async () => {
      up.reset();
      let res = await router.request(host, "/rest/v1/contacts", { headers: bearer(hsToken(up)) });
      assertRouterError(res, 403, "tenant_suspended");
      res = await router.request(host, "/auth/v1/token?grant_type=password", { method: "POST", body: { email: "a@b.c", password: "x" } });
      assertRouterError(res, 403, "tenant_suspended", { auth: true });
      res = await router.request(host, "/__router/tenant");
      assertRouterError(res, 403, "tenant_suspended");
      assert.equal(up.forwarded().length, 0);
    });
  }

  for (const host of ["app.example", "www.app.example", "api.app.example", "app.app.example", "admin.app.example", "auth.app.example", "WWW.App.Example.:443"]) {
    test(`platform host ${host}: only /__router/health answers, everything else is 404 no_tenant_for_host`, async () => {
      up.reset();
      const health = await router.request(host, "/__router/health");
      assert.equal(health.status, 200, health.body);
      for (const [method, path] of [
        ["GET", "/rest/v1/contacts"],
        ["GET", "/__router/tenant"],
        ["POST", "/auth/v1/signup"],
        ["GET", "/"],
        ["OPTIONS", "/rest/v1/contacts"],
      ]) {
        const res = await router.request(host, path, {
          method,
          headers: method === "OPTIONS" ? { origin: "https://app.example", "access-control-request-method": "GET" } : {},
          body: method === "POST" ? { email: "a@b.c", password: "x" } : undefined,
        });
        assertRouterError(res, 404, "no_tenant_for_host", { auth: path.startsWith("/auth/v1") });
      }
      assert.equal(up.forwarded().length, 0);
    });
  }

  for (const [why, host] of [
    ["an empty label", "acme..app.example"],
    ["a leading dot", ".acme.app.example"],
    ["an underscore", "ac_me.app.example"],
    ["a label over 63 characters", `${"a".repeat(64)}.app.example`],
    ["a name over 253 characters", `${Array.from({ length: 5 }, () => "b".repeat(60)).join(".")}.example`],
    ["an IPv4 literal", "127.0.0.1"],
    ["an IPv4 literal with port", "10.0.0.1:8787"],
    ["an IPv6 literal", "[::1]"],
    ["an IPv6 literal with port", "[::1]:8787"],
  ]) {
    test(`a malformed host (${why}: ${host.slice(0, 40)}) → 400 invalid_host`, async () => {
      up.reset();
      const res = await router.request(host, "/rest/v1/contacts");
      assertRouterError(res, 400, "invalid_host");
      assert.equal(up.forwarded().length, 0);
    });
  }

  test("a 63-character label and punycode labels are valid hosts (looked up, then 404 tenant_not_found)", async () => {
    for (const host of [`${"a".repeat(63)}.app.example`, "xn--bcher-kva.app.example", "xn--bcher-kva.example"]) {
      const res = await router.request(host, "/rest/v1/contacts");
      assertRouterError(res, 404, "tenant_not_found");
    }
  });

  test("a client X-Forwarded-Host / Forwarded / X-Original-Host never chooses the tenant", async () => {
    up.reset();
    const res = await router.request("nobody.app.example", "/rest/v1/contacts", {
      headers: { "x-forwarded-host": "acme.app.example", forwarded: "host=acme.app.example", "x-original-host": "acme.app.example" },
    });
    assertRouterError(res, 404, "tenant_not_found");
    const res2 = await router.request("acme.app.example", "/rest/v1/contacts", {
      headers: { "x-forwarded-host": "crm.globex.test", "x-original-host": "crm.globex.test" },
    });
    assert.equal(res2.status, 200);
    assert.equal(up.last().headers["x-tenant-id"], ACME.id);
  });

  for (const host of ["acme.app.example", "crm.globex.test", "nobody.app.example", "app.example", "initech.app.example"]) {
    test(`GET /__router/health answers 200 JSON with a version on ${host}, without touching the upstream`, async () => {
      up.reset();
      const res = await router.request(host, "/__router/health");
      assert.equal(res.status, 200, res.body);
      const body = res.json();
      assert.equal(typeof body.version, "string", `health body should carry a version: ${res.body}`);
      assert.equal(up.requests.length, 0);
    });
  }

  for (const [host, tenant] of [
    ["acme.app.example", ACME],
    ["crm.globex.test", GLOBEX],
    ["globex.app.example", GLOBEX],
  ]) {
    test(`GET /__router/tenant on ${host} returns the public profile (id, slug, name, status, custom_domain, signup, branding), never placement`, async () => {
      up.reset();
      const res = await router.request(host, "/__router/tenant");
      assert.equal(res.status, 200, res.body);
      assert.match(res.headers["content-type"] ?? "", /application\/json/);
      const body = res.json();
      assert.deepEqual(body, profileOf(tenant));
      assert.ok(!("placement" in body));
      assert.equal(up.forwarded().length, 0);
    });
  }
});

describe("dedicated placement", () => {
  const HOOLI = {
    id: "a1b2c3d4-4444-4444-8444-0000000000ff",
    slug: "hooli",
    name: "Hooli",
    status: "active",
    custom_domain: null,
    signup: "open",
    branding: { primary_color: "#333333" },
    placement: { project: "eu-dedicated" },
  };
  const NOWHERE = { ...HOOLI, id: "a1b2c3d4-4444-4444-8444-0000000000fe", slug: "nowhere", placement: { project: "missing" } };
  // Since migration 022 resolve_tenant gives the project's opaque key instead of its name.
  const KEYED = { ...HOOLI, id: "a1b2c3d4-4444-4444-8444-0000000000fd", slug: "keyed", placement: { key: "pk_0123456789abcdef0123456789abcdef" } };
  const BADKEY = { ...HOOLI, id: "a1b2c3d4-4444-4444-8444-0000000000fc", slug: "badkey", placement: { key: "eu-dedicated" } };
  let up, dedicated, router;
  before(async () => {
    requireBuilt();
    up = await startUpstream({ tenants: [ACME, HOOLI, NOWHERE, KEYED, BADKEY] });
    dedicated = await startUpstream();
    router = await startRouter(
      baseVars(up, {
        TENANT_DIRECTORY: JSON.stringify([ACME, HOOLI, NOWHERE, KEYED, BADKEY]),
        DEDICATED_PROJECTS: JSON.stringify({
          "eu-dedicated": {
            url: dedicated.url,
            anon_key: "sb_publishable_dedicated",
            jwt_secret: "dedicated-secret-dedicated-secret-0123",
            key: KEYED.placement.key,
          },
        }),
      }),
    );
  });
  after(async () => {
    await router?.dispose();
    await up?.dispose();
    await dedicated?.dispose();
  });

  test("a tenant placed on a dedicated project is forwarded there, with that project's anon key, and its profile hides placement", async () => {
    up.reset();
    dedicated.reset();
    let res = await router.request("hooli.app.example", "/rest/v1/contacts?select=*");
    assert.equal(res.status, 200, res.body);
    assert.equal(dedicated.forwarded().length, 1);
    assert.equal(up.forwarded().length, 0);
    assert.equal(dedicated.last().headers.apikey, "sb_publishable_dedicated");
    assert.equal(dedicated.last().headers["x-tenant-id"], HOOLI.id);
    res = await router.request("hooli.app.example", "/__router/tenant");
    assert.equal(res.status, 200);
    assert.ok(!("placement" in res.json()));
  });

  test("tokens of a dedicated tenant are checked against that project's secret and issuer", async () => {
    const { signHS256, userClaims } = await import("../support/upstream.mjs");
    dedicated.reset();
    const good = signHS256(userClaims(dedicated.url), "dedicated-secret-dedicated-secret-0123");
    let res = await router.request("hooli.app.example", "/rest/v1/contacts", { headers: bearer(good) });
    assert.equal(res.status, 200, res.body);
    const sharedToken = signHS256(userClaims(up.url), JWT_SECRET);
    res = await router.request("hooli.app.example", "/rest/v1/contacts", { headers: bearer(sharedToken) });
    assertRouterError(res, 401, "invalid_token");
  });

  test("a placement naming a project missing from DEDICATED_PROJECTS → 503 placement_unavailable", async () => {
    const res = await router.request("nowhere.app.example", "/rest/v1/contacts");
    assertRouterError(res, 503, "placement_unavailable");
  });

  test("an opaque placement key (migration 022) selects the DEDICATED_PROJECTS entry that declares it", async () => {
    up.reset();
    dedicated.reset();
    const res = await router.request("keyed.app.example", "/rest/v1/contacts?select=*");
    assert.equal(res.status, 200, res.body);
    assert.equal(dedicated.forwarded().length, 1);
    assert.equal(up.forwarded().length, 0);
    assert.equal(dedicated.last().headers["x-tenant-id"], KEYED.id);
  });

  test("a placement key is matched against declared keys only, never project names; the error names neither", async () => {
    const res = await router.request("badkey.app.example", "/rest/v1/contacts");
    assertRouterError(res, 503, "placement_unavailable");
    assert.ok(!res.body.includes("eu-dedicated"), res.body);
  });
});

describe("configuration errors", () => {
  test("on /auth/v1 paths the router_misconfigured error also carries error_code and msg", async () => {
    const withoutBaseDomains = (up) => {
      const vars = baseVars(up);
      delete vars.BASE_DOMAINS;
      return vars;
    };
    await withPair({ vars: withoutBaseDomains }, async ({ up, router }) => {
      const res = await router.request("crm.globex.test", "/auth/v1/user", { headers: bearer(hsToken(up)) });
      assertRouterError(res, 500, "router_misconfigured", { auth: true });
    });
  });

  for (const [name, mutate, variable] of [
    ["BASE_DOMAINS missing", (v) => delete v.BASE_DOMAINS, "BASE_DOMAINS"],
    ["SUPABASE_URL missing", (v) => delete v.SUPABASE_URL, "SUPABASE_URL"],
    ["SUPABASE_URL not a URL", (v) => (v.SUPABASE_URL = "not a url"), "SUPABASE_URL"],
    ["TENANT_DIRECTORY not JSON", (v) => (v.TENANT_DIRECTORY = "[{broken"), "TENANT_DIRECTORY"],
    ["UPSTREAM_TIMEOUT_MS not a number", (v) => (v.UPSTREAM_TIMEOUT_MS = "soon"), "UPSTREAM_TIMEOUT_MS"],
    ["ALLOW_SERVICE_ROLE not a boolean", (v) => (v.ALLOW_SERVICE_ROLE = "maybe"), "ALLOW_SERVICE_ROLE"],
    ["JWT_ALGORITHMS with none", (v) => (v.JWT_ALGORITHMS = "none"), "JWT_ALGORITHMS"],
  ]) {
    test(`a misconfigured router (${name}) → 500 router_misconfigured naming ${variable}, logs it, forwards nothing`, async () => {
      const mutated = (up) => {
        const vars = baseVars(up);
        mutate(vars);
        return vars;
      };
      await withPair({ vars: mutated }, async ({ up, router }) => {
        for (const [host, path] of [
          ["acme.app.example", "/rest/v1/contacts"],
          ["crm.globex.test", "/storage/v1/object/x"],
          ["nobody.app.example", "/__router/tenant"],
        ]) {
          const res = await router.request(host, path, { headers: bearer(hsToken(up)) });
          const body = assertRouterError(res, 500, "router_misconfigured");
          assert.ok(JSON.stringify(body).includes(variable), `the error should name ${variable}: ${res.body}`);
        }
        assert.equal(up.requests.length, 0, "nothing forwarded");
        await router.waitForLogs(1);
        assert.ok(
          router.rawLogs.some((l) => String(l.message).includes(variable)),
          `the misconfiguration should be logged naming ${variable}; logs: ${JSON.stringify(router.rawLogs.map((l) => l.message))}`,
        );
      });
    });
  }
});

// Found by the static-directory property (src/properties/static_directory.rs): a tenant's second
// hostname was not routed by the static directory and the Supabase directory's answer for it was
// refused as not matching the host (503).
describe("every hostname a tenant lists routes to it", () => {
  const SHOP = { ...GLOBEX, domains: ["crm.globex.test", "shop.globex.test"] };
  for (const directory of ["static", "supabase"]) {
    test(`a second domain in \`domains\` reaches the tenant (${directory} directory)`, async () => {
      const tenants = [SHOP];
      const vars = directory === "static" ? { TENANT_DIRECTORY: JSON.stringify(tenants) } : { TENANT_DIRECTORY: "supabase" };
      const { up, router, dispose } = await startPair({ vars, tenants });
      try {
        const res = await router.request("shop.globex.test", "/rest/v1/contacts");
        assert.equal(res.status, 200, res.body);
        assert.equal(up.last().headers["x-tenant-id"], GLOBEX.id);
      } finally {
        await dispose();
      }
    });
  }
});
