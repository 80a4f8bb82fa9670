// The in-isolate loop (bench/worker/loop.mjs): one Worker holding the router (its build copied
// beside this file), the JS rival and the pass-through Worker, each called in a loop of `n`
// requests inside ONE request to this Worker, against a stand-in upstream `fetch` that answers at
// once, or (`real=1`) the real upstream. Time cannot be read inside a Worker (the clock stands
// still between I/O), so the driver measures workerd's CPU around the whole loop from outside;
// with thousands of requests per loop, Miniflare's own per-request work and the scheduler's noise
// fall to a few percent of the figure.
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
    // `real=1`: the handlers' own fetches go to the real upstream (the test stand-in on 127.0.0.1),
    // `c` at a time; otherwise to the instant stand-in above, one at a time.
    const real = u.searchParams.get("real") === "1";
    const concurrency = real ? Number(u.searchParams.get("c") ?? 1) : 1;
    const host = u.searchParams.get("host") ?? "acme.app.example";
    // One token for every request, or (a POST body of one token per line) a new one each.
    const token = request.headers.get("x-loop-authorization");
    const fresh = request.method === "POST" ? (await request.text()).split("\n").filter(Boolean) : null;
    if (fresh && fresh.length < n) return new Response(`${fresh.length} tokens for ${n} requests`, { status: 400 });
    if (!w) return new Response("unknown worker", { status: 400 });
    const target = `https://${host}${u.searchParams.get("path") ?? "/rest/v1/contacts"}`;
    const headers = (i) => ({ host, authorization: fresh ? `Bearer ${fresh[i]}` : token, accept: "application/json", "user-agent": "loop", "cf-connecting-ip": "203.0.113.7" });
    if (!real) globalThis.fetch = standIn;
    let ok = 0;
    let failed = null;
    let next = 0;
    const one = async () => {
      while (next < n && !failed) {
        const i = next++;
        const r = await w.fetch(new Request(target, { headers: headers(i) }), env, ctx);
        // The body is read, as the client would; its bytes are the upstream's, not the Worker's work.
        await r.arrayBuffer();
        if (r.status === 200) ok++;
        else failed = `${u.searchParams.get("w")}: status ${r.status}`;
      }
    };
    try {
      await Promise.all(Array.from({ length: concurrency }, one));
    } finally {
      globalThis.fetch = realFetch;
    }
    return failed ? new Response(failed, { status: 500 }) : new Response(String(ok));
  },
};
