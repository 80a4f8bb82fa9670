// CORS at the edge, error shape and the per-request JSON log line (SPEC §1.1, §1.5).
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { signForeignES256, userClaims } from "../support/upstream.mjs";
import { HOSTS, ACME, ANON_KEY, startPair, assertRouterError, hsToken, esToken, bearer } from "./fixtures.mjs";

const SUPABASE_JS_HEADERS = ["authorization", "apikey", "content-type", "x-client-info", "prefer", "range", "accept-profile", "content-profile", "x-upsert"];

function corsHeaderNames(res) {
  return Object.keys(res.headers).filter((h) => h.startsWith("access-control-"));
}

describe("CORS", () => {
  let up, router, pair;
  before(async () => {
    pair = await startPair({ vars: { ALLOWED_ORIGINS: "https://admin.example.com,http://localhost:3000" } });
    ({ up, router } = pair);
  });
  after(async () => {
    await pair?.dispose();
  });

  const allowed = {
    "acme.app.example": ["https://acme.app.example", "http://acme.app.example", "https://admin.example.com", "http://localhost:3000"],
    "crm.globex.test": ["https://crm.globex.test", "https://globex.app.example", "https://admin.example.com"],
  };

  for (const { label, host } of HOSTS) {
    for (const origin of allowed[host]) {
      test(`${label}: OPTIONS preflight from ${origin} is answered at the edge with that origin, credentials, Vary: Origin and supabase-js's headers`, async () => {
        up.reset();
        const res = await router.request(host, "/rest/v1/contacts?select=*", {
          method: "OPTIONS",
          headers: {
            origin,
            "access-control-request-method": "PATCH",
            "access-control-request-headers": "authorization,apikey,content-type,x-client-info,prefer",
          },
        });
        assert.ok(res.status === 200 || res.status === 204, `preflight status ${res.status}: ${res.body}`);
        assert.equal(res.headers["access-control-allow-origin"], origin);
        assert.equal(res.headers["access-control-allow-credentials"], "true");
        assert.ok(/(^|,\s*)origin(\s*,|$)/i.test(res.headers.vary ?? ""), `Vary should include Origin: ${res.headers.vary}`);
        const methods = (res.headers["access-control-allow-methods"] ?? "").toUpperCase();
        for (const m of ["GET", "POST", "PATCH", "PUT", "DELETE", "OPTIONS"]) assert.ok(methods.includes(m), `allow-methods lacks ${m}: ${methods}`);
        const allowHeaders = (res.headers["access-control-allow-headers"] ?? "").toLowerCase();
        for (const h of SUPABASE_JS_HEADERS) assert.ok(allowHeaders.split(/\s*,\s*/).includes(h), `allow-headers lacks ${h}: ${allowHeaders}`);
        assert.equal(up.requests.length, 0, "no upstream round trip for a preflight");
      });
    }

    for (const origin of ["https://evil.example", "https://acme.app.example.evil.example", "null", "https://admin.example.com:8443"]) {
      test(`${label}: a preflight from a refused origin (${origin}) gets no CORS headers at all and no upstream request`, async () => {
        up.reset();
        const res = await router.request(host, "/rest/v1/contacts", {
          method: "OPTIONS",
          headers: { origin, "access-control-request-method": "POST" },
        });
        assert.deepEqual(corsHeaderNames(res), [], `unexpected CORS headers: ${JSON.stringify(res.headers)}`);
        assert.ok(res.status < 500);
        assert.equal(up.requests.length, 0);
      });
    }

    test(`${label}: an ordinary response to an allowed origin carries that origin (not upstream's *), credentials and Vary: Origin`, async () => {
      up.reset();
      const origin = `https://${host}`;
      const res = await router.request(host, "/rest/v1/contacts", { headers: { origin, ...bearer(hsToken(up)) } });
      assert.equal(res.status, 200, res.body);
      assert.equal(res.headers["access-control-allow-origin"], origin);
      assert.equal(res.headers["access-control-allow-credentials"], "true");
      assert.ok(/(^|,\s*)origin(\s*,|$)/i.test(res.headers.vary ?? ""), `Vary should include Origin: ${res.headers.vary}`);
    });

    test(`${label}: an ordinary response to a refused origin has no CORS headers (upstream's * removed)`, async () => {
      up.reset();
      const res = await router.request(host, "/rest/v1/contacts", { headers: { origin: "https://evil.example" } });
      assert.equal(res.status, 200, res.body);
      assert.deepEqual(corsHeaderNames(res), [], `unexpected CORS headers: ${JSON.stringify(res.headers)}`);
    });

    test(`${label}: router errors to an allowed origin carry CORS headers too (so supabase-js can read them)`, async () => {
      const origin = `https://${host}`;
      const res = await router.request(host, "/rest/v1/contacts", { headers: { origin, ...bearer(signForeignES256(userClaims(up.url))) } });
      assertRouterError(res, 401, "invalid_token");
      assert.equal(res.headers["access-control-allow-origin"], origin);
    });
  }

  test("a preflight on an unknown host gets the same 404 tenant_not_found as any other request", async () => {
    up.reset();
    const res = await router.request("nobody.app.example", "/rest/v1/contacts", {
      method: "OPTIONS",
      headers: { origin: "https://nobody.app.example", "access-control-request-method": "GET" },
    });
    assertRouterError(res, 404, "tenant_not_found");
    assert.equal(up.forwarded().length, 0);
  });
});

