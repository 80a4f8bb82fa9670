#!/usr/bin/env node
// Bounded load run (issue 16): the built router in workerd under mixed traffic for LOAD_SECONDS
// (default 30), then a pass-through Worker under the same traffic for as long; 127.0.0.1 only, and
// it stops by itself. Every router answer is checked: the status is the one expected for that
// request, no 5xx, and the tenant the upstream saw (its echo of `x-tenant-id`, or the recorded
// upgrade) is the host's tenant, so no request's tenant leaks into a concurrent one's. Prints
// requests, p50/p99 and workerd RSS at start and end for both; asserts nothing about time.
//
//   node bench/load/run.mjs        (after `bash scripts/build-worker.sh`; `make load`)
//   LOAD_SECONDS=5 LOAD_CONCURRENCY=16 node bench/load/run.mjs
//
// Under Miniflare every Worker's RSS grows with requests, so only the router's growth beside the
// pass-through's says anything about the router.

import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import crypto from "node:crypto";
import { fileURLToPath } from "node:url";
import { startRouter, startJsWorker, routerBuilt, upgradeRequest } from "../../tests/support/router.mjs";
import { startUpstream, signHS256, signES256, signForeignES256, userClaims, anonKeyClaims } from "../../tests/support/upstream.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const SECONDS = Number(process.env.LOAD_SECONDS ?? 30);
const CONCURRENCY = Number(process.env.LOAD_CONCURRENCY ?? 16);
const SECRET = "load-secret-load-secret-load-secret-0123";
const TENANT_COUNT = 40;
const LARGE = Buffer.alloc(256 * 1024, "x");

// Many tenants: every fourth on a custom domain, every fifth suspended, every seventh invite-only.
const tenants = Array.from({ length: TENANT_COUNT }, (_, i) => ({
  id: crypto.randomUUID(),
  slug: `t${i}`,
  name: `Tenant ${i}`,
  status: i % 5 === 4 ? "suspended" : "active",
  custom_domain: i % 4 === 0 ? `crm.t${i}.test` : null,
  signup: i % 7 === 3 ? "invite_only" : "open",
  branding: {},
  placement: null,
}));
const hostOf = (t, i) => (t.custom_domain && i % 2 ? t.custom_domain : `${t.slug}.app.example`);
const pick = (a) => a[Math.floor(Math.random() * a.length)];
const active = tenants.filter((t) => t.status === "active");

/** One request of the mix, with the answer it must get. */
function nextRequest(up) {
  const t = pick(active);
  const host = hostOf(t, Math.floor(Math.random() * 2));
  const claims = (extra = {}) => userClaims(up.url, { tenant_ids: [t.id], ...extra });
  const r = Math.random();
  const rest = { host, path: "/rest/v1/contacts?select=id", tenant: t };
  if (r < 0.25) return { kind: "hs256", ...rest, headers: { authorization: `Bearer ${signHS256(claims(), SECRET)}` }, status: 200 };
  if (r < 0.4) return { kind: "es256", ...rest, headers: { authorization: `Bearer ${signES256(claims())}` }, status: 200 };
  const expired = () => claims({ exp: Math.floor(Date.now() / 1000) - 120 });
  const refused = { status: 401, code: "invalid_token" };
  if (r < 0.425) return { kind: "expired hs256", ...rest, headers: { authorization: `Bearer ${signHS256(expired(), SECRET)}` }, ...refused };
  if (r < 0.45) return { kind: "expired es256", ...rest, headers: { authorization: `Bearer ${signES256(expired())}` }, ...refused };
  if (r < 0.475) return { kind: "foreign hs256", ...rest, headers: { authorization: `Bearer ${signHS256(claims(), "another-project-secret-another-project-0")}` }, ...refused };
  if (r < 0.5) return { kind: "foreign es256", ...rest, headers: { authorization: `Bearer ${signForeignES256(claims())}` }, ...refused };
  if (r < 0.55) {
    const other = pick(active.filter((o) => o !== t));
    return { kind: "other tenant's token", ...rest, headers: { authorization: `Bearer ${signHS256(claims({ tenant_ids: [other.id] }), SECRET)}` }, status: 403, code: "tenant_mismatch" };
  }
  if (r < 0.6) {
    const s = pick(tenants.filter((x) => x.status === "suspended"));
    return { kind: "suspended", host: hostOf(s, 0), path: "/rest/v1/contacts", headers: {}, status: 403, code: "tenant_suspended" };
  }
  if (r < 0.65) return { kind: "unknown", host: pick([`nobody${Math.floor(Math.random() * 1000)}.app.example`, "crm.nobody.test"]), path: "/rest/v1/contacts", headers: {}, status: 404, code: "tenant_not_found" };
  if (r < 0.8) {
    const invite = t.signup === "invite_only";
    return {
      kind: "sign-up", host, path: "/auth/v1/signup", method: "POST", tenant: t, signup: true,
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: "u@example.com", password: "pw-123456", data: { tenant_id: "forged" } }),
      status: invite ? 403 : 200, code: invite ? "signup_closed" : undefined,
    };
  }
  if (r < 0.9) return { kind: "large body", host, path: "/rest/v1/contacts", method: "POST", tenant: t, headers: { "content-type": "application/octet-stream" }, body: LARGE, status: 200, size: LARGE.length };
  return { kind: "websocket", host, path: `/realtime/v1/websocket?probe=${crypto.randomUUID()}`, tenant: t, upgrade: true, status: 101 };
}

