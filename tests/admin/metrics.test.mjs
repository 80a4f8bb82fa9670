// Per-tenant metrics on the admin API (README, "Per-tenant metrics"): the admin Worker in workerd
// asks Workers Analytics Engine's SQL API — the test stand-in (tests/support/analytics-standin.mjs),
// which runs the admin's real SQL on the stack's PostgreSQL — and every figure must equal the
// weighted truth computed here from the rows. The rows' `_sample_interval`s are above 1 and varied,
// so the same SQL without the weights gives other figures (checked, through the stand-in itself).
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import { startAdminStack, runTenantctl, TENANTCTL } from "./support.mjs";
import { SEED } from "../support/stack.mjs";
import { startRecordingRouter } from "../support/metrics-recorder.mjs";
import { LAYOUT, sampledRow } from "../support/analytics-standin.mjs";

const STATUS_BLOB = LAYOUT.blobs.indexOf("status_class");
const LATENCY = LAYOUT.doubles.indexOf("latency_ms");
const PURGED = "99999999-9999-4999-8999-999999999999";
const T0 = Date.parse("2026-11-30T10:00:00Z");
const SINCE = "2026-11-30T10:00:00Z";
const UNTIL = "2026-11-30T10:05:00Z";

/** A row as the router writes it (the shared layout), `at` seconds after T0. */
const row = (tenant, at, status, latency, sampleInterval) => sampledRow(tenant, T0 + at * 1000, status, latency, sampleInterval);

// acme: many rows, small and uneven weights; globex: few rows, heavy weights (busier once weighted).
const ROWS = [
  row(SEED.acme.id, 5, 200, 10, 1),
  row(SEED.acme.id, 10, 200, 12, 1),
  row(SEED.acme.id, 20, 500, 300, 9),
  row(SEED.acme.id, 30, 404, 50, 2),
  row(SEED.acme.id, 65, 200, 15, 3),
  row(SEED.acme.id, 70, 200, 20, 1),
  row(SEED.acme.id, 80, 503, 800, 1),
  row(SEED.acme.id, 200, 200, 11, 1),
  row(SEED.acme.id, 210, 201, 13, 1),
  row(SEED.acme.id, 220, 429, 40, 4),
  row(SEED.globex.id, 15, 200, 30, 50),
  row(SEED.globex.id, 100, 500, 100, 20),
  row(PURGED, 100, 200, 5, 2),
];
// Outside [SINCE, UNTIL): before, and exactly at the (excluded) end.
const OUTSIDE = [row(SEED.acme.id, -10, 200, 999, 5), row(SEED.acme.id, 300, 500, 999, 5)];

/** quantileExactWeighted as AE (ClickHouse) documents it: each value counted w times. */
function weightedQuantile(rows, q) {
  const sorted = [...rows].sort((a, b) => a.doubles[LATENCY] - b.doubles[LATENCY]);
  const threshold = Math.ceil(sorted.reduce((n, r) => n + r.sampleInterval, 0) * q);
  let acc = 0;
  for (const r of sorted) {
    acc += r.sampleInterval;
    if (acc >= threshold) return r.doubles[LATENCY];
  }
  return sorted.at(-1).doubles[LATENCY];
}

/** The weighted truth of `rows`, in the API's shape. */
function truth(rows) {
  const w = (f) => rows.filter(f).reduce((n, r) => n + r.sampleInterval, 0);
  const requests = w(() => true);
  const errors = w((r) => r.blobs[STATUS_BLOB] === "5xx");
  const q = (p) => (requests ? weightedQuantile(rows, p) : null);
  return {
    requests,
    client_errors: w((r) => r.blobs[STATUS_BLOB] === "4xx"),
    errors,
    error_rate: requests ? errors / requests : 0,
    p50_ms: q(0.5),
    p95_ms: q(0.95),
    p99_ms: q(0.99),
  };
}

let s;

