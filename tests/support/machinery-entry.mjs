// Entry module of the machinery test build (build-machinery/, `cargo --features machinery`): the
// router as src/entry.mjs serves it, plus /__machinery/* probes of the edge's executor and parking
// table, which need JS promises made and settled inside the isolate. Never deployed; copied by
// `bash scripts/build-worker.sh` next to that build's index.js.
import Generated from "./index.js";

const wasm = Generated.prototype;
const json = (value) => Response.json(value);
const later = (ms, f) => new Promise((r) => setTimeout(() => r(f()), ms));

const probes = {
  // A task woken by a promise's settlement (here a timer's, in JS).
  async promise() {
    const { promise, resolve } = Promise.withResolvers();
    const outcome = wasm.machineryAwait(promise);
    setTimeout(() => resolve("from-promise"), 5);
    return outcome;
  },
  async rejected() {
    const refused = new Promise((_, reject) => setTimeout(() => reject(new Error("refused")), 5));
    const o = await wasm.machineryAwait(refused);
    return { value: o.value, error: o.error === undefined ? undefined : String(o.error) };
  },
  // A task woken by the runtime's timer alone.
  async timer(u) {
    return { value: await wasm.machinerySleep(Number(u.searchParams.get("ms") ?? 5)) };
  },
  async rust() {
    return wasm.machineryWakeFromRust();
  },
  async stale() {
    const stale = Promise.withResolvers();
    const fresh = Promise.withResolvers();
    const outcome = wasm.machineryStaleKey(stale.promise, fresh.promise);
    stale.resolve("stale");
    await later(5, () => fresh.resolve("fresh"));
    return outcome;
  },
  async parked() {
    return wasm.machineryParked();
  },
  // The upstream header edits applied to a copy of this request's headers (body: the edits).
  async "edit-headers"(u, request) {
    return wasm.machineryEditHeaders(new Headers(request.headers), await request.text());
  },
  async sweep(u) {
    return { swept: wasm.machinerySweep(Number(u.searchParams.get("after_ms") ?? 0)), ...wasm.machineryParked() };
  },
};

export default {
  async fetch(request, env, ctx) {
    const u = new URL(request.url);
    if (u.pathname.startsWith("/__machinery/")) {
      const probe = probes[u.pathname.slice("/__machinery/".length)];
      if (!probe) return new Response("no such probe", { status: 404 });
      return json(await probe(u, request));
    }
    return wasm.handleFetch(request, env, ctx);
  },
};
