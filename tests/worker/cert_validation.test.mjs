// Certificate validation on custom hostnames (SPEC §6, README: Cloudflare for SaaS): a CA's
// `/.well-known/acme-challenge/*` and `/.well-known/pki-validation/*` request reaches the origin
// untouched, before any host check or directory lookup, on any host, with whatever it carried.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startRouter } from "../support/router.mjs";
import { startUpstream } from "../support/upstream.mjs";
import { TENANTS, baseVars, requireBuilt } from "./fixtures.mjs";

describe("certificate validation passes through to the origin", () => {
  let up, router;
  const outbound = [];
  before(async () => {
    requireBuilt();
    up = await startUpstream({ tenants: TENANTS });
    // The Supabase directory: a lookup would show up in up.requests.
    router = await startRouter(baseVars(up, { TENANT_DIRECTORY: "supabase" }), {
      // Every subrequest comes here: the Supabase stand-in's go on to it, the rest is "the origin".
      outboundService: async (request) => {
        if (new URL(request.url).host === new URL(up.url).host) {
          const body = ["GET", "HEAD"].includes(request.method) ? undefined : await request.arrayBuffer();
          return fetch(request.url, { method: request.method, headers: request.headers, body });
        }
        outbound.push({
          url: request.url,
          method: request.method,
          headers: Object.fromEntries(request.headers),
          body: await request.text(),
        });
        return new Response("origin-token-body", { status: 200, headers: { "content-type": "text/plain", "x-origin": "yes" } });
      },
    });
  });
  after(async () => {
    await router?.dispose();
    await up?.dispose();
  });

  const cases = [
    ["a new custom hostname the directory does not know", "shop.new-customer.example", "/.well-known/acme-challenge/Tok3n-_abc"],
    ["a tenant's custom domain", "crm.globex.test", "/.well-known/pki-validation/ca3-0123456789abcdef.txt"],
    ["a platform host", "app.example", "/.well-known/acme-challenge/xyz"],
  ];
  for (const [label, host, path] of cases) {
    test(`${label}: ${path} goes to fetch unchanged and its answer comes back`, async () => {
      up.reset();
      outbound.length = 0;
      const res = await router.request(host, `${path}?q=1`, {
        headers: { authorization: "Bearer not-a-token", "x-tenant-id": "forged", origin: "https://evil.example" },
      });
      assert.equal(res.status, 200, res.body);
      assert.equal(res.body, "origin-token-body");
      assert.equal(res.headers["x-origin"], "yes");
      assert.equal(outbound.length, 1, "one request to the origin");
      const o = outbound[0];
      assert.equal(new URL(o.url).host, host);
      assert.equal(new URL(o.url).pathname + new URL(o.url).search, `${path}?q=1`);
      assert.equal(o.method, "GET");
      assert.equal(o.headers.authorization, "Bearer not-a-token", "nothing stripped");
      assert.equal(o.headers["x-tenant-id"], "forged", "nothing stripped or set");
      assert.equal(o.headers["x-tenant-slug"], undefined);
      assert.equal(o.headers.apikey, undefined, "no project key added");
      assert.equal(up.requests.length, 0, "no directory lookup, nothing to Supabase");
    });
  }

  test("a POST body passes through too", async () => {
    outbound.length = 0;
    const res = await router.request("crm.globex.test", "/.well-known/acme-challenge/t", { method: "POST", body: "abc", headers: { "content-type": "text/plain" } });
    assert.equal(res.status, 200);
    assert.equal(outbound[0].method, "POST");
    assert.equal(outbound[0].body, "abc");
  });

  test("other /.well-known paths are the router's as before (a lookup, then 404 for an unknown host)", async () => {
    up.reset();
    outbound.length = 0;
    const res = await router.request("shop.new-customer.example", "/.well-known/openid-configuration");
    assert.equal(res.status, 404, res.body);
    assert.equal(outbound.length, 0);
    assert.ok(up.requests.some((r) => r.path === "/rest/v1/rpc/resolve_tenant"), "looked up in the directory");
  });

  test("the pass-through is logged with the origin's status", async () => {
    const n = router.logs.length;
    await router.request("crm.globex.test", "/.well-known/acme-challenge/log");
    const logs = await router.waitForLogs(n + 1);
    const line = logs.slice(n).find((l) => l.route === "cert-validation");
    assert.ok(line, JSON.stringify(logs.slice(n)));
    assert.equal(line.status, 200);
  });
});
