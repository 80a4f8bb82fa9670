// Shared fixtures for the workerd suites: demo tenants, the JWT secret, vars, token helpers.
// (Not a test file: node --test only runs *.test.mjs here.)

import assert from "node:assert/strict";
import { startRouter, routerBuilt } from "../support/router.mjs";
import { startUpstream, signHS256, signES256, userClaims, anonKeyClaims } from "../support/upstream.mjs";

export const JWT_SECRET = "super-secret-jwt-token-with-at-least-32-characters-long";

export const ACME = {
  id: "6f1c2a3e-0000-4000-8000-00000000ac4e",
  slug: "acme",
  name: "Acme Clinic",
  status: "active",
  custom_domain: null,
  signup: "open",
  branding: { logo_url: "https://cdn.example/acme.svg", primary_color: "#004AAD" },
  placement: null,
};

export const GLOBEX = {
  id: "7a2d3b4f-1111-4111-8111-0000000091be",
  slug: "globex",
  name: "Globex Realty",
  status: "active",
  custom_domain: "crm.globex.test",
  signup: "open",
  branding: { logo_url: "https://cdn.example/globex.svg", primary_color: "#0A7D32" },
  placement: null,
};

export const UMBRELLA = {
  id: "8b3e4c5a-2222-4222-8222-0000000ab7e1",
  slug: "umbrella",
  name: "Umbrella Motors",
  status: "active",
  custom_domain: "crm.umbrella.test",
  signup: "invite_only",
  branding: { logo_url: null, primary_color: "#B00020" },
  placement: null,
};

export const INITECH = {
  id: "9c4f5d6b-3333-4333-8333-00000001ec4e",
  slug: "initech",
  name: "Initech",
  status: "suspended",
  custom_domain: "crm.initech.test",
  signup: "open",
  branding: {},
  placement: null,
};

export const TENANTS = [ACME, GLOBEX, UMBRELLA, INITECH];

/** The two hosts every forwarding rule is checked on. */
export const HOSTS = [
  { label: "slug host", host: "acme.app.example", tenant: ACME },
  { label: "custom domain", host: "crm.globex.test", tenant: GLOBEX },
];

/** The legacy anon key (HS256 JWT, role anon, iss supabase, no aud), fixed for the whole run. */
export const ANON_KEY = signHS256(anonKeyClaims(), JWT_SECRET);
export function anonKey() {
  return ANON_KEY;
}

/** Typical router vars for a static directory in front of `up`. */
export function baseVars(up, extra = {}) {
  return {
    SUPABASE_URL: up.url,
    SUPABASE_ANON_KEY: anonKey(),
    SUPABASE_JWT_SECRET: JWT_SECRET,
    BASE_DOMAINS: "app.example",
    TENANT_DIRECTORY: JSON.stringify(TENANTS),
    ...extra,
  };
}

export function hsToken(up, overrides = {}) {
  return signHS256(userClaims(up.url, overrides), JWT_SECRET);
}

export function esToken(up, overrides = {}) {
  return signES256(userClaims(up.url, overrides));
}

export function bearer(token) {
  return { authorization: `Bearer ${token}` };
}

/** Fail loudly (not skip) when the router has not been built. */
export function requireBuilt() {
  assert.ok(
    routerBuilt(),
    "build/entry.mjs and build/*.wasm are missing: build the router first with `bash scripts/build-worker.sh`",
  );
}

/** Start a stand-in and a router in front of it (`routerOptions`: startRouter's). Returns { up, router, dispose }. */
export async function startPair({ vars = {}, tenants = TENANTS, upstreamOptions = {}, routerOptions = {} } = {}) {
  requireBuilt();
  const up = await startUpstream({ tenants, ...upstreamOptions });
  let router;
  try {
    router = await startRouter(typeof vars === "function" ? vars(up) : baseVars(up, vars), routerOptions);
  } catch (e) {
    await up.dispose();
    throw e;
  }
  return {
    up,
    router,
    async dispose() {
      await router.dispose();
      await up.dispose();
    },
  };
}

/** A pair for one test ([`startPair`]'s options): `fn({ up, router })` runs, then both are disposed. */
export async function withPair(options, fn) {
  const pair = await startPair(options);
  try {
    return await fn(pair);
  } finally {
    await pair.dispose();
  }
}

/** Assert a router error: status, PostgREST shape, code; on /auth/v1 also error_code and msg. */
export function assertRouterError(res, status, code, { auth = false } = {}) {
  assert.equal(res.status, status, `expected ${status} ${code}, got ${res.status}: ${res.body}`);
  let body;
  try {
    body = res.json();
  } catch {
    assert.fail(`expected a JSON error body with code ${code}, got: ${res.body}`);
  }
  assert.equal(body.code, code, `expected code ${code}, got ${JSON.stringify(body)}`);
  for (const k of ["code", "message", "details", "hint"]) {
    assert.ok(k in body, `error body lacks "${k}" (PostgREST shape): ${JSON.stringify(body)}`);
  }
  assert.equal(typeof body.message, "string");
  assert.match(res.headers["content-type"] ?? "", /application\/json/);
  if (auth) {
    assert.equal(body.error_code, code, `auth error body lacks error_code=${code}: ${JSON.stringify(body)}`);
    assert.equal(body.msg, body.message, `auth error body: msg should equal message: ${JSON.stringify(body)}`);
  }
  return body;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
