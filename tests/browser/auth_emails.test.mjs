// Issue 17 items 1–3 in a real headless Chromium, every email through Supabase Auth's Send Email hook
// on the admin Worker (branded, linked to the tenant's own host), on a slug host and on a custom
// domain that is in no allow list: sign-up confirmation, magic link, password recovery, an invitation
// accepted, an email change. Each: the email API stand-in outbox holds ONE email in the tenant's name, logo and colour
// whose link is on that host; opening it ends signed in (or changed) on that host. And the refusals a
// browser meets: an expired return, a target on another tenant's host, a foreign origin, a hook
// call with a bad signature — an error page without a redirect, or no email.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { SEED } from "../support/stack.mjs";
import { linkOf } from "../support/email-standin.mjs";
import { startSendEmailHook } from "../support/send-email-hook.mjs";
import { signReturn, returnUrl } from "../support/signed-return.mjs";
import { adminBuildDir, adminBuilt } from "../admin/support.mjs";
import { uniqueEmail } from "../e2e/helpers.mjs";
import { startBrowserStack, shot, signedIn, signedOut, requestEmail } from "./support.mjs";

let b, stack, hook;

const TENANTS = [
  { label: "slug-host", host: SEED.acme.host, id: SEED.acme.id, name: "Acme Clinic", logo: "https://example.com/acme.svg", colour: "#004AAD", member: SEED.users.alice.email },
  { label: "custom-domain", host: SEED.globex.host, id: SEED.globex.id, name: "Globex Realty", logo: "https://example.com/globex.svg", colour: "#1B5E20", member: SEED.users.bob.email },
];

before(async () => {
  assert.ok(adminBuilt(), "the admin Worker is not built: run `bash scripts/build-admin.sh` first");
  // Globex (crm.globex.test, in no allow list) takes sign-ups in this run.
  b = await startBrowserStack({ kid: "emails", seedSql: [["update public.tenants set signup = 'open' where id = $1", [SEED.globex.id]]] });
  stack = b.stack;
  hook = await startSendEmailHook(stack, { returnHost: b.returnHost, returnKeys: `${b.keys.kid}:${b.keys.secret}`, adminBuildDir });
  // One email per change, to the new address (GoTrue with MAILER_SECURE_EMAIL_CHANGE_ENABLED off).
  stack.supabase.auth.secureEmailChange = false;
});

after(async () => {
  await hook?.stop();
  await b?.stop();
});

/** The one email `act` makes the hook send to `to`: branded for `t`, linked to the confirm route on t's host. */
async function oneBrandedEmail(t, to, subject, act) {
  const before = hook.outbox.messages().length;
  await act();
  const all = hook.outbox.messages();
  const mine = all.slice(before);
  assert.equal(mine.length, 1, `one email, got ${JSON.stringify(mine.map((m) => [m.to, m.subject]))}`);
  const [m] = mine;
  assert.equal(m.to, to.toLowerCase());
  assert.equal(m.subject, `${t.name} – ${subject}`);
  assert.ok(m.html.includes(`src="${t.logo}"`) && m.html.includes(t.colour), "the tenant's logo and colour");
  const link = linkOf(m);
  assert.ok(link.startsWith(`${b.origin(t.host)}/__router/auth/confirm?token_hash=`), link);
  assert.deepEqual(stack.supabase.auth.mailbox(to), [], "mailed by the hook, not by Auth");
  return link;
}

/** Open a link and wait for the demo to show `email` signed in, on t's host. */
async function openSignedIn(page, t, link, email) {
  await page.goto(link);
  await signedIn(page, email).catch(async (e) => {
    throw new Error(`${e.message}: at ${page.url()}, "${await page.textContent("body").catch(() => "")}"`.replace(/\s+/g, " ").slice(0, 600));
  });
  assert.equal(new URL(page.url()).host, `${t.host}:${b.port}`);
  assert.equal(new URL(page.url()).hash, "", "supabase-js took the session out of the URL");
}

/** Press `button` and wait for the demo's message: `text`, or fail with the error it shows instead. */
async function pressFor(page, button, text) {
  await page.evaluate(() => { document.getElementById("message").textContent = ""; });
  await page.click(button);
  await page.waitForFunction(() => document.getElementById("message").textContent !== "");
  const got = await page.textContent("#message");
  assert.ok(text instanceof RegExp ? text.test(got) : got === text, `${button}: ${got}`);
}

