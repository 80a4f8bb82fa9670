// Benchmark baseline (a): a Worker that only forwards to the upstream, nothing else.
export default {
  async fetch(request, env) {
    const u = new URL(request.url);
    return fetch(env.UPSTREAM_URL + u.pathname + u.search, {
      method: request.method,
      headers: request.headers,
      body: request.body,
      redirect: "manual",
    });
  },
};
