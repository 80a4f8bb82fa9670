// OAuth end to end with supabase-js (no browser: each redirect followed by hand, so every hop can be
// checked): the tenant host → the router → the Auth stand-in's /authorize → the OAuth provider TEST
// STAND-IN → Auth's /callback → the router's signed return → the tenant host with `?code=` → the PKCE
// grant. And what GoTrue refuses: a wrong verifier, a code or a state used twice, an unknown
// provider; an account linked by its verified email keeps its provider, so it joins no tenant.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createClient } from "@supabase/supabase-js";
import { startStack, SEED } from "../support/stack.mjs";
import { startOAuthProviderStandin } from "../support/oauth-provider-standin.mjs";
import { hostMappedFetch, claimsOf, uniqueEmail } from "./helpers.mjs";

const RETURN_HOST = "auth.localhost";
let stack, idp;
const T = { timeout: 30_000 };

before(async () => {
  stack = await startStack({
    seed: true,
    routerVars: { AUTH_RETURN_HOST: RETURN_HOST, AUTH_RETURN_KEYS: "e2e:e2e-oauth-return-secret-of-32-bytes!" },
  });
  stack.supabase.auth.allowList = [`http://${RETURN_HOST}/**`];
  idp = await startOAuthProviderStandin({ clientId: "Iv1.e2e", clientSecret: "e2e-secret", redirectUri: stack.supabase.auth.callbackUrl });
  stack.supabase.auth.externalProviders.github = { url: idp.url, clientId: "Iv1.e2e", secret: "e2e-secret" };
}, { timeout: 180_000 });
after(async () => {
  await stack?.stop();
  await idp?.stop();
});

/** supabase-js on a tenant host with PKCE, its verifier in memory (a browser's localStorage). */
function pkceClient(host, mem = new Map()) {
  return createClient(`http://${host}:${stack.routerPort}`, stack.anonKey, {
    global: { fetch: hostMappedFetch(stack.routerPort) },
    auth: {
      flowType: "pkce", persistSession: true, autoRefreshToken: false, detectSessionInUrl: false,
      storage: { getItem: (k) => mem.get(k) ?? null, setItem: (k, v) => mem.set(k, v), removeItem: (k) => mem.delete(k) },
    },
  });
}

/** A browser following redirects from `url` until a page of the tenant host: every hop. */
async function follow(url) {
  const routed = hostMappedFetch(stack.routerPort);
  const hops = [];
  for (let i = 0; i < 8; i++) {
    const u = new URL(url);
    const res = await (u.hostname === "127.0.0.1" ? fetch : routed)(url, { redirect: "manual" });
    hops.push(`${res.status} ${u.host}${u.pathname}`);
    const loc = res.headers.get("location");
    if (!loc) return { url, res, hops };
    url = new URL(loc, url).href;
    const next = new URL(url);
    if (next.hostname !== "127.0.0.1" && next.hostname !== RETURN_HOST && !next.pathname.startsWith("/auth/v1/")) return { url, hops };
  }
  throw new Error(`too many redirects: ${hops.join(" → ")}`);
}

function account(prefix, extra = {}) {
  const email = extra.email ?? uniqueEmail(prefix);
  const login = `${prefix}-${Math.random().toString(36).slice(2, 8)}`;
  idp.addAccount({ login, email, ...extra });
  idp.signInAs(login);
  return email;
}

const origin = (host) => `http://${host}:${stack.routerPort}`;

test("PKCE: the sign-in comes back to the page it started on through the signed return, and the code is exchanged once", T, async () => {
  const email = account("pkce");
  const mem = new Map();
  const sb = pkceClient(SEED.acme.host, mem);
  const { data, error } = await sb.auth.signInWithOAuth({ provider: "github", options: { redirectTo: `${origin(SEED.acme.host)}/after?x=1`, skipBrowserRedirect: true } });
  assert.equal(error, null);
  const { url, hops } = await follow(data.url);
  assert.deepEqual(hops.map((h) => h.split(" ")[1].replace(/:\d+/, "")), [
    `${SEED.acme.host}/auth/v1/authorize`, "127.0.0.1/login/oauth/authorize", "127.0.0.1/auth/v1/callback", `${RETURN_HOST}/__router/auth/return`,
  ]);
  const landed = new URL(url);
  assert.equal(`${landed.origin}${landed.pathname}`, `${origin(SEED.acme.host)}/after`);
  assert.equal(landed.searchParams.get("x"), "1");
  const code = landed.searchParams.get("code");
  assert.match(code, /^[0-9a-f-]{36}$/);
  const verifier = [...mem].find(([k]) => k.endsWith("-code-verifier") && !k.includes("-flows-"))[1].split("/")[0];
  const { data: s, error: e2 } = await sb.auth.exchangeCodeForSession(code);
  assert.equal(e2, null, e2?.message);
  assert.equal(s.user.email, email);
  assert.equal(s.user.app_metadata.provider, "github");
  assert.deepEqual(s.user.identities.map((i) => i.provider), ["github"]);
  assert.equal(claimsOf(s.session.access_token).amr[0].method, "oauth");
  assert.ok(s.session.provider_token?.startsWith("gho_"));
  // The code is spent, even with its verifier.
  const again = await hostMappedFetch(stack.routerPort)(`${origin(SEED.acme.host)}/auth/v1/token?grant_type=pkce`, {
    method: "POST",
    headers: { apikey: stack.anonKey, "content-type": "application/json" },
    body: JSON.stringify({ auth_code: code, code_verifier: verifier }),
  });
  assert.equal(again.status, 404);
  assert.equal((await again.json()).error_code, "flow_state_not_found");
});

