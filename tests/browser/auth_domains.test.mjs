// Issue 17 in a real headless Chromium (Debian's /usr/bin/chromium driven by playwright-core) against
// the local stack: the demo front end on a slug host and on a custom domain that is in no allow list.
// Magic link → the Auth stand-in's mailbox holds a link → opened in the browser (and, as another
// device, in a fresh context) → signed in on that very host; password reset; sign out; a tampered
// link ends on an error page. Every host resolves to 127.0.0.1 only; screenshots go to
// test-artifacts/browser/ (not committed).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { SEED } from "../support/stack.mjs";
import { uniqueEmail } from "../e2e/helpers.mjs";
import { startBrowserStack, shot, requestEmail, signedIn, signedOut } from "./support.mjs";

let b, stack, port, browser;

before(async () => {
  b = await startBrowserStack({ kid: "browser" });
  ({ stack, port } = b);
  browser = await b.device();
});

after(async () => {
  await b?.stop();
});

async function newPage() {
  return browser.newPage();
}

/** A fresh browser profile: another device, with nothing of the first one's storage. */
async function otherDevice() {
  return b.device();
}

async function requestLink(page, host, email, button) {
  await requestEmail(page, b.origin(host), email, button);
  const mail = stack.supabase.auth.mailbox(email).at(-1);
  assert.ok(mail?.link, `a mail for ${email}`);
  return mail;
}

for (const [label, host, member] of [
  ["slug-host", SEED.acme.host, null],
  ["custom-domain", SEED.globex.host, SEED.users.bob.email],
]) {
  test(`${label}: a magic link signs in on ${host}, in this browser and on another device`, { timeout: 90_000 }, async () => {
    const email = member ?? uniqueEmail("browser");
    const page = await newPage();
    const mail = await requestLink(page, host, email, "#magic-link");
    await shot(page, `${label}-1-link-requested`);
    assert.match(mail.link, new RegExp(`^http://auth\\.localhost:${port}/__router/auth/return\\?rt=`));
    // Another device opens this link: the token hash needs nothing of the first browser.
    const device = await otherDevice();
    try {
      await device.page.goto(mail.link);
      await signedIn(device.page, email);
      assert.equal(new URL(device.page.url()).host, `${host}:${port}`);
      assert.equal(new URL(device.page.url()).hash, "", "supabase-js took the session out of the URL");
      await shot(device.page, `${label}-2-signed-in-other-device`);
    } finally {
      await device.close();
    }
    // And a new link in the first browser.
    const again = await requestLink(page, host, email, "#magic-link");
    await page.goto(again.link);
    await signedIn(page, email);
    assert.equal(new URL(page.url()).host, `${host}:${port}`);
    const contact = `Contact ${Date.now()}`;
    await page.fill("#contact-name", contact);
    await page.click("#add-contact");
    await page.waitForFunction((c) => [...document.querySelectorAll("#contacts li")].some((li) => li.textContent === c), contact);
    assert.equal(await page.textContent("#message"), "Contact added.");
    await shot(page, `${label}-3-signed-in-contact-added`);
    await page.click("#sign-out");
    await signedOut(page);
    await shot(page, `${label}-4-signed-out`);
    await page.close();
  });

  test(`${label}: a password reset link lands on ${host} ready for a new password`, { timeout: 60_000 }, async () => {
    const page = await newPage();
    const email = member ?? SEED.users.alice.email;
    const mail = await requestLink(page, host, email, "#reset");
    assert.equal(mail.type, "recovery");
    await page.goto(mail.link);
    await signedIn(page, email);
    assert.equal(await page.isVisible("#new-password"), true);
    await shot(page, `${label}-5-reset`);
    await page.click("#sign-out");
    await page.close();
  });
}

test("slug host: sign up → the mailbox holds a confirmation link → opened on another device → signed in there", { timeout: 60_000 }, async () => {
  const host = SEED.acme.host;
  const email = uniqueEmail("signup");
  const page = await newPage();
  await page.goto(`http://${host}:${port}/`);
  await signedOut(page);
  await page.fill("#email", email);
  await page.fill("#password", "browser-pass-1");
  await page.click("#sign-up");
  await page.waitForFunction(() => /Check your email to confirm/.test(document.getElementById("message").textContent));
  await shot(page, "signup-1-check-email");
  const mail = stack.supabase.auth.mailbox(email).at(-1);
  assert.equal(mail.type, "signup");
  const device = await otherDevice();
  try {
    await device.page.goto(mail.link);
    await signedIn(device.page, email);
    assert.equal(new URL(device.page.url()).host, `${host}:${port}`);
    await shot(device.page, "signup-2-confirmed-other-device");
  } finally {
    await device.close();
  }
  // Confirmed: the password now signs in in the first browser too.
  await page.fill("#email", email);
  await page.fill("#password", "browser-pass-1");
  await page.click("#sign-in");
  await signedIn(page, email);
  await page.click("#sign-out");
  await page.close();
});

test("custom domain (invite-only): sign-up is refused and no mail is sent", { timeout: 60_000 }, async () => {
  const email = uniqueEmail("closed");
  const page = await newPage();
  await page.goto(`http://${SEED.globex.host}:${port}/`);
  await signedOut(page);
  await page.fill("#email", email);
  await page.fill("#password", "browser-pass-1");
  await page.click("#sign-up");
  await page.waitForFunction(() => document.getElementById("message").className === "error");
  assert.match(await page.textContent("#message"), /Sign-up is closed/);
  assert.deepEqual(stack.supabase.auth.mailbox(email), []);
  await shot(page, "custom-domain-signup-closed");
  await page.close();
});

test("a tampered link ends on an error page on the return host, never a redirect", { timeout: 60_000 }, async () => {
  const page = await newPage();
  const email = uniqueEmail("tamper");
  const mail = await requestLink(page, SEED.acme.host, email, "#magic-link");
  const tampered = mail.link.replace(/rt=v1\.browser\.[0-9a-f-]+/, `rt=v1.browser.${SEED.globex.id}`);
  const res = await page.goto(tampered);
  assert.equal(res.status(), 400);
  assert.equal(new URL(page.url()).host, `auth.localhost:${port}`);
  assert.match(await page.content(), /invalid_return/);
  await shot(page, "tampered-error-page");
  await page.close();
});

test("a session on one tenant's host is not there on another's", { timeout: 60_000 }, async () => {
  const page = await newPage();
  const email = SEED.users.carol.email; // a member of both tenants
  const mail = await requestLink(page, SEED.acme.host, email, "#magic-link");
  await page.goto(mail.link);
  await signedIn(page, email);
  await page.goto(`http://${SEED.globex.host}:${port}/`);
  await signedOut(page);
  const cookies = await browser.ctx.cookies();
  assert.ok(cookies.every((c) => !c.domain.startsWith(".")), `no domain-wide cookie: ${JSON.stringify(cookies)}`);
  await shot(page, "other-tenant-signed-out");
  await page.close();
});
