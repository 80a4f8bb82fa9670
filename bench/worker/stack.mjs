// The benchmark's stack, shared by run.mjs (figures) and profile.mjs (where the time goes): an
// upstream stand-in on 127.0.0.1 and ONE workerd holding the router, the pass-through JS Worker
// and the JS WebCrypto reference, dispatched by Host.

import fs from "node:fs";
import path from "node:path";
import http from "node:http";
import os from "node:os";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { startWorkers, routerWorkerOptions, jsWorkerOptions, compatFromWranglerToml } from "../../tests/support/router.mjs";
import { startUpstream, signHS256, signES256, userClaims, jwks, anonKeyClaims } from "../../tests/support/upstream.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
export const SECRET = "bench-secret-bench-secret-bench-secret-0123";
export const HOST = "acme.app.example"; // the router (route *.app.example/*)
export const PASS_HOST = "pass.bench"; // (a), route pass.bench/*
export const PASS_LOG_HOST = "pass-log.bench"; // (a') the same, plus one JSON log line per request
export const PASS_WORK_HOST = "pass-work.bench"; // (a'') plus header edits and the deadline timer
export const PASS_VERIFY_HOST = "pass-verify.bench"; // (a''') plus a whole JWT verification in JS
export const VERIFY_HOST = "verify.bench"; // JS WebCrypto loop, route verify.bench/*
export const STD_HOST = "acme.std.example"; // the router built with wasm-bindgen-futures (build-std/), when built
export const RIVAL_HOST = "acme.rival.example"; // the JS rival doing the router's whole job (rival/entry.mjs)
export const PATH = "/rest/v1/contacts?select=id,name&limit=10";

export const TENANT = {
  id: "6f1c2a3e-0000-4000-8000-00000000ac4e",
  slug: "acme",
  name: "Acme Clinic",
  status: "active",
  custom_domain: null,
  signup: "open",
  branding: {},
  placement: null,
};

/** The router built with the standard futures path (`--features std-futures`), if it is. */
export const stdDir = path.join(here, "../../build-std");
export function stdBuilt() {
  return fs.existsSync(path.join(stdDir, "entry.mjs"));
}

/** The JS rival's options: the router's vars, its own base domain. */
export function rivalWorkerOptions(vars, compat) {
  return {
    name: "rival",
    modules: [{ type: "ESModule", path: path.join(here, "rival", "entry.mjs") }],
    modulesRoot: path.join(here, "rival"),
    compatibilityDate: compat.date,
    compatibilityFlags: compat.flags,
    bindings: { ...vars, BASE_DOMAINS: "rival.example" },
    routes: ["*.rival.example/*"],
  };
}

/** The router's vars for the benchmark, against the upstream stand-in `up`. */
export function benchVars(up) {
  return {
    SUPABASE_URL: up.url,
    SUPABASE_ANON_KEY: signHS256(anonKeyClaims(), SECRET),
    SUPABASE_JWT_SECRET: SECRET,
    BASE_DOMAINS: "app.example",
    TENANT_DIRECTORY: JSON.stringify([TENANT]),
    BENCH_ENDPOINTS: "true",
  };
}

const benchClaims = (up, extra = {}) => ({ ...userClaims(up.url, { sub: "00000000-0000-4000-8000-000000000001" }), ...extra });

/** An HS256 user token for the benchmark's tenant. */
export function benchToken(up, extra = {}) {
  return signHS256(benchClaims(up, extra), SECRET);
}

/** An ES256 user token for the benchmark's tenant, signed with the stand-in's JWKS key. */
export function benchEs256Token(up, extra = {}) {
  return signES256(benchClaims(up, extra));
}

