// The Supabase directory backend: RPC resolve_tenant, caching, stale serving, single-flight (SPEC §1.2, §3).
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { ACME, GLOBEX, TENANTS, ANON_KEY, startPair, assertRouterError, sleep, hsToken, bearer } from "./fixtures.mjs";

const supabaseDir = (extra = {}) => ({ vars: { TENANT_DIRECTORY: "supabase", ...extra } });

describe("directory backend supabase", () => {
  test("a slug host is resolved by POST /rest/v1/rpc/resolve_tenant with exactly {\"p_slug\":\"acme\"}, as anon, then cached", async () => {
    const { up, router, dispose } = await startPair(supabaseDir());
    try {
      let res = await router.request("acme.app.example", "/rest/v1/contacts", { headers: bearer(hsToken(up)) });
      assert.equal(res.status, 200, res.body);
      const calls = up.rpcCalls();
      assert.equal(calls.length, 1);
      assert.equal(calls[0].method, "POST");
      assert.deepEqual(JSON.parse(calls[0].body.toString("utf8")), { p_slug: "acme" });
      assert.match(calls[0].headers["content-type"] ?? "", /application\/json/);
      assert.equal(calls[0].headers.apikey, ANON_KEY, "the RPC is called with the anon key");
      assert.equal(up.last().headers["x-tenant-id"], ACME.id);
      res = await router.request("acme.app.example", "/rest/v1/contacts");
      assert.equal(res.status, 200);
      assert.equal(up.rpcCalls().length, 1, "the second request is served from the cache");
    } finally {
      await dispose();
    }
  });

  test("a custom domain is resolved with exactly {\"p_domain\":\"crm.globex.test\"} (normalised host)", async () => {
    const { up, router, dispose } = await startPair(supabaseDir());
    try {
      const res = await router.request("CRM.Globex.Test.:8443", "/rest/v1/contacts");
      assert.equal(res.status, 200, res.body);
      const calls = up.rpcCalls();
      assert.equal(calls.length, 1);
      assert.deepEqual(JSON.parse(calls[0].body.toString("utf8")), { p_domain: "crm.globex.test" });
      assert.equal(up.last().headers["x-tenant-id"], GLOBEX.id);
      assert.equal(up.last().headers["x-tenant-slug"], "globex");
    } finally {
      await dispose();
    }
  });

  test("reserved labels and the base domain are never looked up", async () => {
    const { up, router, dispose } = await startPair(supabaseDir());
    try {
      for (const host of ["www.app.example", "api.app.example", "app.example"]) {
        const res = await router.request(host, "/rest/v1/contacts");
        assertRouterError(res, 404, "no_tenant_for_host");
      }
      assert.equal(up.rpcCalls().length, 0);
    } finally {
      await dispose();
    }
  });

  test("RESERVED_SUBDOMAINS replaces the default list", async () => {
    const { up, router, dispose } = await startPair(supabaseDir({ RESERVED_SUBDOMAINS: "status,acme" }));
    try {
      let res = await router.request("acme.app.example", "/rest/v1/contacts");
      assertRouterError(res, 404, "no_tenant_for_host");
      res = await router.request("status.app.example", "/__router/health");
      assert.equal(res.status, 200);
      res = await router.request("www.app.example", "/rest/v1/contacts");
      assertRouterError(res, 404, "tenant_not_found");
      assert.deepEqual(JSON.parse(up.rpcCalls()[0].body.toString("utf8")), { p_slug: "www" });
    } finally {
      await dispose();
    }
  });

  test("an unknown host (RPC answers null) → 404 tenant_not_found, negatively cached", async () => {
    const { up, router, dispose } = await startPair(supabaseDir());
    try {
      for (let i = 0; i < 3; i++) {
        const res = await router.request("nobody.app.example", "/rest/v1/contacts");
        assertRouterError(res, 404, "tenant_not_found");
      }
      assert.equal(up.rpcCalls().length, 1, "the negative answer is cached for DIRECTORY_NEGATIVE_TTL_S");
    } finally {
      await dispose();
    }
  });

  for (const mode of ["error", "close"]) {
    test(`directory down (${mode === "error" ? "RPC answers 503" : "connection dropped"}) with nothing cached → 503 directory_unavailable with Retry-After`, async () => {
      const { up, router, dispose } = await startPair(supabaseDir());
      up.directory = mode;
      try {
        const res = await router.request("acme.app.example", "/rest/v1/contacts");
        assertRouterError(res, 503, "directory_unavailable");
        assert.ok(res.headers["retry-after"], "Retry-After is set");
        assert.match(res.headers["retry-after"], /^\d+$/);
        assert.equal(up.forwarded().length, 0);
        const res2 = await router.request("crm.globex.test", "/auth/v1/user");
        assertRouterError(res2, 503, "directory_unavailable", { auth: true });
        // The failure is not cached as "not found": once the directory is back, the tenant resolves.
        up.directory = "ok";
        const res3 = await router.request("acme.app.example", "/rest/v1/contacts");
        assert.equal(res3.status, 200, res3.body);
      } finally {
        await dispose();
      }
    });
  }

  test("a cached tenant past its TTL is still served while the directory is down, within DIRECTORY_STALE_S", async () => {
    const { up, router, dispose } = await startPair(supabaseDir({ DIRECTORY_TTL_S: "1", DIRECTORY_STALE_S: "300" }));
    try {
      let res = await router.request("acme.app.example", "/rest/v1/contacts");
      assert.equal(res.status, 200, res.body);
      await sleep(1300);
      up.directory = "error";
      for (let i = 0; i < 3; i++) {
        res = await router.request("acme.app.example", "/rest/v1/contacts");
        assert.equal(res.status, 200, `stale entry should be served: ${res.body}`);
        assert.equal(up.last().headers["x-tenant-id"], ACME.id);
      }
      assert.ok(up.rpcCalls().length >= 2, "a refresh was attempted after the TTL");
    } finally {
      await dispose();
    }
  });

  test("a stale entry is refreshed in the background: a changed record is picked up after the TTL", async () => {
    const tenants = structuredClone(TENANTS);
    const { up, router, dispose } = await startPair({ ...supabaseDir({ DIRECTORY_TTL_S: "1" }), tenants });
    try {
      let res = await router.request("acme.app.example", "/__router/tenant");
      assert.equal(res.json().name, "Acme Clinic");
      tenants[0].name = "Acme Clinic (renamed)";
      await sleep(1300);
      // The first request after the TTL may still get the stale record; a later one sees the new one.
      res = await router.request("acme.app.example", "/__router/tenant");
      assert.equal(res.status, 200);
      await sleep(200);
      res = await router.request("acme.app.example", "/__router/tenant");
      assert.equal(res.json().name, "Acme Clinic (renamed)");
    } finally {
      await dispose();
    }
  });

  test("single-flight: 24 concurrent first requests for a host make one directory lookup", async () => {
    const { up, router, dispose } = await startPair(supabaseDir());
    up.directoryDelayMs = 400;
    try {
      const results = await Promise.all(
        Array.from({ length: 24 }, (_, i) =>
          router.request(i % 2 ? "acme.app.example" : "crm.globex.test", `/rest/v1/contacts?i=${i}`),
        ),
      );
      for (const r of results) assert.equal(r.status, 200, r.body);
      const calls = up.rpcCalls().map((c) => c.body.toString("utf8"));
      assert.equal(calls.length, 2, `expected one lookup per host, got ${calls.length}: ${calls.join(" ")}`);
      assert.equal(up.forwarded().length, 24);
    } finally {
      await dispose();
    }
  });

  test("a suspended tenant from the RPC → 403 tenant_suspended", async () => {
    const { up, router, dispose } = await startPair(supabaseDir());
    try {
      const res = await router.request("initech.app.example", "/rest/v1/contacts");
      assertRouterError(res, 403, "tenant_suspended");
      assert.equal(up.forwarded().length, 0);
    } finally {
      await dispose();
    }
  });
});