test("PKCE: a wrong verifier is refused (the code stays good for the right one); the callback cannot be replayed", T, async () => {
  account("verifier");
  const sb = pkceClient(SEED.acme.host);
  const { data } = await sb.auth.signInWithOAuth({ provider: "github", options: { redirectTo: `${origin(SEED.acme.host)}/`, skipBrowserRedirect: true } });
  const hopsTo = [];
  let url = data.url;
  // Stop at the callback to replay it.
  const routed = hostMappedFetch(stack.routerPort);
  let callbackUrl;
  for (let i = 0; i < 3; i++) {
    const res = await (new URL(url).hostname === "127.0.0.1" ? fetch : routed)(url, { redirect: "manual" });
    hopsTo.push(url);
    url = res.headers.get("location");
    if (new URL(url).pathname === "/auth/v1/callback") callbackUrl = url;
  }
  assert.ok(callbackUrl, hopsTo.join(" → "));
  const { url: landed } = await follow(url);
  const code = new URL(landed).searchParams.get("code");
  const token = (body) => routed(`${origin(SEED.acme.host)}/auth/v1/token?grant_type=pkce`, {
    method: "POST",
    headers: { apikey: stack.anonKey, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const bad = await token({ auth_code: code, code_verifier: "x".repeat(43) });
  assert.equal(bad.status, 400);
  assert.equal((await bad.json()).error_code, "bad_code_verifier");
  // The same callback once more (a replayed provider answer): refused, back to the app with the error.
  const replay = await fetch(callbackUrl, { redirect: "manual" });
  assert.equal(replay.status, 302);
  const err = new URL(replay.headers.get("location"));
  assert.equal(err.hostname, RETURN_HOST);
  const { url: errLanded } = await follow(err.href);
  assert.equal(new URL(errLanded).searchParams.get("error_code"), "flow_state_already_used");
  const { error } = await sb.auth.exchangeCodeForSession(code);
  assert.equal(error, null, error?.message);
});

test("implicit flow (no code challenge): the session arrives in the fragment, and the return lands on the tenant host", T, async () => {
  const email = account("implicit");
  const routed = hostMappedFetch(stack.routerPort);
  // authorize (router) → provider → callback: Auth's redirect to the signed return carries the fragment.
  let url = `${origin(SEED.acme.host)}/auth/v1/authorize?provider=github&redirect_to=${encodeURIComponent(`${origin(SEED.acme.host)}/`)}`;
  for (let i = 0; i < 3; i++) url = (await (new URL(url).hostname === "127.0.0.1" ? fetch : routed)(url, { redirect: "manual" })).headers.get("location");
  const back = new URL(url);
  assert.equal(back.hostname, RETURN_HOST);
  const frag = new URLSearchParams(back.hash.slice(1));
  assert.equal(claimsOf(frag.get("access_token")).email, email);
  assert.equal(claimsOf(frag.get("access_token")).amr[0].method, "oauth");
  assert.equal(frag.get("token_type"), "bearer");
  assert.ok(frag.get("provider_token").startsWith("gho_"));
  // The return's 303 names no fragment, so a browser keeps this one on the tenant host.
  const { url: landed } = await follow(back.href.split("#")[0]);
  assert.equal(landed, `${origin(SEED.acme.host)}/`);
});

test("an unknown provider is refused before anything is redirected", T, async () => {
  const res = await hostMappedFetch(stack.routerPort)(`${origin(SEED.acme.host)}/auth/v1/authorize?provider=gitlab`, { redirect: "manual" });
  assert.equal(res.status, 400);
  assert.match((await res.json()).msg, /Unsupported provider/);
});

test("an OAuth sign-in with an existing account's verified email links it: its provider stays email, so it joins no tenant", T, async () => {
  const carol = SEED.users.carol.email;
  account("carol", { email: carol });
  const sb = pkceClient(SEED.acme.host);
  const { data } = await sb.auth.signInWithOAuth({ provider: "github", options: { redirectTo: `${origin(SEED.acme.host)}/`, skipBrowserRedirect: true } });
  const { url } = await follow(data.url);
  const { data: s, error } = await sb.auth.exchangeCodeForSession(new URL(url).searchParams.get("code"));
  assert.equal(error, null, error?.message);
  assert.equal(s.user.id, SEED.users.carol.id);
  assert.equal(s.user.app_metadata.provider, "email");
  assert.deepEqual(s.user.app_metadata.providers.sort(), ["email", "github"]);
  const join = await sb.rpc("join_tenant_after_oauth");
  assert.equal(join.error?.code, "PT403");
});
