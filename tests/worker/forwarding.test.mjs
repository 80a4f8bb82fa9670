// What reaches the upstream and what the client gets back, for forwarded API requests (SPEC §1.4).
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startUpstream } from "../support/upstream.mjs";
import { freePort } from "../support/ports.mjs";
import { startRouter } from "../support/router.mjs";
import { HOSTS, TENANTS, ANON_KEY, baseVars, hsToken, esToken, bearer, startPair, assertRouterError, requireBuilt } from "./fixtures.mjs";

const PREFIXES = ["/rest/v1", "/auth/v1", "/storage/v1", "/functions/v1", "/graphql/v1"];

function countRaw(rec, name) {
  let n = 0;
  for (let i = 0; i < rec.rawHeaders.length; i += 2) if (rec.rawHeaders[i].toLowerCase() === name) n++;
  return n;
}

describe("forwarding", () => {
  let up, router, pair;
  before(async () => {
    pair = await startPair();
    ({ up, router } = pair);
  });
  after(async () => {
    await pair?.dispose();
  });

  for (const { label, host, tenant } of HOSTS) {
    for (const [alg, mint] of [
      ["HS256", hsToken],
      ["ES256", esToken],
    ]) {
      test(`${label}: header hygiene with an ${alg} token — hop-by-hop, Connection-named, client x-tenant-*/x-forwarded-*/forwarded/x-original-host/x-real-ip removed; one x-tenant-id/x-tenant-slug; apikey added; x-forwarded-host/proto set`, async () => {
        up.reset();
        const token = mint(up);
        const res = await router.request(host, "/rest/v1/contacts?select=id,name", {
          headers: {
            ...bearer(token),
            connection: "keep-alive, x-conn-named",
            "x-conn-named": "must-go",
            "keep-alive": "timeout=5",
            "proxy-authorization": "Basic Zm9vOmJhcg==",
            te: "trailers",
            "x-tenant-id": "00000000-0000-4000-8000-000000000bad",
            "X-Tenant-Slug": "evil",
            "x-tenant-role": "owner",
            "x-forwarded-host": "evil.example",
            "x-forwarded-for": "6.6.6.6",
            "x-forwarded-port": "443",
            forwarded: "for=6.6.6.6;host=evil.example;proto=https",
            "x-original-host": "evil.example",
            "x-real-ip": "6.6.6.6",
            "x-client-info": "supabase-js/2.119.1",
            prefer: "count=exact",
          },
        });
        assert.equal(res.status, 200, res.body);
        const rec = up.last();
        assert.ok(rec, "the upstream received the request");
        const h = rec.headers;
        for (const gone of ["x-conn-named", "keep-alive", "proxy-authorization", "te", "x-tenant-role", "x-forwarded-port", "forwarded", "x-original-host", "x-real-ip"]) {
          assert.equal(h[gone], undefined, `upstream must not see ${gone}: ${h[gone]}`);
        }
        assert.ok(!(h.connection ?? "").includes("x-conn-named"), `connection header leaked: ${h.connection}`);
        assert.equal(countRaw(rec, "x-tenant-id"), 1, "exactly one x-tenant-id");
        assert.equal(countRaw(rec, "x-tenant-slug"), 1, "exactly one x-tenant-slug");
        assert.equal(h["x-tenant-id"], tenant.id);
        assert.equal(h["x-tenant-slug"], tenant.slug);
        assert.equal(countRaw(rec, "x-forwarded-host"), 1);
        assert.equal(h["x-forwarded-host"], host);
        // Not sent by the client here: workerd under Miniflare takes a client X-Forwarded-Proto as the
        // request URL's scheme (Cloudflare's edge sets it from the connection), so it cannot be tested as
        // a forged header in this harness.
        assert.equal(h["x-forwarded-proto"], "http", "the request's scheme (workerd here serves http)");
        assert.ok(!(h["x-forwarded-for"] ?? "").includes("6.6.6.6"), `client x-forwarded-for leaked: ${h["x-forwarded-for"]}`);
        assert.equal(h.apikey, ANON_KEY, "apikey added (SUPABASE_ANON_KEY) when absent");
        assert.equal(h.authorization, `Bearer ${token}`, "the bearer token reaches Supabase unchanged");
        assert.equal(h["x-client-info"], "supabase-js/2.119.1");
        assert.equal(h.prefer, "count=exact");
        assert.equal(h.host, `127.0.0.1:${up.port}`, "Host is the upstream's");
      });
    }

    test(`${label}: apikey is added as SUPABASE_ANON_KEY when absent and kept when the client sent one`, async () => {
      up.reset();
      let res = await router.request(host, "/rest/v1/contacts");
      assert.equal(res.status, 200, res.body);
      assert.equal(up.last().headers.apikey, ANON_KEY);
      res = await router.request(host, "/rest/v1/contacts", { headers: { apikey: "sb_publishable_client_value" } });
      assert.equal(res.status, 200, res.body);
      assert.equal(up.last().headers.apikey, "sb_publishable_client_value");
      assert.equal(countRaw(up.last(), "apikey"), 1);
    });

    test(`${label}: a port and trailing dot in Host are normalised away, and x-forwarded-host is the normalised host`, async () => {
      up.reset();
      const res = await router.request(`${host.toUpperCase()}.:8787`, "/rest/v1/contacts");
      assert.equal(res.status, 200, res.body);
      assert.equal(up.last().headers["x-forwarded-host"], host);
      assert.equal(up.last().headers["x-tenant-id"], tenant.id);
    });

    for (const prefix of PREFIXES) {
      test(`${label}: ${prefix} keeps method, path, query and JSON body byte for byte`, async () => {
        up.reset();
        const pathq = `${prefix}/some/deep/path.ext?select=id,name&id=eq.5&name=like.*a%20b*&order=created_at.desc&x=%2F%3F%26&empty=`;
        const body = JSON.stringify({ a: 1, text: "ünïcødé ✓", nested: { b: [1, 2, 3] } });
        for (const method of ["GET", "POST", "PATCH", "PUT", "DELETE"]) {
          const res = await router.request(host, pathq, {
            method,
            headers: { "content-type": "application/json" },
            body: method === "GET" ? undefined : body,
          });
          assert.equal(res.status, 200, `${method} ${pathq}: ${res.body}`);
          const rec = up.last();
          assert.equal(rec.method, method);
          assert.equal(rec.url, pathq, "path and query reach the upstream unchanged");
          if (method !== "GET") assert.equal(rec.body.toString("utf8"), body);
          assert.equal(rec.headers["x-tenant-id"], tenant.id);
          const echoed = res.json();
          assert.equal(echoed.path, pathq.split("?")[0], "the client gets the upstream's answer");
        }
      });

      test(`${label}: ${prefix} passes a binary body unchanged (all 256 byte values, 200 KB)`, async () => {
        up.reset();
        const bin = Buffer.alloc(200 * 1024);
        for (let i = 0; i < bin.length; i++) bin[i] = (i * 7 + (i >> 8)) & 0xff;
        const res = await router.request(host, `${prefix}/object/bucket/file.bin/__binary`, {
          method: "POST",
          headers: { "content-type": "application/octet-stream" },
          body: bin,
        });
        assert.equal(res.status, 200, res.body.slice(0, 200));
        const rec = up.last();
        assert.equal(rec.body.length, bin.length);
        assert.ok(rec.body.equals(bin), "upstream got the exact bytes");
        assert.ok(res.bodyBuffer.equals(bin), "client got the exact bytes back");
      });
    }

    test(`${label}: a redirect_to off the tenant's hosts is replaced by the user's origin; one on the tenant's hosts is kept`, async () => {
      up.reset();
      let res = await router.request(host, `/auth/v1/authorize?provider=github&redirect_to=${encodeURIComponent("https://evil.example/steal?x=1")}`);
      assert.equal(res.status, 200, res.body);
      assert.equal(up.last().searchParams.get("redirect_to"), `http://${host}/`);
      assert.equal(up.last().searchParams.get("provider"), "github");

      const other = host === "acme.app.example" ? "https://crm.globex.test/x" : "https://acme.app.example/x";
      res = await router.request(host, `/auth/v1/otp?redirect_to=${encodeURIComponent(other)}`, {
        method: "POST",
        body: { email: "a@example.com" },
      });
      assert.equal(res.status, 200, res.body);
      assert.equal(up.last().searchParams.get("redirect_to"), `http://${host}/`, "another tenant's host is off-tenant too");

      const own = `https://${host}/welcome?step=2`;
      res = await router.request(host, `/auth/v1/verify?type=signup&token=abc&redirect_to=${encodeURIComponent(own)}`);
      assert.equal(res.status, 200, res.body);
      assert.equal(up.last().searchParams.get("redirect_to"), own, "a redirect_to on the tenant's own host is kept");
    });

    test(`${label}: an upstream Location pointing at SUPABASE_URL is rewritten to the tenant origin, keeping path and query (redirect not followed)`, async () => {
      up.reset();
      const res = await router.request(host, "/auth/v1/authorize/__location?provider=github");
      assert.equal(res.status, 302, res.body);
      assert.equal(res.headers.location, `http://${host}/auth/v1/callback?code=abc&next=%2Fhome`);
      assert.equal(up.forwarded().length, 1, "the router did not follow the redirect itself");
    });

    test(`${label}: a WebSocket upgrade on /realtime/v1 passes through (101, upstream saw Upgrade: websocket and the tenant headers, frames flow)`, async () => {
      up.reset();
      const token = esToken(up);
      const ws = await router.upgrade(host, `/realtime/v1/websocket?apikey=${ANON_KEY}&vsn=1.0.0`, {
        headers: { "x-tenant-id": "00000000-0000-4000-8000-000000000bad" },
      });
      try {
        assert.equal(ws.status, 101, `expected 101, got ${ws.status} ${ws.body ?? ""}`);
        assert.equal(ws.headers["sec-websocket-accept"], ws.expectedAccept);
        assert.equal(up.upgrades.length, 1, "the upstream saw one upgrade request");
        const rec = up.upgrades[0];
        assert.equal(rec.path, "/realtime/v1/websocket");
        assert.equal((rec.headers.upgrade ?? "").toLowerCase(), "websocket");
        assert.equal(rec.headers["x-tenant-id"], tenant.id);
        assert.equal(rec.headers["x-tenant-slug"], tenant.slug);
        assert.equal(countRaw(rec, "x-tenant-id"), 1);
        ws.send(JSON.stringify({ topic: "realtime:public", event: "phx_join", payload: { access_token: token }, ref: "1" }));
        const frame = await ws.next();
        assert.match(frame.payload.toString("utf8"), /^echo:\{"topic":"realtime:public"/);
      } finally {
        ws.close?.();
      }
    });
  }

  test("an unknown API-less path without FRONTEND_ORIGIN is 404 not_found and nothing is forwarded", async () => {
    up.reset();
    const res = await router.request("acme.app.example", "/dashboard/settings?tab=1");
    assertRouterError(res, 404, "not_found");
    assert.equal(up.forwarded().length, 0);
  });

  test("a look-alike prefix (/rest/v10, /restv1) is not an API path", async () => {
    up.reset();
    for (const p of ["/rest/v10/contacts", "/restv1/contacts", "/auth/v1x"]) {
      const res = await router.request("acme.app.example", p);
      assertRouterError(res, 404, "not_found");
    }
    assert.equal(up.forwarded().length, 0);
  });

});


describe("FRONTEND_ORIGIN", () => {
  let up, front, router;
  before(async () => {
    requireBuilt();
    up = await startUpstream({ tenants: TENANTS });
    front = await startUpstream();
    router = await startRouter(baseVars(up, { FRONTEND_ORIGIN: front.url }));
  });
  after(async () => {
    await router?.dispose();
    await up?.dispose();
    await front?.dispose();
  });

  for (const { label, host } of HOSTS) {
    test(`${label}: non-API paths go to FRONTEND_ORIGIN with path and query intact; API paths still go to Supabase`, async () => {
      up.reset();
      front.reset();
      let res = await router.request(host, "/dashboard/contacts?view=list&page=2");
      assert.equal(res.status, 200, res.body);
      assert.equal(front.requests.length, 1, "the front end got the request");
      assert.equal(front.requests[0].url, "/dashboard/contacts?view=list&page=2");
      assert.equal(up.forwarded().length, 0, "Supabase did not");
      res = await router.request(host, "/");
      assert.equal(res.status, 200);
      assert.equal(front.requests[1].url, "/");
      res = await router.request(host, "/rest/v1/contacts");
      assert.equal(res.status, 200);
      assert.equal(up.forwarded().length, 1);
      assert.equal(front.requests.length, 2);
    });
  }
});

describe("upstream failures", () => {
  test("upstream unreachable (nothing listening on SUPABASE_URL) → 502 upstream_unreachable", async () => {
    requireBuilt();
    const port = await freePort();
    const up = { url: `http://127.0.0.1:${port}` };
    const router = await startRouter(baseVars(up));
    try {
      const res = await router.request("acme.app.example", "/rest/v1/contacts", { headers: bearer(hsToken(up)) });
      assertRouterError(res, 502, "upstream_unreachable");
      const res2 = await router.request("crm.globex.test", "/auth/v1/user", { headers: bearer(hsToken(up)) });
      assertRouterError(res2, 502, "upstream_unreachable", { auth: true });
    } finally {
      await router.dispose();
    }
  });

  test("upstream closing the connection without an answer → 502 upstream_unreachable", async () => {
    const { up, router, dispose } = await startPair();
    try {
      const res = await router.request("acme.app.example", "/rest/v1/__close");
      assertRouterError(res, 502, "upstream_unreachable");
    } finally {
      await dispose();
    }
  });

  test("no response headers within UPSTREAM_TIMEOUT_MS → 504 upstream_timeout, answered before the upstream would", async () => {
    const { up, router, dispose } = await startPair({ vars: { UPSTREAM_TIMEOUT_MS: "300" } });
    up.slowMs = 3000;
    try {
      const t0 = Date.now();
      const res = await router.request("acme.app.example", "/rest/v1/__slow", { headers: bearer(hsToken(up)) });
      const took = Date.now() - t0;
      assertRouterError(res, 504, "upstream_timeout");
      assert.ok(took < 2500, `answered after ${took} ms; the deadline was 300 ms`);
    } finally {
      await dispose();
    }
  });
});
