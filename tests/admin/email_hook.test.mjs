// Issue 17 item 3 in workerd: Supabase Auth's Send Email hook served by the built admin Worker.
// The Auth stand-in calls the hook as GoTrue does (standard-webhooks signed, retried with a new
// webhook-id), the hook sends through the email API stand-in (the OUTBOX), and the link in the
// branded email signs the user in on the very host they started on — a custom domain in no allow
// list. Attacks on the hook (bad signature, stale timestamp, forged redirect, tenant in
// user_metadata) end in an error and an empty outbox.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import crypto from "node:crypto";
import { startStack, SEED } from "../support/stack.mjs";
import { linkOf } from "../support/email-standin.mjs";
import { startSendEmailHook } from "../support/send-email-hook.mjs";
import { signReturn, returnUrl } from "../support/signed-return.mjs";
import { tenantClient, hostMappedFetch, uniqueEmail } from "../e2e/helpers.mjs";
import { adminBuildDir, adminBuilt } from "./support.mjs";

const RETURN_HOST = "auth.localhost";
const RETURN_KEY = { kid: "hook", secret: "hook-return-secret-of-at-least-32-bytes" };

let stack, hook, outbox, hookUrl, HOOK_SECRET;
before(async () => {
  if (!adminBuilt()) throw new Error("the admin Worker is not built: run `bash scripts/build-admin.sh` first");
  const keys = `${RETURN_KEY.kid}:${RETURN_KEY.secret}`;
  stack = await startStack({ seed: true, alg: "HS256", routerVars: { AUTH_RETURN_HOST: RETURN_HOST, AUTH_RETURN_KEYS: keys } });
  stack.supabase.auth.allowList = [`http://${RETURN_HOST}/**`];
  stack.supabase.auth.confirmSignups = true;
  // The custom domain's tenant takes sign-ups here, so the journey starts with one.
  await stack.pg.query("update public.tenants set signup = 'open' where id = $1", [SEED.globex.id]);
  hook = await startSendEmailHook(stack, { returnHost: RETURN_HOST, returnKeys: keys, adminBuildDir });
  ({ outbox, url: hookUrl, secret: HOOK_SECRET } = hook);
});
after(async () => {
  await hook?.stop();
  await stack?.stop();
});

/** Follow the router's redirects from an emailed link to the first URL off the router's routes. */
async function open(url) {
  const fetch = hostMappedFetch(stack.routerPort);
  for (let i = 0; i < 5; i++) {
    const res = await fetch(url, { redirect: "manual" });
    const loc = res.headers.get("location");
    if (!loc) return { final: null, res, body: await res.text() };
    url = new URL(loc, url).href;
    if (!new URL(url).pathname.startsWith("/__router/")) return { final: url };
  }
  throw new Error("too many redirects");
}

/** A hook call as Auth would make it, signed with `secret` (default: the configured one). */
function callHook(payload, { secret = HOOK_SECRET, id = `msg_${crypto.randomUUID()}`, ts = Math.floor(Date.now() / 1000), body } = {}) {
  body ??= JSON.stringify(payload);
  const key = Buffer.from(secret.replace(/^v1,whsec_/, ""), "base64");
  const sig = `v1,${crypto.createHmac("sha256", key).update(`${id}.${ts}.${body}`).digest("base64")}`;
  return fetch(hookUrl, {
    method: "POST",
    headers: { "content-type": "application/json", "webhook-id": id, "webhook-timestamp": String(ts), "webhook-signature": sig },
    body,
  });
}

function payload(email, redirectTo, userMetadata = {}) {
  return {
    user: { id: crypto.randomUUID(), email, user_metadata: userMetadata },
    email_data: { token: "123456", token_hash: crypto.randomBytes(28).toString("hex"), redirect_to: redirectTo, email_action_type: "magiclink", site_url: "http://127.0.0.1:3000", token_new: "", token_hash_new: "" },
  };
}

const signedFor = (tenant, target) => returnUrl("http", RETURN_HOST, signReturn(RETURN_KEY, tenant, target, Math.floor(Date.now() / 1000) + 3600));

test("sign up on a custom domain in no allow list → one branded email, linked to that host → opened → signed in there", async () => {
  const host = SEED.globex.host;
  const origin = `http://${host}:${stack.routerPort}`;
  const email = uniqueEmail("hook-signup");
  const sb = tenantClient(stack, host);
  const { error } = await sb.auth.signUp({ email, password: "hook-pass-123", options: { emailRedirectTo: `${origin}/welcome` } });
  assert.equal(error, null, error?.message);
  assert.deepEqual(stack.supabase.auth.mailbox(email), [], "the hook mails, not Auth's mailbox");
  const [m, ...more] = outbox.messages(email);
  assert.equal(more.length, 0);
  assert.equal(m.from, "auth@platform.test");
  assert.match(m.subject, /^Globex Realty – /);
  assert.ok(m.html.includes("https://example.com/globex.svg") && m.html.includes("#1B5E20"), m.html);
  const link = linkOf(m);
  assert.ok(link.startsWith(`${origin}/__router/auth/confirm?token_hash=`), link);
  assert.match(link, /type=signup&next=%2Fwelcome$/);
  const { final } = await open(link);
  assert.ok(final, "redirected to the app");
  assert.equal(final.split("#")[0], `${origin}/welcome`);
  const f = new URLSearchParams(new URL(final).hash.slice(1));
  const device = tenantClient(stack, host);
  const { data, error: e2 } = await device.auth.setSession({ access_token: f.get("access_token"), refresh_token: f.get("refresh_token") });
  assert.equal(e2, null, e2?.message);
  assert.equal(data.user.email, email);
});