describe("per-tenant metrics from Workers Analytics Engine", () => {
  before(async () => {
    s = await startAdminStack({ analytics: true });
    await s.analytics.insert([...ROWS, ...OUTSIDE]);
  });
  after(async () => {
    await s?.stop();
  });

  test("a tenant's series and totals equal the weighted truth, empty buckets as zero points", async () => {
    const r = await s.request("GET", `/admin/v1/tenants/${SEED.acme.id}/metrics?since=${SINCE}&until=${UNTIL}&step=60`);
    assert.equal(r.status, 200, r.body);
    const m = r.json();
    assert.deepEqual([m.enabled, m.since, m.until, m.step_s], [true, SINCE, UNTIL, 60]);
    const acme = ROWS.filter((x) => x.index1 === SEED.acme.id);
    assert.equal(m.points.length, 5);
    m.points.forEach((p, i) => {
      const start = T0 + i * 60_000;
      assert.equal(p.t, new Date(start).toISOString().replace(".000", ""));
      const inBucket = acme.filter((x) => x.timestamp >= start && x.timestamp < start + 60_000);
      assert.deepEqual({ ...p, t: undefined }, { ...truth(inBucket), t: undefined }, `bucket ${i}`);
    });
    assert.equal(m.points[2].requests, 0, "an empty minute is a zero point");
    assert.equal(m.points[2].p95_ms, null);
    assert.deepEqual(m.totals, truth(acme));
  });

  test("the same SQL without the sample interval gives other figures: the rows tell weighted from unweighted", async () => {
    s.analytics.queries.length = 0;
    const weighted = (await s.request("GET", `/admin/v1/tenants/${SEED.acme.id}/metrics?since=${SINCE}&until=${UNTIL}`)).json();
    const totalsSql = s.analytics.queries.find((q) => !/GROUP BY/i.test(q));
    assert.ok(totalsSql, "the totals query was sent");
    const unweightedSql = totalsSql.replaceAll("_sample_interval", "1");
    const res = await s.analytics.handle(
      new Request(`http://cf/accounts/${s.analytics.accountId}/analytics_engine/sql`, {
        method: "POST",
        headers: { authorization: `Bearer ${s.analytics.token}` },
        body: unweightedSql,
      }),
    );
    assert.equal(res.status, 200);
    const un = (await res.json()).data[0];
    assert.notEqual(Number(un.requests), weighted.totals.requests);
    assert.notEqual(Number(un.errors) / Number(un.requests), weighted.totals.error_rate);
    assert.notEqual(un.p95_ms, weighted.totals.p95_ms);
    assert.notEqual(un.p50_ms, weighted.totals.p50_ms);
  });

  test("the busiest tenants, weighted, with slug and name; a purged tenant's id keeps slug null", async () => {
    const r = await s.request("GET", `/admin/v1/metrics/top?since=${SINCE}&until=${UNTIL}`);
    assert.equal(r.status, 200, r.body);
    const top = r.json();
    assert.deepEqual([top.enabled, top.since, top.until], [true, SINCE, UNTIL]);
    const slugs = Object.fromEntries((await s.stack.pg.query("select id::text, slug, name from public.tenants")).rows.map((t) => [t.id, t]));
    const expected = [SEED.globex.id, SEED.acme.id, PURGED].map((id) => {
      const t = truth(ROWS.filter((x) => x.index1 === id));
      return {
        tenant_id: id,
        slug: slugs[id]?.slug ?? null,
        name: slugs[id]?.name ?? null,
        requests: t.requests,
        errors: t.errors,
        error_rate: t.error_rate,
        p95_ms: t.p95_ms,
      };
    });
    assert.deepEqual(top.tenants, expected);
    assert.equal(expected[0].slug, "globex");
    // By rows, acme (10) would lead globex (2): only the weights put globex first.
    assert.ok(ROWS.filter((x) => x.index1 === SEED.acme.id).length > ROWS.filter((x) => x.index1 === SEED.globex.id).length);
    const one = (await s.request("GET", `/admin/v1/metrics/top?since=${SINCE}&until=${UNTIL}&limit=1`)).json();
    assert.deepEqual(one.tenants.map((t) => t.tenant_id), [SEED.globex.id]);
  });

  test("bad parameters are 400s in the PostgREST shape; an unknown tenant is 404", async () => {
    for (const q of [
      "since=yesterday",
      "step=30",
      "step=100000",
      `since=${UNTIL}&until=${SINCE}`,
      "since=2026-10-01T00:00:00Z&until=2026-11-30T00:00:00Z&step=86400",
      "since=2026-11-01T00:00:00Z&until=2026-11-30T00:00:00Z&step=60",
      "limit=5",
      "since=2026-11-30T10:00:00Z'%20OR%201=1--",
    ]) {
      const r = await s.request("GET", `/admin/v1/tenants/${SEED.acme.id}/metrics?${q}`);
      assert.equal(r.status, 400, `${q}: ${r.body}`);
      const b = r.json();
      for (const k of ["code", "message", "details", "hint"]) assert.ok(k in b, `${q}: ${k}`);
      assert.equal(b.code, "invalid_parameter");
    }
    for (const q of ["limit=0", "limit=101", "step=60"]) {
      assert.equal((await s.request("GET", `/admin/v1/metrics/top?${q}`)).status, 400, q);
    }
    assert.equal((await s.request("GET", `/admin/v1/tenants/${PURGED}/metrics`)).status, 404);
    assert.equal((await s.request("GET", `/admin/v1/tenants/not-a-uuid/metrics`)).status, 404);
    assert.equal((await s.request("POST", `/admin/v1/tenants/${SEED.acme.id}/metrics`, { body: { override: true } })).status, 405);
    assert.equal((await s.stack.pg.query("select count(*)::int n from public.tenants where id = $1", [SEED.acme.id])).rows[0].n, 1);
  });

  test("Analytics Engine failing is a 502 analytics_unavailable", async () => {
    s.analytics.failNext(503);
    const r = await s.request("GET", `/admin/v1/tenants/${SEED.acme.id}/metrics?since=${SINCE}&until=${UNTIL}`);
    assert.equal(r.status, 502, r.body);
    const b = r.json();
    assert.equal(b.code, "analytics_unavailable");
    for (const k of ["code", "message", "details", "hint"]) assert.ok(k in b, k);
    s.analytics.failNext(500);
    assert.equal((await s.request("GET", `/admin/v1/metrics/top?since=${SINCE}&until=${UNTIL}`)).status, 502);
  });

  test("only operators: a member, an operator without MFA and no token are refused", async () => {
    for (const p of [`/admin/v1/tenants/${SEED.acme.id}/metrics`, "/admin/v1/metrics/top"]) {
      assert.equal((await s.request("GET", p, { token: s.tokens.user })).status, 403, p);
      assert.equal((await s.request("GET", p, { token: s.tokens.aal1Admin })).status, 403, p);
      assert.equal((await s.request("GET", p, { token: null })).status, 401, p);
      assert.equal((await s.request("GET", p, { token: s.tokens.serviceRole })).status, 401, p);
    }
  });

  test("without the analytics configuration both routes answer enabled: false", async () => {
    const off = await s.startAdmin({});
    const get = (p) => off.request("admin.localhost", p, { headers: { authorization: `Bearer ${s.tokens.admin}` } });
    for (const p of [`/admin/v1/tenants/${SEED.acme.id}/metrics`, "/admin/v1/metrics/top?limit=3"]) {
      const r = await get(p);
      assert.equal(r.status, 200, r.body);
      assert.deepEqual(r.json(), { enabled: false });
    }
    assert.equal((await off.request("admin.localhost", "/admin/v1/metrics/top")).status, 401, "still operators only");
  });

  test("tenantctl top prints the busiest tenants, says when metrics are off, and exits as the other commands", async () => {
    assert.ok(fs.existsSync(TENANTCTL), "tenantctl is not built: run `cargo build -p tenantctl` first");
    const ctl = (args, o = {}) => runTenantctl(args, { url: s.admin.url, token: s.tokens.admin, ...o });
    const text = await ctl(["top", "--since", SINCE, "--until", UNTIL]);
    assert.equal(text.code, 0, text.stderr);
    const lines = text.stdout.trim().split("\n");
    assert.match(lines[0], new RegExp(`^busiest tenants ${SINCE} \\.\\. ${UNTIL}$`));
    assert.match(lines[2], /^globex\s+70\s+20\s+28\.6%\s+100\s+22222222-/);
    assert.match(lines[3], /^acme\s+24\s+/);
    assert.match(lines[4], /^\(purged\)\s+2\s+0\s+0\.0%\s+5\s+99999999-/);
    const json = await ctl(["top", "--since", SINCE, "--until", UNTIL, "--limit", "2", "--json"]);
    assert.equal(json.code, 0, json.stderr);
    assert.deepEqual(json.json().tenants.map((t) => t.slug), ["globex", "acme"]);
    const recent = await ctl(["top", "--since", "15m", "--json"]);
    assert.equal(recent.code, 0, recent.stderr);
    assert.equal(recent.json().enabled, true);
    assert.equal((await ctl(["top", "--since", "yesterday"])).code, 2, "usage");
    assert.equal((await ctl(["top", "--limit", "500"])).code, 4, "refused: limit out of bounds");
    assert.equal((await ctl(["top"], { token: s.tokens.user })).code, 4, "refused: not an operator");
    s.analytics.failNext(503);
    const down = await ctl(["top"]);
    assert.equal(down.code, 3, "AE down: unreachable");
    const off = await s.startAdmin({});
    const offText = await ctl(["top"], { url: off.url });
    assert.equal(offText.code, 0, offText.stderr);
    assert.match(offText.stdout, /^metrics are off/);
  });

  test("the stand-in refuses SQL it does not implement, as AE refuses what it does not support", async () => {
    const ask = (sql) =>
      s.analytics.handle(
        new Request(`http://cf/accounts/${s.analytics.accountId}/analytics_engine/sql`, {
          method: "POST",
          headers: { authorization: `Bearer ${s.analytics.token}` },
          body: sql,
        }),
      );
    assert.equal((await ask("SELECT median(double1) FROM tenant_requests")).status, 422);
    assert.equal((await ask("SELECT count() FROM tenant_requests")).status, 422);
    assert.equal((await ask("SELECT blob1 FROM other_dataset")).status, 422);
    assert.equal((await ask("SELECT 1 FROM tenant_requests; DROP TABLE x")).status, 422);
    const wrong = await s.analytics.handle(
      new Request(`http://cf/accounts/${s.analytics.accountId}/analytics_engine/sql`, { method: "POST", headers: { authorization: "Bearer nope" }, body: "SELECT 1" }),
    );
    assert.equal(wrong.status, 403);
  });

  test("what the router writes is what the admin reads: recorded points, sampled, give the weighted truth", async () => {
    const router = await startRecordingRouter(s.stack.routerVars);
    try {
      const headers = { apikey: s.stack.anonKey };
      for (const p of ["/rest/v1/contacts?select=id", "/rest/v1/contacts?select=id", "/rest/v1/nope_table", "/auth/v1/settings"]) {
        await router.request(SEED.globex.slugHost, p, { headers });
      }
      await router.request(SEED.globex.slugHost, "/__router/health");
      const points = await router.points();
      assert.equal(points.length, 4, "one per request, none for the health check");
      assert.ok(points.every((p) => p.indexes[0] === SEED.globex.id));
      // Stored as AE would after sampling: each recorded row standing for several requests.
      const day = Date.parse("2026-11-29T00:00:00Z");
      const rows = points.map((p, i) => ({ timestamp: day + i * 1000, index1: p.indexes[0], blobs: p.blobs, doubles: p.doubles, sampleInterval: [3, 1, 5, 2][i] }));
      await s.analytics.insert(rows);
      const r = await s.request("GET", `/admin/v1/tenants/${SEED.globex.id}/metrics?since=2026-11-29T00:00:00Z&until=2026-11-29T01:00:00Z&step=3600`);
      assert.equal(r.status, 200, r.body);
      assert.deepEqual(r.json().totals, truth(rows));
      assert.equal(r.json().points.length, 1);
      assert.ok(truth(rows).client_errors > 0 || truth(rows).errors > 0 || rows.every((x) => x.blobs[STATUS_BLOB] === "2xx"));
    } finally {
      await router.dispose();
    }
  });
});
