// A recording Workers Analytics Engine binding for the router in workerd. Miniflare's local
// `analytics_engine_datasets` binding accepts `writeDataPoint` and drops what it is given, so a
// test cannot see the router's points there. Instead the router runs behind a small main module
// (in the same isolate, like the real binding) that hands it an `env` whose `METRICS` is an object
// with a synchronous `writeDataPoint`: it checks the argument as Analytics Engine documents (at
// most one index of at most 96 bytes, at most 20 blobs and 20 doubles, doubles numbers) and
// records it, or throws when told to.
//
//   const r = await startRecordingRouter(vars, startRouterOptions);
//   await r.points()        // every point written so far, in order: [{indexes, blobs, doubles}]
//   await r.resetPoints()
//   await r.setMetricsMode("throw" | "record")
// The control endpoints answer on the Host `metrics-recorder.control` only.

import path from "node:path";
import { startWorkers, routerWorkerOptions, buildDir, httpRequest } from "./router.mjs";

export const RECORDER_HOST = "metrics-recorder.control";

const WRAPPER = `
import router from "./entry.mjs";
const points = [];
let mode = "record";
const utf8 = new TextEncoder();
function check(p) {
  const fail = (m) => { throw new TypeError("writeDataPoint(): " + m); };
  if (typeof p !== "object" || p === null) fail("expected an object");
  const { indexes = [], blobs = [], doubles = [] } = p;
  if (!Array.isArray(indexes) || indexes.length > 1) fail("at most one index");
  for (const i of indexes) if (typeof i !== "string" || utf8.encode(i).length > 96) fail("an index is a string of at most 96 bytes");
  if (!Array.isArray(blobs) || blobs.length > 20) fail("at most 20 blobs");
  for (const b of blobs) if (b !== null && typeof b !== "string") fail("blobs are strings");
  if (!Array.isArray(doubles) || doubles.length > 20) fail("at most 20 doubles");
  for (const d of doubles) if (typeof d !== "number") fail("doubles are numbers");
}
const METRICS = {
  writeDataPoint(point) {
    if (mode === "throw") throw new Error("analytics engine unavailable (test)");
    check(point);
    points.push({ ...JSON.parse(JSON.stringify(point)), at: Date.now() });
  },
};
const json = (v) => new Response(JSON.stringify(v), { headers: { "content-type": "application/json" } });
export default {
  fetch(request, env, ctx) {
    if (request.headers.get("host") === ${JSON.stringify(RECORDER_HOST)}) {
      const p = new URL(request.url).pathname;
      if (p === "/points") return json(points);
      if (p === "/reset") { points.length = 0; return json({ ok: true }); }
      if (p.startsWith("/mode/")) { mode = p.slice(6); return json({ mode }); }
      return new Response("not found", { status: 404 });
    }
    return router.fetch(request, { ...env, METRICS }, ctx);
  },
};
`;

/** The router (startRouter's `vars` and options) with a recording `METRICS` binding. */
export async function startRecordingRouter(vars, opts = {}) {
  const dir = opts.buildDir ?? buildDir;
  const worker = routerWorkerOptions(vars, opts);
  worker.modules = [{ type: "ESModule", path: path.join(dir, "metrics-recorder.mjs"), contents: WRAPPER }, ...worker.modules];
  const listen = opts.port ? { host: "127.0.0.1", port: opts.port } : {};
  const r = await startWorkers([worker], listen);
  const control = async (p) => (await httpRequest(r.url, RECORDER_HOST, p)).json();
  r.points = () => control("/points");
  r.resetPoints = () => control("/reset");
  r.setMetricsMode = (mode) => control(`/mode/${mode}`);
  return r;
}