function send(agent, base, req) {
  const u = new URL(base);
  const headers = { ...req.headers, host: req.host };
  if (req.body) headers["content-length"] = Buffer.byteLength(req.body);
  return new Promise((resolve, reject) => {
    const q = http.request({ host: u.hostname, port: u.port, method: req.method ?? "GET", path: req.path, headers, agent }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", reject);
    });
    q.setTimeout(15000, () => q.destroy(new Error("timed out")));
    q.on("error", reject);
    q.end(req.body);
  });
}

/** What is wrong with `res` as the answer to `req` (router only), or null. */
function verdict(req, res, up) {
  if (res.status >= 500) return `router ${res.status}: ${res.body.slice(0, 200)}`;
  if (res.status !== req.status) return `status ${res.status}, expected ${req.status}: ${res.body.slice(0, 200)}`;
  if (req.code) {
    let code;
    try { code = JSON.parse(res.body).code; } catch {}
    if (code !== req.code) return `code ${code}, expected ${req.code}`;
    return null;
  }
  if (req.upgrade) {
    const rec = up.upgrades.find((u) => u.url === req.path);
    if (!rec) return "upgrade not seen upstream";
    return rec.headers["x-tenant-id"] === req.tenant.id ? null : `upgrade reached the upstream as ${rec.headers["x-tenant-id"]}`;
  }
  const echo = JSON.parse(res.body);
  if (echo.headers["x-tenant-id"] !== req.tenant.id) return `upstream saw tenant ${echo.headers["x-tenant-id"]}, host ${req.host} is ${req.tenant.id}`;
  const body = Buffer.from(echo.body_base64, "base64");
  if (req.signup && JSON.parse(body.toString("utf8")).data?.tenant_id !== req.tenant.id) return `sign-up stamped ${body}`;
  if (req.size && body.length !== req.size) return `body of ${body.length} bytes, sent ${req.size}`;
  return null;
}

async function upgrade(base, req) {
  const ws = await upgradeRequest(base, req.host, req.path);
  if (ws.status !== 101) return { status: ws.status, body: ws.body ?? "" };
  ws.send("ping");
  const frame = await ws.next(5000);
  ws.close();
  return { status: frame.payload.toString() === "echo:ping" ? 101 : 599, body: "" };
}

