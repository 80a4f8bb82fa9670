// Run the built router (build/entry.mjs + build/index.js + build/index_bg.wasm, made by
// `bash scripts/build-worker.sh`) inside workerd through the Miniflare API, and talk to it with
// node:http so that a custom Host header reaches the Worker (dispatchFetch rewrites it).
//
//   const r = await startRouter({ SUPABASE_URL, SUPABASE_ANON_KEY, BASE_DOMAINS, TENANT_DIRECTORY });
//   const res = await r.request("acme.app.example", "/rest/v1/contacts?select=*", { headers: {...} });
//   res.status, res.headers, res.body (string), res.bodyBuffer, res.json()
//   r.logs   // every console line the Worker printed that parses as a JSON object
//   await r.dispose();
//
// Miniflare 5 (the version wrangler 4.164.0 depends on) takes a new option shape; the v4 shape is
// converted with its exported `convertV4MiniflareOptions`.

import fs from "node:fs";
import path from "node:path";
import http from "node:http";
import crypto from "node:crypto";
import { fileURLToPath } from "node:url";
import { Miniflare, convertV4MiniflareOptions } from "miniflare";

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, "../..");
// ROUTER_BUILD_DIR runs the suites against another Worker, e.g. the benchmark's JS rival
// (bench/worker/rival), to see which of the router's behaviours it really has.
export const buildDir = process.env.ROUTER_BUILD_DIR ? path.resolve(repoRoot, process.env.ROUTER_BUILD_DIR) : path.join(repoRoot, "build");

const FALLBACK_COMPAT_DATE = "2025-09-01";

/** The router's compatibility date and flags, from wrangler.toml. */
export function compatFromWranglerToml() {
  try {
    const toml = fs.readFileSync(path.join(repoRoot, "wrangler.toml"), "utf8");
    const date = /^\s*compatibility_date\s*=\s*"([^"]+)"/m.exec(toml)?.[1];
    const flagsRaw = /^\s*compatibility_flags\s*=\s*\[([^\]]*)\]/m.exec(toml)?.[1];
    const flags = flagsRaw ? [...flagsRaw.matchAll(/"([^"]+)"/g)].map((m) => m[1]) : [];
    return { date: date ?? FALLBACK_COMPAT_DATE, flags };
  } catch {
    return { date: FALLBACK_COMPAT_DATE, flags: [] };
  }
}

/** True when the router has been built. */
export function routerBuilt(dir = buildDir) {
  if (!fs.existsSync(path.join(dir, "entry.mjs"))) return false;
  // A Worker named by ROUTER_BUILD_DIR may be plain JS (the rival); the router always has its .wasm.
  return (process.env.ROUTER_BUILD_DIR && dir === buildDir) || fs.readdirSync(dir).some((f) => f.endsWith(".wasm"));
}

function listFiles(dir, base = dir) {
  const out = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...listFiles(p, base));
    else out.push(p);
  }
  return out;
}

/**
 * Modules of the built Worker: the entry first (main module: build/entry.mjs, or entry.js in the
 * bundle `wrangler deploy --dry-run` writes to build/dist), every .js/.mjs as ESM, every .wasm as
 * CompiledWasm.
 */
function routerModules(dir) {
  const main = [path.join(dir, "entry.mjs"), path.join(dir, "entry.js")].find((f) => fs.existsSync(f));
  if (!main) {
    throw new Error(`${dir}/entry.mjs does not exist: build the router first (bash scripts/build-worker.sh)`);
  }
  const modules = [{ type: "ESModule", path: main }];
  for (const f of listFiles(dir)) {
    if (f === main) continue;
    if (f.endsWith(".js") || f.endsWith(".mjs")) modules.push({ type: "ESModule", path: f });
    else if (f.endsWith(".wasm")) modules.push({ type: "CompiledWasm", path: f });
  }
  return modules;
}

function parseLogMessage(l) {
  const msg = typeof l?.message === "string" ? l.message : null;
  if (msg == null) return null;
  const s = msg.trim();
  if (!s.startsWith("{")) return null;
  try {
    return JSON.parse(s);
  } catch {
    return null;
  }
}