/** The platform's invitation, and Auth's invite with the invitee's return signed, as the admin's
 * invite step sends it (admin/src/steps.rs, straight to Auth with the service key). */
async function inviteThroughAuth(t, email, role) {
  await stack.pg.query("insert into public.tenant_invitations (tenant_id, email, role) values ($1, $2, $3)", [t.id, email, role]);
  const redirect = returnUrl("http", b.returnHost, signReturn(b.keys, t.id, `${b.origin(t.host)}/`, Math.floor(Date.now() / 1000) + 3600));
  const r = await fetch(`${stack.supabase.url}/auth/v1/invite?redirect_to=${encodeURIComponent(redirect)}`, {
    method: "POST",
    headers: { apikey: stack.serviceKey, authorization: `Bearer ${stack.serviceKey}`, "content-type": "application/json" },
    body: JSON.stringify({ email }),
  });
  assert.equal(r.status, 200, await r.text());
}

async function membership(tenant, email) {
  const r = await stack.pg.query(
    "select m.role from public.tenant_members m join auth.users u on u.id = m.user_id where m.tenant_id = $1 and lower(u.email) = $2",
    [tenant, email.toLowerCase()],
  );
  return r.rows.map((x) => x.role);
}

test("custom domain: sign up → one branded email from the hook, linked to that host → opened on another device → signed in there", { timeout: 60_000 }, async () => {
  const t = TENANTS[1];
  const email = uniqueEmail("branded");
  const first = await b.device();
  const other = await b.device();
  try {
    await oneBrandedEmail(t, email, "Confirm your sign-up", async () => {
      const page = first.page;
      await page.goto(`${b.origin(t.host)}/`);
      await signedOut(page);
      await page.fill("#email", email);
      await page.fill("#password", "browser-pass-1");
      await pressFor(page, "#sign-up", /^Check your email to confirm/);
    });
    // The email as its reader sees it (images off: nothing leaves the machine), then its link.
    const [m] = hook.outbox.messages(email);
    await other.page.route("https://example.com/**", (r) => r.abort());
    await other.page.setContent(m.html);
    await shot(other.page, "branded-email");
    await other.page.click("a");
    await signedIn(other.page, email);
    assert.equal(new URL(other.page.url()).host, `${t.host}:${b.port}`);
    await shot(other.page, "branded-email-signed-in");
  } finally {
    await Promise.all([first.close(), other.close()]);
  }
});

for (const t of TENANTS) {
  test(`${t.label}: a branded magic link from the hook, opened on another device, signs in on ${t.host}`, { timeout: 60_000 }, async () => {
    const first = await b.device();
    const other = await b.device();
    try {
      const link = await oneBrandedEmail(t, t.member, "Your sign-in link", () => requestEmail(first.page, b.origin(t.host), t.member, "#magic-link"));
      await openSignedIn(other.page, t, link, t.member);
      await shot(other.page, `emails-${t.label}-magic-link-other-device`);
    } finally {
      await Promise.all([first.close(), other.close()]);
    }
  });

  test(`${t.label}: a branded recovery email lands on ${t.host} ready for a new password, which then signs in`, { timeout: 60_000 }, async () => {
    const d = await b.device();
    try {
      const page = d.page;
      const link = await oneBrandedEmail(t, t.member, "Reset your password", () => requestEmail(page, b.origin(t.host), t.member, "#reset"));
      await openSignedIn(page, t, link, t.member);
      assert.equal(await page.isVisible("#new-password"), true);
      const fresh = `new-pass-${Date.now()}`;
      await page.fill("#new-password", fresh);
      await pressFor(page, "#set-password", "Password set.");
      await shot(page, `emails-${t.label}-recovery-password-set`);
      await page.click("#sign-out");
      await signedOut(page);
      await page.fill("#email", t.member);
      await page.fill("#password", fresh);
      await page.click("#sign-in");
      await signedIn(page, t.member);
    } finally {
      await d.close();
    }
  });

  test(`${t.label}: an invitation (Auth's invite with the signed return) is accepted on ${t.host}`, { timeout: 60_000 }, async () => {
    const invitee = uniqueEmail(`invitee-${t.label}`);
    const link = await oneBrandedEmail(t, invitee, "You have been invited", () => inviteThroughAuth(t, invitee, "admin"));
    const d = await b.device();
    try {
      await openSignedIn(d.page, t, link, invitee);
      assert.deepEqual(await membership(t.id, invitee), [], "signed in, not yet a member");
      assert.equal(await d.page.textContent("#membership"), `Not a member of ${t.name} yet.`);
      await pressFor(d.page, "#accept-invitation", "Invitation accepted.");
      assert.deepEqual(await membership(t.id, invitee), ["admin"]);
      await shot(d.page, `emails-${t.label}-invitation-accepted`);
    } finally {
      await d.close();
    }
  });

  test(`${t.label}: an email change is confirmed from the new address's branded email on ${t.host}`, { timeout: 60_000 }, async () => {
    // A user of that tenant, signed in through an emailed link.
    const invitee = uniqueEmail(`changer-${t.label}`);
    await inviteThroughAuth(t, invitee, "member");
    const d = await b.device();
    try {
      const page = d.page;
      await openSignedIn(page, t, linkOf(hook.outbox.messages(invitee).at(-1)), invitee);
      await pressFor(page, "#accept-invitation", "Invitation accepted.");
      const changed = uniqueEmail(`changed-${t.label}`);
      const link = await oneBrandedEmail(t, changed, "Confirm your new email", async () => {
        await page.fill("#new-email", changed);
        await pressFor(page, "#change-email", /^Check your new address/);
      });
      const before = await stack.pg.query("select email from auth.users where lower(email) = $1", [invitee]);
      assert.equal(before.rowCount, 1, "not changed before the link is opened");
      await openSignedIn(page, t, link, changed);
      const after = await stack.pg.query("select email, email_change from auth.users where lower(email) = $1", [changed]);
      assert.deepEqual(after.rows, [{ email: changed, email_change: "" }]);
      await shot(page, `emails-${t.label}-email-changed`);
    } finally {
      await d.close();
    }
  });
}