/** RSS (KB) of this process's workerd children. */
function workerdRssKb() {
  let kb = 0;
  for (const pid of fs.readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
      if (/^Name:\s+workerd$/m.test(status) && Number(/^PPid:\s+(\d+)/m.exec(status)[1]) === process.pid) kb += Number(/^VmRSS:\s+(\d+)/m.exec(status)[1]);
    } catch {}
  }
  return kb;
}

async function drive(base, up, check) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const lat = [];
  const failures = [];
  const kinds = {};
  const rssStart = workerdRssKb();
  const end = Date.now() + SECONDS * 1000;
  // The stand-in records every request; keep only the last few seconds' (upgrades are looked up).
  const trim = setInterval(() => { up.requests.length = 0; if (up.upgrades.length > 5000) up.upgrades.splice(0, 2500); }, 2000);
  async function worker() {
    while (Date.now() < end) {
      const req = nextRequest(up);
      const t = process.hrtime.bigint();
      let res;
      try {
        res = req.upgrade ? await upgrade(base, req) : await send(agent, base, req);
      } catch (e) {
        res = { status: 599, body: String(e) };
      }
      lat.push(Number(process.hrtime.bigint() - t) / 1e6);
      kinds[req.kind] = (kinds[req.kind] ?? 0) + 1;
      const wrong = check ? verdict(req, res, up) : res.status >= 500 ? `status ${res.status}` : null;
      if (wrong) failures.push(`${req.kind} ${req.host}${req.path}: ${wrong}`);
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  clearInterval(trim);
  agent.destroy();
  const rssEnd = workerdRssKb();
  lat.sort((a, b) => a - b);
  const q = (p) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))]?.toFixed(2);
  return { requests: lat.length, p50: q(0.5), p99: q(0.99), rssStart, rssEnd, failures, kinds };
}

async function main() {
  if (!routerBuilt()) {
    console.error("build the router first: bash scripts/build-worker.sh");
    process.exit(1);
  }
  const up = await startUpstream({ tenants });
  const vars = {
    SUPABASE_URL: up.url,
    SUPABASE_ANON_KEY: signHS256(anonKeyClaims(), SECRET),
    SUPABASE_JWT_SECRET: SECRET,
    JWT_ALGORITHMS: "HS256,ES256",
    BASE_DOMAINS: "app.example",
    TENANT_DIRECTORY: "supabase",
    SIGNUP_MAX_BYTES: String(64 * 1024),
  };
  const results = {};
  const router = await startRouter(vars);
  try {
    results.router = await drive(router.url, up, true);
  } finally {
    await router.dispose();
  }
  const pass = await startJsWorker(fs.readFileSync(path.join(here, "../worker/passthrough.js"), "utf8"), { UPSTREAM_URL: up.url });
  try {
    results.passthrough = await drive(pass.url, up, false);
  } finally {
    await pass.dispose();
    await up.dispose();
  }
  console.log(`load: ${SECONDS} s each, concurrency ${CONCURRENCY}, ${TENANT_COUNT} tenants`);
  for (const [name, r] of Object.entries(results)) {
    const growth = r.rssEnd - r.rssStart;
    console.log(
      `  ${name.padEnd(11)} ${String(r.requests).padStart(7)} requests  p50 ${r.p50} ms  p99 ${r.p99} ms  ` +
        `workerd RSS ${(r.rssStart / 1024).toFixed(1)} -> ${(r.rssEnd / 1024).toFixed(1)} MB (${(growth / Math.max(1, r.requests)).toFixed(1)} KB/request)`,
    );
  }
  console.log(`  router mix: ${Object.entries(results.router.kinds).map(([k, n]) => `${k} ${n}`).join(", ")}`);
  const f = results.router.failures;
  for (const line of f.slice(0, 10)) console.log(`  FAIL ${line}`);
  console.log(`  every router answer checked: ${results.router.requests - f.length} right, ${f.length} wrong`);
  console.log(`load: ${f.length ? 0 : 1} passed, ${f.length ? 1 : 0} failed`);
  process.exit(f.length ? 1 : 0);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