describe("errors and logs", () => {
  let up, router, pair;
  before(async () => {
    pair = await startPair();
    ({ up, router } = pair);
  });
  after(async () => {
    await pair?.dispose();
  });

  test("router errors use the PostgREST shape {code, message, details, hint}; on /auth/v1 also error_code and msg", async () => {
    const bad = bearer("abc.def.ghi");
    const rest = assertRouterError(await router.request("acme.app.example", "/rest/v1/contacts", { headers: bad }), 401, "invalid_token");
    assert.ok(!("error_code" in rest) || rest.error_code === "invalid_token");
    assertRouterError(await router.request("acme.app.example", "/auth/v1/user", { headers: bad }), 401, "invalid_token", { auth: true });
    assertRouterError(await router.request("nobody.app.example", "/auth/v1/signup", { method: "POST", body: {} }), 404, "tenant_not_found", { auth: true });
    assertRouterError(await router.request("acme.app.example", "/storage/v1/object/x", { headers: bad }), 401, "invalid_token");
  });

  test("a hostile request never produces a 500 (odd methods, huge headers, odd paths)", async () => {
    const cases = [
      ["acme.app.example", "/rest/v1/%00%ff?%zz=%", { method: "GET" }],
      ["acme.app.example", "/rest/v1/contacts", { method: "PROPFIND" }],
      ["acme.app.example", "/__router/tenant", { method: "POST", body: "x" }],
      ["acme.app.example", "/__router/unknown", {}],
      ["acme.app.example", "/rest/v1/contacts", { headers: { authorization: "Bearer " + "A".repeat(8000) } }],
      ["acme.app.example", "/auth/v1/signup", { method: "POST", headers: { "content-type": "application/json" }, body: "{\"data\": 5}" }],
      ["acme.app.example", "/auth/v1/signup", { method: "POST", headers: { "content-type": "application/json" }, body: "[]" }],
      ["acme.app.example", "/auth/v1/signup", { method: "POST", headers: { "content-type": "application/json" }, body: "" }],
      ["acme.app.example", "/auth/v1/otp", { method: "POST", headers: { "content-type": "application/json" }, body: "null" }],
    ];
    const bad = [];
    for (const [host, path, opts] of cases) {
      const res = await router.request(host, path, opts);
      if (res.status >= 500) bad.push(`${opts.method ?? "GET"} ${path} gave ${res.status}: ${res.body}`);
    }
    assert.deepEqual(bad, [], bad.join("\n"));
  });

  test("one JSON log line per request with ts, tenant, host, method, route, status, latency_ms, cache, token", async () => {
    // Log lines arrive asynchronously: a marker request, waited for, fences off earlier tests' lines.
    const marker = `log-fence-${Date.now()}.app.example`;
    await router.request(marker, "/rest/v1/contacts");
    const fenceDeadline = Date.now() + 2000;
    while (!router.logs.some((l) => l.host === marker) && Date.now() < fenceDeadline) await new Promise((r) => setTimeout(r, 10));
    const before = router.logs.findIndex((l) => l.host === marker) + 1;
    assert.ok(before > 0, "the marker request was logged");
    const reqs = [
      ["acme.app.example", "/rest/v1/contacts", { headers: bearer(hsToken(up)) }, { tenant: "acme", route: "/rest/v1", status: 200, token: "user", method: "GET" }],
      ["crm.globex.test", "/auth/v1/user", { headers: bearer(esToken(up)) }, { tenant: "globex", route: "/auth/v1", status: 200, token: "user", method: "GET" }],
      ["acme.app.example", "/storage/v1/object/b/x", { method: "POST", body: "x", headers: { authorization: `Bearer ${ANON_KEY}` } }, { tenant: "acme", route: "/storage/v1", status: 200, token: "anon", method: "POST" }],
      ["acme.app.example", "/functions/v1/hello", {}, { tenant: "acme", route: "/functions/v1", status: 200, token: "none" }],
      ["acme.app.example", "/rest/v1/contacts", { headers: bearer("abc.def.ghi") }, { tenant: "acme", route: "/rest/v1", status: 401, token: "refused" }],
      ["acme.app.example", "/__router/tenant", {}, { tenant: "acme", route: "/__router/tenant", status: 200 }],
      ["acme.app.example", "/__router/health", {}, { route: "/__router/health", status: 200 }],
      ["nobody.app.example", "/rest/v1/contacts", {}, { status: 404 }],
    ];
    for (const [host, path, opts] of reqs) await router.request(host, path, opts);
    await router.waitForLogs(before + reqs.length, 1500);
    const lines = router.logs.slice(before).filter((l) => "route" in l || "latency_ms" in l);
    assert.equal(lines.length, reqs.length, `expected ${reqs.length} request log lines, got ${lines.length}: ${JSON.stringify(lines)}`);
    for (let i = 0; i < reqs.length; i++) {
      const [host, , , want] = reqs[i];
      const line = lines[i];
      for (const k of ["ts", "tenant", "host", "method", "route", "status", "latency_ms", "cache", "token"]) {
        assert.ok(k in line, `log line ${i} lacks ${k}: ${JSON.stringify(line)}`);
      }
      assert.equal(line.host, host);
      assert.equal(typeof line.latency_ms, "number");
      assert.ok(line.latency_ms >= 0);
      assert.ok(["hit", "miss", "stale", "static", null].includes(line.cache), `cache: ${line.cache}`);
      assert.ok(["none", "anon", "user", "refused"].includes(line.token), `token: ${line.token}`);
      for (const [k, v] of Object.entries(want)) assert.equal(line[k], v, `log line ${i} (${host}${reqs[i][1]}) ${k}: ${JSON.stringify(line)}`);
    }
    // A static directory reports cache "static" for a resolved tenant.
    assert.equal(lines[0].cache, "static");
    // Nothing secret is logged.
    const all = JSON.stringify(router.rawLogs.map((l) => l.message));
    assert.ok(!all.includes(ANON_KEY), "the anon key is not logged");
  });
});