const nowS = () => Math.floor(Date.now() / 1000);

for (const [what, token] of [
  ["an expired return", () => signReturn(b.keys, SEED.acme.id, `${b.origin(SEED.acme.host)}/`, nowS() - 60)],
  ["a target on another tenant's host", () => signReturn(b.keys, SEED.acme.id, `${b.origin(SEED.globex.host)}/`, nowS() + 3600)],
  ["a foreign origin", () => signReturn(b.keys, SEED.acme.id, `http://evil.example:${b.port}/`, nowS() + 3600)],
]) {
  test(`${what} ends on an error page on the return host, never a redirect`, { timeout: 30_000 }, async () => {
    const d = await b.device();
    try {
      const navigations = [];
      d.page.on("request", (r) => r.isNavigationRequest() && navigations.push(r.url()));
      const res = await d.page.goto(`${returnUrl("http", b.returnHost, token())}&token_hash=abc&type=magiclink`);
      assert.equal(res.status(), 400);
      assert.equal(res.headers().location, undefined);
      assert.equal(res.request().redirectedFrom(), null);
      assert.equal(new URL(d.page.url()).host, b.returnHost);
      assert.equal(navigations.length, 1, navigations.join(" → "));
      assert.match(await d.page.content(), /invalid_return/);
      await shot(d.page, `emails-refused-${what.replace(/\W+/g, "-")}`);
    } finally {
      await d.close();
    }
  });
}

test("a hook call with a bad signature sends no email: the demo shows Auth's error", { timeout: 30_000 }, async () => {
  const configured = stack.supabase.auth.sendEmailHook;
  const wrong = `v1,whsec_${Buffer.from("not-the-hook-secret-of-this-admin!").toString("base64")}`;
  stack.supabase.auth.sendEmailHook = { ...configured, secrets: wrong, attempts: 1 };
  const d = await b.device();
  try {
    const before = hook.outbox.requests;
    const calls = stack.supabase.auth.hookCalls.length;
    await d.page.goto(`${b.origin(SEED.acme.host)}/`);
    await signedOut(d.page);
    await d.page.fill("#email", SEED.users.alice.email);
    await d.page.click("#magic-link");
    await d.page.waitForFunction(() => document.getElementById("message").className === "error");
    assert.match(await d.page.textContent("#message"), /send email hook/);
    assert.deepEqual(stack.supabase.auth.hookCalls.slice(calls).map((c) => c.status), [401], "the admin refused the call");
    assert.equal(hook.outbox.requests, before, "nothing reached the email API");
    await shot(d.page, "emails-refused-bad-hook-signature");
  } finally {
    stack.supabase.auth.sendEmailHook = configured;
    await d.close();
  }
});
