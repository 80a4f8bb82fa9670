// The in-isolate loop (bench/worker/loop.mjs): one Worker holding the router (its build copied
// beside this file), the JS rival and the pass-through Worker, each called in a loop of `n`
// requests inside ONE request to this Worker, against a stand-in upstream `fetch` that answers at
// once. Time cannot be read inside a Worker (the clock stands still between I/O), so the driver
// measures workerd's CPU around the whole loop from outside; with thousands of requests per loop,
// Miniflare's own per-request work and the scheduler's noise fall to a few percent of the figure.
import router from "./entry.mjs";
import rival from "./rival.mjs";
import passthrough from "./passthrough.js";

const BODY = '[{"id":1,"name":"Ada"}]';
const realFetch = globalThis.fetch;
// The upstream stand-in: consumes nothing of the request, answers 200 with a small JSON body. The
// project's JWKS (fetched once per isolate) still comes from the real upstream stand-in.
const standIn = (input, init) =>
  String(input?.url ?? input).includes("/.well-known/jwks.json")
    ? realFetch(input, init)
    : Promise.resolve(new Response(BODY, { status: 200, headers: { "content-type": "application/json", "content-range": "0-0/*" } }));

const workers = { router, rival, pass: passthrough };

export default {
  async fetch(request, env, ctx) {
    const u = new URL(request.url);
    const w = workers[u.searchParams.get("w")];
    const n = Number(u.searchParams.get("n") ?? 1000);
    const host = u.searchParams.get("host") ?? "acme.app.example";
    const token = request.headers.get("x-loop-authorization");
    if (!w) return new Response("unknown worker", { status: 400 });
    const target = `https://${host}${u.searchParams.get("path") ?? "/rest/v1/contacts"}`;
    const headers = { host, authorization: token, accept: "application/json", "user-agent": "loop", "cf-connecting-ip": "203.0.113.7" };
    globalThis.fetch = standIn;
    let ok = 0;
    try {
      for (let i = 0; i < n; i++) {
        const r = await w.fetch(new Request(target, { headers }), env, ctx);
        if (r.status === 200) ok++;
        else return new Response(`${u.searchParams.get("w")}: status ${r.status}: ${await r.text()}`, { status: 500 });
      }
    } finally {
      globalThis.fetch = realFetch;
    }
    return new Response(String(ok));
  },
};
