// The benchmark's rival: a JS Worker doing the router's whole job for an API request, with
// WebCrypto — host → tenant from a static directory (TENANT_DIRECTORY, slugs under BASE_DOMAINS
// and custom domains), the token checks (HS256 with SUPABASE_JWT_SECRET; ES256/RS256 from the
// project's JWKS, fetched once per isolate; exp/nbf with 30 s leeway, iss, aud, role, tenant_ids;
// service_role refused wherever it rides; the anon key passes as anonymous), the header edits
// (hop-by-hop and every identity header stripped; x-tenant-id, x-tenant-slug, apikey,
// x-forwarded-*, sb-forwarded-for set), the upstream deadline (UPSTREAM_TIMEOUT_MS), and one JSON
// log line per request. Errors in PostgREST's shape with the router's codes.
//
// It is a fair rival only where it does the same job: `ROUTER_BUILD_DIR=bench/worker/rival node
// --test tests/worker/<file>` runs it through the router's own workerd tests (README, Benchmarks,
// says which pass). Not implemented: /auth/v1 rewrites, sign-up stamping, CORS, the Supabase
// directory, the router's own endpoints other than health, the front end, signed returns.
const API_PREFIXES = ["/rest/v1", "/auth/v1", "/storage/v1", "/functions/v1", "/graphql/v1", "/realtime/v1"];
const METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);
const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade"]);
const OWNED_PREFIXES = ["x-tenant-", "x-forwarded-", "sb-", "x-sb-", "x-envoy-", "x-consumer-", "x-credential-", "x-authenticated-", "x-jwt-"];
const OWNED_NAMES = new Set(["host", "forwarded", "x-real-ip", "x-client-ip", "true-client-ip", "cf-connecting-ip", "cf-connecting-ipv6", "cf-pseudo-ipv4", "fastly-client-ip", "x-cluster-client-ip", "x-original-forwarded-for", "x-anonymous-consumer", "x-original-host", "x-host", "x-original-url", "x-rewrite-url"]);
const LEEWAY_S = 30;
const MAX_TOKEN_BYTES = 16 * 1024;
const abortCall = Function.prototype.call.bind(AbortController.prototype.abort);
const utf8 = new TextDecoder();
const bytes = new TextEncoder();

class RouterError extends Error {
  constructor(status, code, message, extra = {}) {
    super(message);
    Object.assign(this, { status, code, extra });
  }
}
const invalidToken = (details) => new RouterError(401, "invalid_token", "Invalid or expired access token", { details, headers: { "www-authenticate": 'Bearer error="invalid_token", error_description="invalid or expired access token"' }, hint: "Sign in again to obtain a fresh access token." });

/** Parsed once per isolate, as the router parses its vars. */
let state;
function setup(env) {
  if (state) return state;
  const tenants = JSON.parse(env.TENANT_DIRECTORY);
  const bySlug = new Map();
  const byDomain = new Map();
  for (const t of tenants) {
    bySlug.set(t.slug, t);
    if (t.custom_domain) byDomain.set(t.custom_domain.toLowerCase(), t);
    for (const d of t.domains ?? []) byDomain.set(d.toLowerCase(), t);
  }
  state = {
    bySlug,
    byDomain,
    baseDomains: (env.BASE_DOMAINS ?? "").split(",").map((d) => d.trim().toLowerCase()).filter(Boolean),
    url: env.SUPABASE_URL.replace(/\/$/, ""),
    anonKey: env.SUPABASE_ANON_KEY,
    timeoutMs: Number(env.UPSTREAM_TIMEOUT_MS ?? 30000),
    hmac: env.SUPABASE_JWT_SECRET ? crypto.subtle.importKey("raw", bytes.encode(env.SUPABASE_JWT_SECRET), { name: "HMAC", hash: "SHA-256" }, false, ["verify"]) : null,
    jwks: null,
  };
  return state;
}

function tenantFor(s, rawHost) {
  const host = rawHost.toLowerCase().replace(/:\d+$/, "").replace(/\.$/, "");
  if (!host || !/^[a-z0-9.-]+$/.test(host)) throw new RouterError(400, "invalid_host", "Invalid Host header", { details: "malformed host" });
  for (const base of s.baseDomains) {
    if (host === base) throw new RouterError(404, "no_tenant_for_host", "No tenant is served on this host");
    if (host.endsWith(`.${base}`)) {
      const label = host.slice(0, -base.length - 1);
      if (label.includes(".")) throw new RouterError(404, "tenant_not_found", "No tenant found for this host");
      const t = s.bySlug.get(label);
      if (!t) throw new RouterError(404, "tenant_not_found", "No tenant found for this host");
      return { tenant: t, host };
    }
  }
  const t = s.byDomain.get(host);
  if (!t) throw new RouterError(404, "tenant_not_found", "No tenant found for this host");
  return { tenant: t, host };
}

