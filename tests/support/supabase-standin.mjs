// TEST STAND-IN for a Supabase project's API gateway: ONE base URL (127.0.0.1, random or given port)
// that dispatches `/auth/v1/*` to the Auth stand-in (auth-standin.mjs), `/rest/v1/*` to the REST
// stand-in (rest-standin.mjs) and `/storage/v1/*` to the Storage stand-in (storage-standin.mjs), as
// Supabase's gateway does, and records every request (method, path, query, headers, body) for
// assertions. The router's SUPABASE_URL points here.
//
//   const sb = await startSupabaseStandin({ databaseUrl, jwtSecret, alg: "ES256", port: 0 });
//   sb.url, sb.auth (the Auth stand-in), sb.anonKey, sb.serviceKey, sb.requests, sb.admin (pg.Pool as
//   postgres), await sb.stop()

import http from "node:http";
import pg from "pg";
import { createAuthStandin } from "./auth-standin.mjs";
import { createRestStandin } from "./rest-standin.mjs";
import { createStorageStandin } from "./storage-standin.mjs";

export const DEFAULT_JWT_SECRET = "standin-legacy-jwt-secret-with-at-least-32-characters";

function withUser(databaseUrl, user) {
  const u = new URL(databaseUrl);
  u.username = user;
  u.password = "";
  return u.toString();
}

/**
 * opts: { databaseUrl (superuser, e.g. postgresql://postgres@127.0.0.1:PORT/postgres), jwtSecret,
 *         alg: "ES256" | "HS256", port (0 = random), host = "127.0.0.1", log = false }
 */
export async function startSupabaseStandin({ databaseUrl, jwtSecret = DEFAULT_JWT_SECRET, alg = "ES256", port = 0, host = "127.0.0.1", log = false } = {}) {
  if (!databaseUrl) throw new Error("startSupabaseStandin: databaseUrl is required");
  // Supabase Auth has its own connection; PostgREST connects as `authenticator` and switches role.
  const admin = new pg.Pool({ connectionString: databaseUrl, max: 5 });
  const authenticator = new pg.Pool({ connectionString: withUser(databaseUrl, "authenticator"), max: 10 });
  admin.on("error", () => {});
  authenticator.on("error", () => {});

  const auth = createAuthStandin({ pool: admin, publicUrl: "http://placeholder", jwtSecret, alg });
  const rest = createRestStandin({ pool: authenticator, verify: (t) => auth.verify(t) });
  const storage = createStorageStandin({ pool: admin, verify: (t) => auth.verify(t) });
  const requests = [];

  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("error", () => res.destroy());
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const url = new URL(req.url, "http://standin");
      requests.push({
        method: req.method,
        path: url.pathname,
        query: url.search,
        headers: { ...req.headers },
        body: body.toString("utf8"),
        at: Date.now(),
      });
      if (log) process.stderr.write(`[supabase stand-in] ${req.method} ${req.url}\n`);
      const done = (p) =>
        p.catch((e) => {
          console.error("supabase stand-in:", e);
          if (!res.headersSent) {
            res.writeHead(500, { "content-type": "application/json" });
            res.end(JSON.stringify({ code: "XX000", message: String(e?.message ?? e), details: null, hint: null }));
          } else res.destroy();
        });
      if (url.pathname.startsWith("/auth/v1/") || url.pathname === "/auth/v1") return done(auth.handle(req, res, body));
      if (url.pathname.startsWith("/rest/v1/") || url.pathname === "/rest/v1") return done(rest.handle(req, res, body));
      if (url.pathname.startsWith("/storage/v1/")) return done(storage.handle(req, res, body));
      const text = JSON.stringify({ message: "no Route matched with those values (Supabase test stand-in serves /auth/v1, /rest/v1 and /storage/v1 only)" });
      res.writeHead(404, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
      res.end(text);
    });
  });
  const sockets = new Set();
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, resolve);
  });
  const url = `http://${host}:${server.address().port}`;
  auth.publicUrl = url;

  let stopped = false;
  return {
    url,
    port: server.address().port,
    auth,
    storage,
    admin,
    requests,
    jwtSecret,
    anonKey: auth.apiKey("anon"),
    serviceKey: auth.apiKey("service_role"),
    /** Requests whose path starts with `prefix`. */
    requestsTo(prefix) {
      return requests.filter((r) => r.path.startsWith(prefix));
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await new Promise((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
      await Promise.allSettled([admin.end(), authenticator.end()]);
      storage.stop();
    },
  };
}