/**
 * One HTTP request through node:http. `host` is sent as the Host header verbatim.
 * Returns { status, headers, rawHeaders, body, bodyBuffer, json() }.
 */
export function httpRequest(baseUrl, host, pathname, { method = "GET", headers = {}, body, agent = false, timeoutMs = 15000 } = {}) {
  const u = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const hdrs = { ...headers };
    if (host !== undefined && host !== null) hdrs.host = host;
    let payload = body;
    if (payload !== undefined && payload !== null && !(payload instanceof Uint8Array) && typeof payload !== "string") {
      payload = JSON.stringify(payload);
      if (!Object.keys(hdrs).some((k) => k.toLowerCase() === "content-type")) hdrs["content-type"] = "application/json";
    }
    if (payload !== undefined && payload !== null) {
      const names = Object.keys(hdrs).map((k) => k.toLowerCase());
      // node:http neither sets Content-Length nor chunks a DELETE/OPTIONS body on its own.
      if (!names.includes("content-length") && !names.includes("transfer-encoding")) {
        hdrs["content-length"] = String(Buffer.byteLength(payload));
      }
    }
    const req = http.request(
      { host: u.hostname, port: u.port, method, path: pathname, headers: hdrs, agent, setHost: host === undefined },
      (res) => {
        const chunks = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => {
          const buf = Buffer.concat(chunks);
          const text = buf.toString("utf8");
          resolve({
            status: res.statusCode,
            headers: res.headers,
            rawHeaders: res.rawHeaders,
            body: text,
            bodyBuffer: buf,
            json() {
              return JSON.parse(text);
            },
          });
        });
        res.on("error", reject);
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`request ${method} ${host}${pathname} timed out`)));
    req.on("error", reject);
    if (payload !== undefined && payload !== null) req.end(payload);
    else req.end();
  });
}

/**
 * A WebSocket upgrade request through node:http. Resolves with
 * { status, headers, socket, head, send(text), next() , close() } on 101, or with
 * { status, headers, body } when the server answered without upgrading.
 */
export function upgradeRequest(baseUrl, host, pathname, { headers = {}, timeoutMs = 10000 } = {}) {
  const u = new URL(baseUrl);
  const key = crypto.randomBytes(16).toString("base64");
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: u.hostname,
      port: u.port,
      path: pathname,
      method: "GET",
      agent: false,
      headers: {
        host,
        connection: "Upgrade",
        upgrade: "websocket",
        "sec-websocket-version": "13",
        "sec-websocket-key": key,
        ...headers,
      },
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error("upgrade timed out")));
    req.on("error", reject);
    req.on("response", (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        resolve({ status: res.statusCode, headers: res.headers, body: text, json: () => JSON.parse(text) });
      });
    });
    req.on("upgrade", async (res, socket, head) => {
      const { wsFrame, wsParse, wsAccept } = await import("./upstream.mjs");
      let buf = Buffer.from(head || []);
      const waiters = [];
      const frames = [];
      const flush = () => {
        for (;;) {
          const f = wsParse(buf);
          if (!f) break;
          buf = f.rest;
          frames.push(f);
        }
        while (waiters.length && frames.length) waiters.shift()(frames.shift());
      };
      socket.on("data", (d) => {
        buf = Buffer.concat([buf, d]);
        flush();
      });
      socket.on("error", () => {});
      flush();
      resolve({
        status: res.statusCode,
        headers: res.headers,
        expectedAccept: wsAccept(key),
        socket,
        send(text) {
          socket.write(wsFrame(text, { mask: true }));
        },
        next(ms = 5000) {
          if (frames.length) return Promise.resolve(frames.shift());
          return new Promise((res2, rej2) => {
            const t = setTimeout(() => rej2(new Error("no WebSocket frame within " + ms + " ms")), ms);
            waiters.push((f) => {
              clearTimeout(t);
              res2(f);
            });
          });
        },
        close() {
          socket.destroy();
        },
      });
    });
    req.end();
  });
}