function b64url(str) {
  const bin = atob(str.replace(/-/g, "+").replace(/_/g, "/"));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

async function jwksKey(s, alg, kid) {
  s.jwks ??= fetch(`${s.url}/auth/v1/.well-known/jwks.json`, { headers: { apikey: s.anonKey } })
    .then((r) => (r.ok ? r.json() : Promise.reject(new Error(`JWKS ${r.status}`))))
    .then((set) => ({ keys: set.keys ?? [], imported: new Map() }))
    .catch((e) => {
      s.jwks = null;
      throw e;
    });
  const set = await s.jwks;
  const kty = alg === "ES256" ? "EC" : "RSA";
  const jwk = set.keys.find((k) => k.kty === kty && (kid === undefined || k.kid === kid));
  if (!jwk) throw invalidToken("no key for this token");
  const id = `${alg}/${jwk.kid}`;
  let key = set.imported.get(id);
  if (!key) {
    const params = alg === "ES256" ? { name: "ECDSA", namedCurve: "P-256" } : { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" };
    key = crypto.subtle.importKey("jwk", { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y, n: jwk.n, e: jwk.e }, params, false, ["verify"]);
    set.imported.set(id, key);
  }
  return key;
}

/** The token's claims once verified, or throws invalid_token. */
async function verify(s, token) {
  if (token.length > MAX_TOKEN_BYTES) throw invalidToken("token too large");
  const parts = token.split(".");
  if (parts.length !== 3) throw invalidToken("malformed token");
  let header, claims;
  try {
    header = JSON.parse(utf8.decode(b64url(parts[0])));
    claims = JSON.parse(utf8.decode(b64url(parts[1])));
  } catch {
    throw invalidToken("malformed token");
  }
  if (header.crit !== undefined) throw invalidToken("crit header");
  let key, params;
  if (header.alg === "HS256" && s.hmac) [key, params] = [await s.hmac, { name: "HMAC" }];
  else if (header.alg === "ES256") [key, params] = [await jwksKey(s, "ES256", header.kid), { name: "ECDSA", hash: "SHA-256" }];
  else if (header.alg === "RS256") [key, params] = [await jwksKey(s, "RS256", header.kid), { name: "RSASSA-PKCS1-v1_5" }];
  else throw invalidToken("algorithm not allowed");
  const ok = await crypto.subtle.verify(params, key, b64url(parts[2]), bytes.encode(`${parts[0]}.${parts[1]}`));
  if (!ok) throw invalidToken("bad signature");
  const now = Date.now() / 1000;
  if (typeof claims.exp !== "number" || now > claims.exp + LEEWAY_S) throw invalidToken("expired");
  if (typeof claims.nbf === "number" && now + LEEWAY_S < claims.nbf) throw invalidToken("not yet valid");
  return claims;
}

/** anon | user | service_role for a verified token, checking the claims a user token needs. */
function kindOf(s, claims) {
  if (claims.role === "anon") return "anon";
  if (claims.role === "service_role") return "service_role";
  const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (claims.role !== "authenticated" || claims.iss !== `${s.url}/auth/v1` || !aud.includes("authenticated") || !claims.sub) throw invalidToken("claims");
  return "user";
}

async function authenticate(s, request, url, tenant) {
  const auths = request.headers.get("authorization");
  const keys = [request.headers.get("apikey"), ...url.searchParams.getAll("apikey")].filter(Boolean).flatMap((k) => k.split(",").map((x) => x.trim()));
  let kind = "none";
  let claims = null;
  if (auths) {
    if (auths.includes(",")) throw invalidToken("more than one Authorization credential");
    const m = /^Bearer\s+(\S+)$/i.exec(auths);
    if (!m) throw invalidToken("not a bearer token");
    const token = m[1];
    if (token === s.anonKey || token.startsWith("sb_publishable_")) kind = "anon";
    else if (token.startsWith("sb_secret_")) kind = "service_role";
    else {
      claims = await verify(s, token);
      kind = kindOf(s, claims);
    }
  }
  for (const k of new Set(keys)) {
    if (k.startsWith("sb_secret_")) kind = "service_role";
    else if (k.split(".").length === 3) {
      const c = await verify(s, k);
      if (kindOf(s, c) === "service_role") kind = "service_role";
    }
  }
  if (kind === "service_role") throw new RouterError(403, "service_role_forbidden", "Service_role credentials are not accepted on tenant hosts");
  if (new Set(keys).size > 1) throw new RouterError(400, "ambiguous_credentials", "Ambiguous credentials", { details: "more than one apikey (headers and query parameters)" });
  if (claims && Array.isArray(claims.tenant_ids) && !claims.tenant_ids.includes(tenant.id)) {
    throw new RouterError(403, "tenant_mismatch", "The token does not belong to this tenant", { hint: "Sign in on this tenant's domain." });
  }
  return kind === "none" ? "anon" : kind;
}

function upstreamHeaders(request, url, tenant, host, anonKey) {
  const named = (request.headers.get("connection") ?? "").split(",").map((x) => x.trim().toLowerCase());
  const out = new Headers();
  let hasApikey = false;
  for (const [k, v] of request.headers) {
    if (HOP_BY_HOP.has(k) || named.includes(k) || OWNED_NAMES.has(k) || OWNED_PREFIXES.some((p) => k.startsWith(p))) continue;
    if (k === "apikey") hasApikey = true;
    out.append(k, v);
  }
  if (!hasApikey) out.set("apikey", anonKey);
  out.set("x-tenant-id", tenant.id);
  out.set("x-tenant-slug", tenant.slug);
  out.set("x-forwarded-host", host);
  out.set("x-forwarded-proto", url.protocol.slice(0, -1));
  const ip = request.headers.get("cf-connecting-ip");
  if (ip) {
    out.set("x-forwarded-for", ip);
    out.set("sb-forwarded-for", ip);
  }
  return out;
}

function errorResponse(e, path) {
  const body = { code: e.code, message: e.message, details: e.extra.details ?? null, hint: e.extra.hint ?? null };
  if (path === "/auth/v1" || path.startsWith("/auth/v1/")) Object.assign(body, { error_code: e.code, msg: e.message });
  return Response.json(body, { status: e.status, headers: { "cache-control": "no-store", ...(e.extra.headers ?? {}) } });
}

export default {
  async fetch(request, env) {
    const started = Date.now();
    const url = new URL(request.url);
    const log = { tenant: null, host: url.hostname, method: request.method, route: "frontend", cache: null, token: "none" };
    let status = 500;
    try {
      if (url.pathname === "/__router/health") return Response.json({ status: "ok" });
      const s = setup(env);
      const route = API_PREFIXES.find((p) => url.pathname === p || url.pathname.startsWith(`${p}/`));
      if (route) log.route = route;
      const { tenant, host } = tenantFor(s, request.headers.get("host") ?? url.host);
      Object.assign(log, { tenant: tenant.slug, host, cache: "static" });
      if (tenant.status === "suspended") throw new RouterError(403, "tenant_suspended", "This tenant is suspended");
      if (!route) throw new RouterError(404, "not_found", "Not found");
      if (!METHODS.has(request.method)) throw new RouterError(405, "method_not_allowed", "Method not allowed", { headers: { allow: [...METHODS].join(", ") } });
      try {
        log.token = await authenticate(s, request, url, tenant);
      } catch (e) {
        log.token = "refused";
        throw e;
      }
      const controller = new AbortController();
      const timer = setTimeout(abortCall, s.timeoutMs, controller);
      const init = { method: request.method, headers: upstreamHeaders(request, url, tenant, host, s.anonKey), redirect: "manual", signal: controller.signal };
      if (!["GET", "HEAD"].includes(request.method)) init.body = request.body;
      let response;
      try {
        response = await fetch(s.url + url.pathname + url.search, init);
      } catch (e) {
        throw controller.signal.aborted
          ? new RouterError(504, "upstream_timeout", `Upstream did not answer within ${s.timeoutMs} ms`)
          : new RouterError(502, "upstream_unreachable", "Upstream unreachable", { details: String(e) });
      } finally {
        clearTimeout(timer);
      }
      status = response.status;
      return response;
    } catch (e) {
      if (!(e instanceof RouterError)) e = new RouterError(500, "router_internal", "The router could not build its response", { details: String(e) });
      log.error = e.code;
      status = e.status;
      return errorResponse(e, url.pathname);
    } finally {
      console.log(JSON.stringify({ ts: new Date().toISOString(), ...log, status, latency_ms: Date.now() - started }));
    }
  },
};