/** Starts the stack; `buildDir` picks the router build, `shared` goes to Miniflare (e.g. inspectorPort). */
export async function startBenchStack({ buildDir, shared = {} } = {}) {
  const up = await startUpstream({ tenants: [TENANT] });
  const vars = benchVars(up);
  const passthrough = fs.readFileSync(path.join(here, "passthrough.js"), "utf8");
  // The JS references run with the router's compatibility flags (wrangler.toml), so the same
  // runtime work costs the same in both.
  const compat = compatFromWranglerToml();
  const compatibilityFlags = compat.flags;
  const verifyVars = { JWK_ES256: JSON.stringify(jwks().keys[0]), HS256_SECRET: SECRET, ISSUER: `${up.url}/auth/v1`, AUDIENCE: "authenticated" };
  let wd;
  try {
    wd = await startWorkers(
      [
        routerWorkerOptions(vars, { routes: ["*.app.example/*"], ...(buildDir ? { buildDir } : {}) }),
        jsWorkerOptions(passthrough, { UPSTREAM_URL: up.url }, { name: "passthrough", routes: [`${PASS_HOST}/*`], compatibilityFlags }),
        jsWorkerOptions(passthrough, { UPSTREAM_URL: up.url, LOG_LINE: "true" }, { name: "passthrough-log", routes: [`${PASS_LOG_HOST}/*`], compatibilityFlags }),
        jsWorkerOptions(
          passthrough,
          { UPSTREAM_URL: up.url, LOG_LINE: "true", EDITS: "true", DEADLINE: "true" },
          { name: "passthrough-work", routes: [`${PASS_WORK_HOST}/*`], compatibilityFlags },
        ),
        {
          name: "passthrough-verify",
          modules: ["passthrough-verify.js", "passthrough.js", "verify.js"].map((f) => ({ type: "ESModule", path: path.join(here, f) })),
          modulesRoot: here,
          compatibilityDate: compat.date,
          compatibilityFlags,
          bindings: { UPSTREAM_URL: up.url, LOG_LINE: "true", EDITS: "true", DEADLINE: "true", ...verifyVars },
          routes: [`${PASS_VERIFY_HOST}/*`],
        },
        rivalWorkerOptions(vars, compat),
        ...(stdBuilt()
          ? [routerWorkerOptions({ ...vars, BASE_DOMAINS: "std.example" }, { name: "router-std", routes: ["*.std.example/*"], buildDir: stdDir })]
          : []),
        jsWorkerOptions(
          fs.readFileSync(path.join(here, "verify.js"), "utf8"),
          verifyVars,
          { name: "verify-js", routes: [`${VERIFY_HOST}/*`], compatibilityFlags },
        ),
      ],
      { keepLogs: false, ...shared },
    );
  } catch (e) {
    await up.dispose();
    throw e;
  }
  const pinned = pinCpus();
  return {
    up,
    wd,
    pinned,
    base: wd.url,
    hs256: (extra) => benchToken(up, extra),
    es256: (extra) => benchEs256Token(up, extra),
    async dispose() {
      await wd.dispose().catch(() => {});
      await up.dispose();
    },
  };
}

export { freePort } from "../../tests/support/ports.mjs";

/** The median of the finite figures in `xs` (NaN when there are none). */
export function median(xs) {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : NaN;
}

/** This process's workerd children from /proc: pid and CPU ticks (user + system) used so far. */
function workerdChildren() {
  const out = [];
  for (const pid of fs.readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
      const close = stat.lastIndexOf(")");
      const comm = stat.slice(stat.indexOf("(") + 1, close);
      const f = stat.slice(close + 2).split(" ");
      // f[1] is the parent pid, f[11] and f[12] utime and stime (fields 4, 14, 15 of proc(5)).
      if (comm === "workerd" && Number(f[1]) === process.pid) out.push({ pid, ticks: Number(f[11]) + Number(f[12]) });
    } catch {
      // The process ended while we looked.
    }
  }
  return out;
}

/**
 * workerd (every thread) on the last CPU, this process (load generator + upstream stand-in) on the
 * others. Sharing cores, each scenario's throughput followed workerd's and Node's CPU together and
 * moved ±15 % from round to round with the scheduler; pinned, it follows the Worker's own CPU per
 * request, as on the edge, where the client and Supabase are not on the Worker's machine.
 * BENCH_PIN=0 keeps the old shared placement. Returns a line saying what was done.
 */
export function pinCpus() {
  const cpus = os.availableParallelism();
  if (process.env.BENCH_PIN === "0") return "not pinned (BENCH_PIN=0)";
  if (cpus < 2) return "not pinned (one CPU)";
  const last = String(cpus - 1);
  const rest = cpus === 2 ? "0" : `0-${cpus - 2}`;
  try {
    for (const { pid } of workerdChildren()) execFileSync("taskset", ["-a", "-p", "-c", last, pid], { stdio: "ignore" });
    execFileSync("taskset", ["-a", "-p", "-c", rest, String(process.pid)], { stdio: "ignore" });
    return `workerd pinned to CPU ${last}, load generator and upstream to CPU ${rest}`;
  } catch (e) {
    return `not pinned (taskset: ${e.message.split("\n")[0]})`;
  }
}

