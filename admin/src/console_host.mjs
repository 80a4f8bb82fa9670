// The operator console on the admin host (issue 18), in front of the Rust admin API: the page and its
// bundled assets (admin/console, bundled by scripts/build-console.mjs into console_assets.mjs), and
// `/auth/v1/*` passed through to the project's Auth for this host only, so the page signs in
// same-origin (README, "The operator console": no CORS, `connect-src 'self'`, the session in this
// origin's storage, nothing for Auth's redirect allow list). Everything else is the Rust Worker's.
// scripts/build-admin.sh copies this file next to worker-build's output.
import { INDEX_HTML, ASSETS, VERSION } from "./console_assets.mjs";

// What the page may load and call: only this origin (and https images: tenants' logos); charts are
// inline SVG, colours set through CSSOM.
const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  // Tenants' logos (branding.logo_url) are https URLs of their own.
  "img-src 'self' data: https:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

const SECURITY = {
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
};

// The request headers supabase-js's Auth client sends; nothing else (cookies, forwarding headers)
// is passed on to Auth.
const AUTH_REQUEST_HEADERS = ["apikey", "authorization", "content-type", "accept", "x-client-info", "x-supabase-api-version"];
const AUTH_RESPONSE_HEADERS = ["content-type", "x-supabase-api-version", "retry-after"];

function escapeAttr(s) {
  return String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(env) {
  const html = INDEX_HTML.replace("__ANON_KEY__", escapeAttr(env.SUPABASE_ANON_KEY ?? ""))
    .replace("__CNAME_TARGET__", escapeAttr(env.CNAME_TARGET ?? ""))
    .replaceAll("__VERSION__", VERSION);
  return new Response(html, {
    headers: { "content-type": "text/html; charset=utf-8", "cache-control": "no-cache", "content-security-policy": CSP, ...SECURITY },
  });
}

async function passAuth(request, env, url) {
  // One spelling of the path (no empty segments), checked and forwarded as is.
  const path = url.pathname.replace(/\/{2,}/g, "/");
  // Auth's admin endpoints are the service role's: never through the console's host (the
  // pass-through adds no credential, so this is defence in depth).
  if (/^\/auth\/v1\/admin(\/|$)/i.test(path)) {
    return Response.json({ code: "not_found", message: "Not found", details: null, hint: null }, { status: 404 });
  }
  const base = String(env.SUPABASE_URL ?? "").replace(/\/+$/, "");
  if (!base) return Response.json({ code: "admin_misconfigured", message: "SUPABASE_URL is not set", details: null, hint: null }, { status: 500 });
  const headers = new Headers();
  for (const h of AUTH_REQUEST_HEADERS) {
    const v = request.headers.get(h);
    if (v !== null) headers.set(h, v);
  }
  const body = ["GET", "HEAD"].includes(request.method) ? undefined : await request.arrayBuffer();
  let upstream;
  try {
    upstream = await fetch(`${base}${path}${url.search}`, { method: request.method, headers, body, redirect: "manual" });
  } catch (e) {
    return Response.json({ code: 503, error_code: "auth_unavailable", msg: `Auth is unreachable: ${e}` }, { status: 503 });
  }
  const out = new Headers({ "cache-control": "no-store", ...SECURITY });
  for (const h of AUTH_RESPONSE_HEADERS) {
    const v = upstream.headers.get(h);
    if (v !== null) out.set(h, v);
  }
  const location = upstream.headers.get("location");
  if (location !== null) out.set("location", location);
  return new Response(upstream.body, { status: upstream.status, headers: out });
}

/** The console's answer for this request, or null when it is the admin API's. */
export async function consoleResponse(request, env) {
  const url = new URL(request.url);
  const p = url.pathname;
  if (p.startsWith("/auth/v1/")) return passAuth(request, env, url);
  if (request.method !== "GET" && request.method !== "HEAD") return null;
  if (p === "/" || p === "/console" || p === "/console/") return page(env);
  const asset = ASSETS[p];
  if (asset) {
    // Named with the build's hash in `?v=`: cached for good when it matches, else revalidated.
    const cache = url.searchParams.get("v") === VERSION ? "public, max-age=31536000, immutable" : "no-cache";
    return new Response(asset.body, { headers: { "content-type": asset.type, "cache-control": cache, ...SECURITY } });
  }
  return null;
}
