// Per-tenant metrics (README, "Per-tenant metrics"): the built router in workerd writes one Workers
// Analytics Engine data point per request answered for a tenant, through a recording METRICS
// binding (tests/support/metrics-recorder.mjs; Miniflare's local binding drops writes). Each point
// is checked field by field against the shared layout (crates/shared/src/metrics_layout.json) and
// against the request's own log line; router endpoints and hosts without a tenant write none; a
// throwing binding costs the request nothing; without a binding nothing is written or logged.
import { describe, test, before, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { startUpstream } from "../support/upstream.mjs";
import { repoRoot } from "../support/router.mjs";
import { startRecordingRouter } from "../support/metrics-recorder.mjs";
import { ACME, GLOBEX, TENANTS, baseVars, hsToken, bearer, anonKey, requireBuilt, sleep, withPair } from "./fixtures.mjs";

const LAYOUT = JSON.parse(fs.readFileSync(path.join(repoRoot, "crates/shared/src/metrics_layout.json"), "utf8"));
/** A point's fields by name, read through the shared layout. */
function named(p) {
  const out = { tenant_id: p.indexes[0] };
  LAYOUT.blobs.forEach((n, i) => (out[n] = p.blobs[i]));
  LAYOUT.doubles.forEach((n, i) => (out[n] = p.doubles[i]));
  return out;
}

let up;
let router;

/** The points written for the requests made since the last reset (they are written synchronously, before the answer leaves). */
async function pointsAfter(fn) {
  await router.resetPoints();
  const logsBefore = router.logs.length;
  const res = await fn();
  const points = (await router.points()).map(named);
  await router.waitForLogs(logsBefore + 1);
  const lines = router.logs.slice(logsBefore).filter((l) => "route" in l && "status" in l);
  return { res, points, line: lines[lines.length - 1] };
}

describe("per-request Analytics Engine data points", () => {
  before(async () => {
    requireBuilt();
    up = await startUpstream({ tenants: TENANTS });
    up.route("/rest/v1/__boom", (rec, res) => {
      res.writeHead(500, { "content-type": "application/json" });
      res.end(JSON.stringify({ message: "boom" }));
    });
    // The Supabase directory, so the cache outcome is a real miss, then a hit.
    router = await startRecordingRouter(baseVars(up, { TENANT_DIRECTORY: "supabase" }));
  });
  after(async () => {
    await router?.dispose();
    await up?.dispose();
  });
  beforeEach(() => router.setMetricsMode("record"));

  test("a REST call with a cached token on a cached tenant is one point with every field (the first one verified it)", async () => {
    const token = hsToken(up);
    const first = await pointsAfter(() => router.request("acme.app.example", "/rest/v1/contacts?select=*", { headers: bearer(token) }));
    assert.equal(first.res.status, 200);
    assert.equal(first.points.length, 1);
    assert.deepEqual(
      { ...first.points[0], latency_ms: undefined },
      { tenant_id: ACME.id, route: "rest", status_class: "2xx", cache: "miss", token: "user", token_source: "verified", latency_ms: undefined, status: 200 },
    );

    const again = await pointsAfter(() => router.request("acme.app.example", "/rest/v1/contacts?select=*", { headers: bearer(token) }));
    assert.equal(again.points.length, 1, "exactly one point per request");
    const p = again.points[0];
    assert.deepEqual(
      { tenant_id: p.tenant_id, route: p.route, status_class: p.status_class, cache: p.cache, token: p.token, token_source: p.token_source, status: p.status },
      { tenant_id: ACME.id, route: "rest", status_class: "2xx", cache: "hit", token: "user", token_source: "cached", status: 200 },
    );
    assert.ok(Number.isFinite(p.latency_ms) && p.latency_ms >= 0 && p.latency_ms < 15000, `latency ${p.latency_ms}`);
    // The point says what the request's log line says.
    assert.deepEqual(
      [again.line.tenant, again.line.route, again.line.status, again.line.cache, again.line.token],
      ["acme", "/rest/v1", p.status, p.cache, p.token],
    );
  });

  test("an auth call on a custom domain is the auth route class of that tenant", async () => {
    await router.request("crm.globex.test", "/rest/v1/x", { headers: { apikey: anonKey() } }); // warm the directory
    const { res, points, line } = await pointsAfter(() =>
      router.request("crm.globex.test", "/auth/v1/token?grant_type=password", {
        method: "POST",
        headers: { apikey: anonKey(), "content-type": "application/json" },
        body: { email: "a@globex.test", password: "pw" },
      }),
    );
    assert.equal(points.length, 1);
    assert.deepEqual(points[0].tenant_id, GLOBEX.id);
    assert.equal(points[0].route, "auth");
    assert.equal(points[0].status, res.status);
    assert.equal(points[0].status_class, `${String(res.status)[0]}xx`);
    assert.equal(points[0].cache, "hit");
    assert.equal(points[0].token, line.token);
    assert.ok(["none", "anon"].includes(points[0].token));
    assert.equal(points[0].token_source, "none", "no JWT was verified");
  });

  test("a refused token is a 4xx point with the token kind refused", async () => {
    const { res, points } = await pointsAfter(() =>
      router.request("acme.app.example", "/rest/v1/contacts", { headers: bearer("not.a.jwt") }),
    );
    assert.equal(res.status, 401);
    assert.equal(points.length, 1);
    assert.deepEqual(
      [points[0].tenant_id, points[0].route, points[0].status_class, points[0].token, points[0].token_source, points[0].status],
      [ACME.id, "rest", "4xx", "refused", "none", 401],
    );
  });

  test("an upstream 5xx is a 5xx point", async () => {
    const { res, points } = await pointsAfter(() => router.request("acme.app.example", "/rest/v1/__boom", { headers: { apikey: anonKey() } }));
    assert.equal(res.status, 500);
    assert.equal(points.length, 1);
    assert.deepEqual([points[0].route, points[0].status_class, points[0].status], ["rest", "5xx", 500]);
  });

  test("router endpoints and requests that resolve no tenant write no point", async () => {
    await router.resetPoints();
    const answers = [
      await router.request("acme.app.example", "/__router/health"),
      await router.request("acme.app.example", "/__router/tenant"),
      await router.request("acme.app.example", "/__router/nothing"),
      await router.request("nobody.app.example", "/rest/v1/contacts"),
      await router.request("app.example", "/rest/v1/contacts"),
    ];
    assert.deepEqual(
      answers.map((r) => r.status),
      [200, 200, 404, 404, 404],
    );
    assert.deepEqual(await router.points(), []);
  });

  test("a binding that throws costs the request nothing: same answer, an error line, no point", async () => {
    await router.setMetricsMode("throw");
    const { res, points } = await pointsAfter(() => router.request("acme.app.example", "/rest/v1/contacts?select=id", { headers: bearer(hsToken(up)) }));
    assert.equal(res.status, 200);
    assert.equal(up.last().path, "/rest/v1/contacts");
    assert.deepEqual(points, []);
    await sleep(50);
    assert.ok(
      router.rawLogs.some((l) => /metrics_write_failed/.test(l.message) && /analytics engine unavailable/.test(l.message)),
      "the failed write is logged",
    );
    await router.setMetricsMode("record");
    const { points: later } = await pointsAfter(() => router.request("acme.app.example", "/rest/v1/contacts", { headers: { apikey: anonKey() } }));
    assert.equal(later.length, 1, "the next request writes again");
  });
});

describe("without a METRICS binding", () => {
  test("requests are answered and nothing about metrics is logged", async () => {
    await withPair({}, async ({ up, router: plain }) => {
      const res = await plain.request("acme.app.example", "/rest/v1/contacts", { headers: bearer(hsToken(up)) });
      assert.equal(res.status, 200);
      await plain.waitForLogs(1);
      assert.ok(plain.logs.some((l) => l.route === "/rest/v1" && l.status === 200));
      assert.ok(!plain.rawLogs.some((l) => /metrics/.test(l.message)), "no metrics error without a binding");
    });
  });
});