/**
 * CPU seconds used so far by this process's workerd children: the sum over their threads of the
 * scheduler's run time (/proc/<pid>/task/<tid>/schedstat, nanoseconds), where /proc/<pid>/stat
 * counts in 10 ms ticks (100 µs a request over 100 requests). Falls back to the ticks.
 */
export function workerdCpuSeconds() {
  let total = 0;
  for (const { pid, ticks } of workerdChildren()) {
    try {
      let ns = 0;
      for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
        ns += Number(fs.readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]);
      }
      total += ns / 1e9;
    } catch {
      total += ticks / 100; // USER_HZ is 100 on Linux
    }
  }
  return total;
}

function percentile(sorted, p) {
  if (!sorted.length) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

export function request(agent, base, host, pathname, headers, method = "GET") {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, path: pathname, method, agent, headers: { host, ...headers } }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}

/** `n` requests at fixed concurrency over keep-alive (after `warmup` unrecorded ones); headersFor(i) gives per-request headers. */
export async function load(base, host, pathname, headersFor, { n, warmup = 0, concurrency, method = "GET" }) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const run = async (count, record) => {
    let next = 0;
    const lat = [];
    const statuses = new Map();
    const worker = async () => {
      for (;;) {
        const i = next++;
        if (i >= count) return;
        const t = process.hrtime.bigint();
        const status = await request(agent, base, host, pathname, headersFor(i), method);
        if (record) lat.push(Number(process.hrtime.bigint() - t) / 1e6);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
      }
    };
    const t0 = process.hrtime.bigint();
    const cpu0 = workerdCpuSeconds();
    const node0 = process.cpuUsage();
    await Promise.all(Array.from({ length: concurrency }, worker));
    const secs = Number(process.hrtime.bigint() - t0) / 1e9;
    const nodeCpu = process.cpuUsage(node0);
    return { secs, lat, statuses, workerdCpu: workerdCpuSeconds() - cpu0, nodeCpu: (nodeCpu.user + nodeCpu.system) / 1e6 };
  };
  const warm = await run(warmup, false);
  const { secs, lat, statuses, workerdCpu, nodeCpu } = await run(n, true);
  agent.destroy();
  return summarise([{ n, secs, lat, statuses, workerdCpu, nodeCpu, warmStatuses: warm.statuses }]);
}

/**
 * Runs `count` scenarios round by round (`runOne(i)` is one `load` of scenario i), so that drift
 * over the run falls on every scenario alike; `rotate` moves each round's start one scenario on. Per scenario: its rounds, and all of them summed.
 */
export async function interleaved(count, rounds, runOne, { rotate = false } = {}) {
  const per = Array.from({ length: count }, () => []);
  for (let r = 0; r < rounds; r++) {
    // Rotated, each scenario takes every place in the round in turn (the first after a pause, …).
    for (let j = 0; j < count; j++) {
      const i = rotate ? (j + r) % count : j;
      per[i].push(await runOne(i));
    }
  }
  return per.map((rs) => ({ rounds: rs, total: rs.every((x) => x?.runs) ? summarise(rs.flatMap((x) => x.runs)) : undefined }));
}

/**
 * One figure from several runs of a scenario: requests over the time they took together, latency
 * percentiles over every request, CPU over every request. Summing rather than taking a median
 * round keeps a GC pause or a scheduler hiccup in one short round from deciding the figure.
 */
export function summarise(runs) {
  const merge = (maps) => {
    const out = new Map();
    for (const m of maps) for (const [k, v] of m) out.set(k, (out.get(k) ?? 0) + v);
    return Object.fromEntries(out);
  };
  const n = runs.reduce((t, r) => t + r.n, 0);
  const lat = runs.flatMap((r) => r.lat).sort((a, b) => a - b);
  return {
    runs,
    rps: n / runs.reduce((t, r) => t + r.secs, 0),
    p50: percentile(lat, 50),
    p99: percentile(lat, 99),
    // CPU per request: workerd (all Workers and Miniflare's entry Worker) and this Node process
    // (load generator + upstream stand-in + Miniflare's log handling).
    workerdUs: (runs.reduce((t, r) => t + r.workerdCpu, 0) * 1e6) / n,
    nodeUs: (runs.reduce((t, r) => t + r.nodeCpu, 0) * 1e6) / n,
    statuses: merge(runs.map((r) => r.statuses)),
    warmStatuses: merge(runs.map((r) => r.warmStatuses)),
  };
}
