// Issue 17 end to end with supabase-js: Auth's allow list holds one entry (the router's return host),
// yet magic links and password reset land signed in on the exact tenant host they started on — a
// slug host and a custom domain that is in no allow list — also on another device (a fresh client
// that never saw the request). The Auth stand-in refuses redirect_to off its allow list as GoTrue does.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startStack, SEED } from "../support/stack.mjs";
import { tenantClient, hostMappedFetch, uniqueEmail } from "./helpers.mjs";

const RETURN_HOST = "auth.localhost";
let stack;
before(async () => {
  stack = await startStack({
    seed: true,
    alg: "ES256",
    routerVars: { AUTH_RETURN_HOST: RETURN_HOST, AUTH_RETURN_KEYS: "e2e:e2e-return-secret-of-at-least-32-bytes" },
  });
  stack.supabase.auth.allowList = [`http://${RETURN_HOST}/**`];
});
after(async () => {
  await stack?.stop();
});

/** Follow the router's redirects from `url` (a browser opening an emailed link) to the first URL off the router's own routes. */
async function open(url) {
  const fetch = hostMappedFetch(stack.routerPort);
  const hops = [];
  for (let i = 0; i < 5; i++) {
    const res = await fetch(url, { redirect: "manual" });
    hops.push({ url, status: res.status });
    const loc = res.headers.get("location");
    if (!loc) return { final: null, res, hops, body: await res.text() };
    url = new URL(loc, url).href;
    if (!new URL(url).pathname.startsWith("/__router/")) return { final: url, hops };
  }
  throw new Error(`too many redirects: ${JSON.stringify(hops)}`);
}

function sessionOf(url) {
  const f = new URLSearchParams(new URL(url).hash.slice(1));
  return { access_token: f.get("access_token"), refresh_token: f.get("refresh_token") };
}

// acme signs anyone up; globex (its custom domain) is invite-only, so its member bob is used there.
for (const [label, host, member] of [
  ["slug host", SEED.acme.host, null],
  ["custom domain", SEED.globex.host, SEED.users.bob.email],
]) {
  test(`${label}: a magic link returns, signed in, to the exact page on ${host} — also on another device`, async () => {
    const origin = `http://${host}:${stack.routerPort}`;
    const email = member ?? uniqueEmail("magic");
    const sb = tenantClient(stack, host);
    const { error } = await sb.auth.signInWithOtp({ email, options: { emailRedirectTo: `${origin}/welcome?from=mail` } });
    assert.equal(error, null, error?.message);
    const mail = stack.supabase.auth.mailbox(email).at(-1);
    assert.ok(mail.link.startsWith(`http://${RETURN_HOST}/__router/auth/return?rt=`), `link through the one allowed host: ${mail.link}`);
    const { final, hops } = await open(mail.link);
    assert.ok(final, `redirected: ${JSON.stringify(hops)}`);
    assert.equal(final.split("#")[0], `${origin}/welcome?from=mail`);
    // Another device: a brand-new client that only has the URL it landed on.
    const other = tenantClient(stack, host);
    const { data, error: e2 } = await other.auth.setSession(sessionOf(final));
    assert.equal(e2, null, e2?.message);
    assert.equal(data.user.email, email);
    // A token hash opens once.
    const again = await open(mail.link);
    assert.equal(again.final, null);
    assert.equal(again.res.status, 403, again.body);
  });

  test(`${label}: a password reset lands on ${host} signed in (another device), ready to set a new password`, async () => {
    const origin = `http://${host}:${stack.routerPort}`;
    const email = member ?? uniqueEmail("reset");
    const sb = tenantClient(stack, host);
    if (!member) assert.equal((await sb.auth.signUp({ email, password: "first-pass-1" })).error, null);
    const { error } = await sb.auth.resetPasswordForEmail(email, { redirectTo: `${origin}/reset` });
    assert.equal(error, null, error?.message);
    const mail = stack.supabase.auth.mailbox(email).at(-1);
    assert.equal(mail.type, "recovery");
    const { final } = await open(mail.link);
    assert.equal(final.split("#")[0], `${origin}/reset`);
    assert.equal(new URLSearchParams(new URL(final).hash.slice(1)).get("type"), "recovery");
    const device = tenantClient(stack, host);
    const { data } = await device.auth.setSession(sessionOf(final));
    assert.equal(data.user.email, email);
    assert.equal((await device.auth.getUser()).data.user.email, email);
  });
}

test("a redirect_to naming a foreign origin still comes back to the user's own host", async () => {
  const host = SEED.acme.host;
  const email = uniqueEmail("foreign");
  const sb = tenantClient(stack, host);
  await sb.auth.signInWithOtp({ email, options: { emailRedirectTo: "https://evil.example/steal" } });
  const { final } = await open(stack.supabase.auth.mailbox(email).at(-1).link);
  assert.equal(final.split("#")[0], `http://${host}:${stack.routerPort}/`);
});

test("without the router, Auth refuses a tenant host off its allow list (the Site URL is used instead)", async () => {
  const email = uniqueEmail("direct");
  const res = await fetch(`${stack.supabase.url}/auth/v1/otp?redirect_to=${encodeURIComponent(`http://${SEED.globex.host}/x`)}`, {
    method: "POST",
    headers: { apikey: stack.anonKey, "content-type": "application/json" },
    body: JSON.stringify({ email }),
  });
  assert.equal(res.status, 200);
  assert.equal(stack.supabase.auth.mailbox(email).at(-1).redirectTo, stack.supabase.auth.siteUrl);
});

test("a tampered link ends in an error page, never a redirect", async () => {
  const email = uniqueEmail("tamper");
  await tenantClient(stack, SEED.acme.host).auth.signInWithOtp({ email });
  const link = stack.supabase.auth.mailbox(email).at(-1).link;
  const tampered = link.replace(/rt=v1\.e2e\.[0-9a-f-]+/, `rt=v1.e2e.${SEED.globex.id}`);
  assert.notEqual(tampered, link);
  const r = await open(tampered);
  assert.equal(r.final, null);
  assert.equal(r.res.status, 400, r.body);
  assert.match(r.body, /invalid_return/);
});
