// Benchmark baseline (a): a Worker that only forwards to the upstream, nothing else.
// Flags (Worker vars) add, one by one, the runtime work the router cannot skip, so the cost of
// the work itself can be told apart from the cost of doing it in Rust:
//   LOG_LINE=true   one JSON log line per request, the size of the router's      -> (a')
//   EDITS=true      the upstream headers as a copy of the client's with the router's edits
//   DEADLINE=true   an abort timer on the wait for response headers, cleared when they arrive
// All three together are (a''): what the router does per request, minus deciding it.
const abortCall = Function.prototype.call.bind(AbortController.prototype.abort);

export default {
  async fetch(request, env) {
    const started = Date.now();
    const u = new URL(request.url);
    let headers = request.headers;
    if (env.EDITS === "true") {
      headers = new Headers(request.headers);
      for (const name of ["host", "cf-connecting-ip", "x-forwarded-for", "x-forwarded-proto"]) headers.delete(name);
      headers.set("apikey", "sb_publishable_bench");
      headers.set("x-tenant-id", "6f1c2a3e-0000-4000-8000-00000000ac4e");
      headers.set("x-tenant-slug", "acme");
      headers.set("x-forwarded-host", u.hostname);
      headers.set("x-forwarded-proto", u.protocol.slice(0, -1));
      headers.set("x-forwarded-for", "127.0.0.1");
    }
    const init = { method: request.method, headers, body: request.body, redirect: "manual" };
    let timer;
    if (env.DEADLINE === "true") {
      const controller = new AbortController();
      init.signal = controller.signal;
      timer = setTimeout(abortCall, 30000, controller);
    }
    const response = await fetch(env.UPSTREAM_URL + u.pathname + u.search, init);
    if (timer !== undefined) clearTimeout(timer);
    if (env.LOG_LINE === "true") {
      console.log(
        JSON.stringify({
          ts: new Date().toISOString(),
          tenant: "acme",
          host: u.hostname,
          method: request.method,
          route: "/rest/v1",
          status: response.status,
          latency_ms: Date.now() - started,
          cache: "static",
          token: "user",
        }),
      );
    }
    return response;
  },
};
