// Benchmark baseline (a): a Worker that only forwards to the upstream, nothing else.
// With LOG_LINE=true it also writes one JSON log line per request, the size of the router's: the
// reference (a') that tells the cost of the per-request log apart from the rest of the router.
export default {
  async fetch(request, env) {
    const started = Date.now();
    const u = new URL(request.url);
    const response = await fetch(env.UPSTREAM_URL + u.pathname + u.search, {
      method: request.method,
      headers: request.headers,
      body: request.body,
      redirect: "manual",
    });
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