// `keepLogs: false` (the benchmark) drops the Workers' log lines as they reach Node: workerd still
// writes every line, but this test process, which shares the CPU with workerd here, does not parse
// and keep tens of thousands of them (in production the log pipeline is not on the request's CPU).
async function startMiniflare({ keepLogs = true, ...v4opts }) {
  const logs = [];
  const rawLogs = [];
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      logRequests: false,
      ...v4opts,
      handleStructuredLogs: (l) => {
        if (!keepLogs) return;
        rawLogs.push(l);
        const parsed = parseLogMessage(l);
        if (parsed && typeof parsed === "object") logs.push(parsed);
        if (process.env.ROUTER_DEBUG_LOGS) process.stderr.write(`[workerd ${l.level}] ${l.message}\n`);
      },
    }),
  );
  let url;
  try {
    url = await mf.ready;
  } catch (e) {
    await mf.dispose().catch(() => {});
    throw e;
  }
  const base = url.href.replace(/\/$/, "");
  let disposed = false;
  return {
    mf,
    port: Number(url.port),
    url: base,
    logs,
    rawLogs,
    request(host, pathname, options = {}) {
      return httpRequest(base, host, pathname, options);
    },
    upgrade(host, pathname, options = {}) {
      return upgradeRequest(base, host, pathname, options);
    },
    /** Wait until at least `n` JSON log lines exist (logs arrive asynchronously). */
    async waitForLogs(n, ms = 2000) {
      const end = Date.now() + ms;
      while (logs.length < n && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
      return logs;
    },
    async dispose() {
      if (disposed) return;
      disposed = true;
      await mf.dispose();
    },
  };
}

function stringVars(vars) {
  const out = {};
  for (const [k, v] of Object.entries(vars ?? {})) {
    if (v === undefined || v === null) continue;
    out[k] = typeof v === "string" ? v : JSON.stringify(v);
  }
  return out;
}

/** Miniflare (v4-shape) options of the built router as one Worker; used by startRouter and by the benchmark. */
export function routerWorkerOptions(vars, opts = {}) {
  const dir = opts.buildDir ?? buildDir;
  const compat = compatFromWranglerToml();
  return {
    name: opts.name ?? "tenant-router",
    modules: routerModules(dir),
    modulesRoot: dir,
    compatibilityDate: opts.compatibilityDate ?? compat.date,
    compatibilityFlags: opts.compatibilityFlags ?? compat.flags,
    bindings: stringVars(vars),
    ...(opts.routes ? { routes: opts.routes } : {}),
    // Where the Worker's own subrequests to hosts of the internet go: a Node function `(Request) => Response`.
    ...(opts.outboundService ? { outboundService: opts.outboundService } : {}),
  };
}

/** Miniflare (v4-shape) options of a small JS module Worker. */
export function jsWorkerOptions(scriptText, vars = {}, opts = {}) {
  return {
    name: opts.name ?? "js-worker",
    modules: true,
    script: scriptText,
    compatibilityDate: opts.compatibilityDate ?? compatFromWranglerToml().date,
    compatibilityFlags: opts.compatibilityFlags ?? [],
    bindings: stringVars(vars),
    ...(opts.routes ? { routes: opts.routes } : {}),
  };
}

/**
 * Several Workers in ONE workerd process, dispatched by Host through each worker's `routes`
 * (e.g. ["*.app.example/*"]); the first worker also takes unmatched hosts. `shared` holds
 * process-wide Miniflare options (e.g. `inspectorPort` for the profiler) and `keepLogs`.
 */
export async function startWorkers(workerOptions, shared = {}) {
  return startMiniflare({ ...shared, workers: workerOptions });
}

/**
 * Start the built router in workerd with `vars` (wrangler vars and secrets, as strings; non-strings
 * are JSON-encoded, as wrangler does for `[vars]` objects).
 * opts: { buildDir, compatibilityDate, compatibilityFlags, port (on 127.0.0.1; default: a free one) }.
 */
export async function startRouter(vars, opts = {}) {
  const listen = opts.port ? { host: "127.0.0.1", port: opts.port } : {};
  return startMiniflare({ ...routerWorkerOptions(vars, opts), ...listen });
}

/** Start a small JS module Worker (`export default { fetch }`) with `vars` as bindings. */
export async function startJsWorker(scriptText, vars = {}, opts = {}) {
  return startMiniflare(jsWorkerOptions(scriptText, vars, opts));
}