test("Auth retries a slow hook with a new webhook-id: one email per token", async () => {
  const email = uniqueEmail("hook-retry");
  const p = payload(email, signedFor(SEED.acme.id, `http://${SEED.acme.host}:${stack.routerPort}/`));
  const ids = [];
  for (let i = 0; i < 3; i++) {
    const id = `msg_${crypto.randomUUID()}`;
    ids.push(id);
    const r = await callHook(p, { id });
    assert.equal(r.status, 200, await r.text());
  }
  assert.equal(new Set(ids).size, 3);
  assert.equal(outbox.messages(email).length, 1);
  // Through Auth's own retry: the provider is slow, so the first call times out at Auth, which
  // calls again with a new webhook-id once the first has finished at the provider.
  const auth = stack.supabase.auth;
  const email2 = uniqueEmail("hook-timeout");
  auth.sendEmailHook = { uri: hookUrl, secrets: HOOK_SECRET, timeoutMs: 400, backoffMs: 600 };
  outbox.delayNext(700);
  const start = auth.hookCalls.length;
  try {
    const { error } = await tenantClient(stack, SEED.acme.host).auth.signInWithOtp({ email: email2 });
    assert.equal(error, null, error?.message);
  } finally {
    auth.sendEmailHook = { uri: hookUrl, secrets: HOOK_SECRET };
  }
  const attempts = auth.hookCalls.slice(start);
  assert.deepEqual(attempts.map((a) => a.status), [null, 200], JSON.stringify(attempts));
  assert.notEqual(attempts[0].id, attempts[1].id);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(outbox.messages(email2).length, 1);
});

test("a bad signature, a wrong secret, a stale or future timestamp: 401 and no email", async () => {
  const email = uniqueEmail("hook-bad");
  const p = payload(email, signedFor(SEED.acme.id, `http://${SEED.acme.host}/`));
  const now = Math.floor(Date.now() / 1000);
  const other = `v1,whsec_${crypto.randomBytes(32).toString("base64")}`;
  for (const opts of [{ secret: other }, { ts: now - 600 }, { ts: now + 600 }]) {
    const r = await callHook(p, opts);
    assert.equal(r.status, 401, JSON.stringify(opts));
    assert.equal((await r.json()).error.http_code, 401);
  }
  // A signature over another body.
  const signed = JSON.stringify(p);
  const id = "msg_x", ts = now;
  const key = Buffer.from(HOOK_SECRET.replace(/^v1,whsec_/, ""), "base64");
  const sig = `v1,${crypto.createHmac("sha256", key).update(`${id}.${ts}.${signed}`).digest("base64")}`;
  const r = await fetch(hookUrl, {
    method: "POST",
    headers: { "webhook-id": id, "webhook-timestamp": String(ts), "webhook-signature": sig },
    body: signed.replace(email, "attacker@evil.example"),
  });
  assert.equal(r.status, 401);
  const unsigned = await fetch(hookUrl, { method: "POST", body: signed });
  assert.equal(unsigned.status, 401);
  assert.deepEqual(outbox.messages(email), []);
  assert.deepEqual(outbox.messages("attacker@evil.example"), []);
});

test("the tenant comes from the signed redirect, never from user_metadata: forged redirects send nothing", async () => {
  const email = uniqueEmail("hook-forged");
  const meta = { tenant_id: SEED.globex.id, tenant_slug: "globex" };
  const forgedKey = { kid: RETURN_KEY.kid, secret: "not-the-key-not-the-key-not-the-key!" };
  for (const redirect of [
    "http://127.0.0.1:3000",
    `http://${SEED.globex.host}/`,
    returnUrl("http", RETURN_HOST, signReturn(forgedKey, SEED.globex.id, `http://${SEED.globex.host}/`, Math.floor(Date.now() / 1000) + 60)),
    signedFor(SEED.acme.id, `http://${SEED.globex.host}/`),
    signedFor(SEED.acme.id, "https://evil.example/"),
    returnUrl("http", RETURN_HOST, signReturn(RETURN_KEY, SEED.acme.id, `http://${SEED.acme.host}/`, Math.floor(Date.now() / 1000) - 1)),
  ]) {
    const r = await callHook(payload(email, redirect, meta));
    assert.equal(r.status, 422, redirect);
  }
  assert.deepEqual(outbox.messages(email), []);
});
