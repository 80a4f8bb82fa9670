// Helpers of the end-to-end suite (not a test file: node --test runs only *.test.mjs).
//
// supabase-js is created with a tenant's domain as its URL (http://acme.localhost:<port>,
// http://crm.globex.test:<port>). Neither resolves in Node, so `hostMappedFetch` sends every request
// to 127.0.0.1:<routerPort> with node:http and the URL's host as the Host header, which is exactly
// what a browser on that domain would send to the router.

import http from "node:http";
import crypto from "node:crypto";
import { before, after } from "node:test";
import { createClient } from "@supabase/supabase-js";
import { decodeJwt, signJwt } from "../support/auth-standin.mjs";
import { startStack } from "../support/stack.mjs";

/**
 * The local stack (PostgreSQL with the schema, the Supabase stand-ins, the router in workerd) for one
 * test file: started before its tests, stopped after them. The returned object stands for the stack
 * once started; `db.sql(text, params)` reads the database as its superuser (bypassing RLS), to check
 * what really happened.
 */
export function useStack(opts) {
  let started;
  before(async () => {
    started = await startStack(opts);
  }, { timeout: 180_000 });
  after(async () => {
    await started?.stop();
  }, { timeout: 60_000 });
  const stack = new Proxy({}, { get: (_, key) => started?.[key] });
  const db = { sql: async (text, params = []) => (await started.pg.query(text, params)).rows };
  return { stack, db };
}

/**
 * Realtime is not exercised here; supabase-js 2.119 needs a WebSocket constructor at creation time and
 * Node 20 has none built in, so this placeholder is passed as the transport (it throws if ever used).
 */
class NoRealtimeWebSocket {
  constructor() {
    throw new Error("Realtime is not part of the end-to-end suite (no WebSocket transport on Node 20)");
  }
}
const realtime = { transport: NoRealtimeWebSocket };

/** A fetch that connects to 127.0.0.1:port whatever the URL's host, keeping the Host header. */
export function hostMappedFetch(port, sent = []) {
  return async function fetch(input, init = {}) {
    const req = new Request(input, init);
    const url = new URL(req.url);
    const headers = {};
    req.headers.forEach((v, k) => {
      headers[k] = v;
    });
    headers.host = url.host;
    const body = req.body ? Buffer.from(await req.arrayBuffer()) : null;
    if (body) headers["content-length"] = String(body.length);
    sent.push({ method: req.method, host: url.host, path: url.pathname + url.search, headers });
    return await new Promise((resolve, reject) => {
      const r = http.request(
        { host: "127.0.0.1", port, method: req.method, path: url.pathname + url.search, headers, agent: false, setHost: false },
        (res) => {
          const chunks = [];
          res.on("data", (c) => chunks.push(c));
          res.on("error", reject);
          res.on("end", () => {
            const h = new Headers();
            for (const [k, v] of Object.entries(res.headers)) {
              if (Array.isArray(v)) v.forEach((x) => h.append(k, x));
              else if (v !== undefined) h.set(k, v);
            }
            const noBody = res.statusCode === 204 || res.statusCode === 304 || req.method === "HEAD";
            resolve(new Response(noBody ? null : Buffer.concat(chunks), { status: res.statusCode, statusText: res.statusMessage, headers: h }));
          });
        },
      );
      r.setTimeout(20_000, () => r.destroy(new Error(`${req.method} ${url} timed out`)));
      r.on("error", reject);
      if (init.signal) init.signal.addEventListener("abort", () => r.destroy(new Error("aborted")));
      r.end(body ?? undefined);
    });
  };
}

/**
 * supabase-js on a tenant host through the router. opts: { accessToken (fixed bearer, no auth client),
 * headers (extra global headers), sent (array collecting what supabase-js sent) }.
 */
export function tenantClient(stack, host, { accessToken, headers = {}, sent } = {}) {
  return createClient(`http://${host}:${stack.routerPort}`, stack.anonKey, {
    global: { fetch: hostMappedFetch(stack.routerPort, sent), headers },
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
    realtime,
    ...(accessToken ? { accessToken: async () => accessToken } : {}),
  });
}

/** supabase-js straight at the Supabase stand-in with the service_role key (the platform's back office). */
export function serviceClient(stack) {
  return createClient(stack.supabase.url, stack.serviceKey, {
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
    realtime,
  });
}

/** Claims of a JWT (not verified). */
export function claimsOf(token) {
  return decodeJwt(token)?.claims;
}

/** The same claims, ES256-signed by a P-256 key that is not the project's, under the project's kid. */
export function foreignSigned(token) {
  const d = decodeJwt(token);
  const { privateKey } = crypto.generateKeyPairSync("ec", { namedCurve: "P-256" });
  return signJwt(d.claims, { alg: "ES256", key: privateKey, kid: d.header.kid });
}

export function uniqueEmail(prefix) {
  return `${prefix}-${crypto.randomBytes(4).toString("hex")}@e2e.test`;
}
