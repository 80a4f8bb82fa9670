// Issue 17 in a real headless Chromium (Debian's /usr/bin/chromium driven by playwright-core) against
// the local stack: the demo front end on a slug host and on a custom domain that is in no allow list.
// Magic link → the Auth stand-in's mailbox holds a link → opened in the browser (and, as another
// device, in a fresh context) → signed in on that very host; password reset; sign out; a tampered
// link ends on an error page. Every host resolves to 127.0.0.1 only; screenshots go to
// test-artifacts/browser/ (not committed).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { chromium } from "playwright-core";
import { startStack, SEED } from "../support/stack.mjs";
import { startFrontend } from "../support/frontend.mjs";
import { repoRoot } from "../support/router.mjs";
import { uniqueEmail } from "../e2e/helpers.mjs";

const CHROMIUM = process.env.CHROMIUM_BIN || "/usr/bin/chromium";
const SHOTS = path.join(repoRoot, "test-artifacts", "browser");
const STEP_MS = 15_000;
let stack, frontend, browser, port, profile;
const frontendConfig = {};

async function freePort() {
  const s = net.createServer();
  await new Promise((r) => s.listen(0, "127.0.0.1", r));
  const p = s.address().port;
  await new Promise((r) => s.close(r));
  return p;
}

before(async () => {
  assert.ok(fs.existsSync(CHROMIUM), `${CHROMIUM} is missing: bash scripts/setup.sh installs Debian's chromium`);
  fs.mkdirSync(SHOTS, { recursive: true });
  port = await freePort();
  frontend = await startFrontend(frontendConfig);
  stack = await startStack({
    seed: true,
    routerPort: port,
    routerVars: {
      FRONTEND_ORIGIN: frontend.url,
      AUTH_RETURN_HOST: `auth.localhost:${port}`,
      AUTH_RETURN_KEYS: "browser:browser-return-secret-of-at-least-32-bytes",
    },
  });
  frontendConfig.anonKey = stack.anonKey;
  stack.supabase.auth.allowList = [`http://auth.localhost:${port}/**`];
  stack.supabase.auth.confirmSignups = true;
  profile = fs.mkdtempSync(path.join(os.tmpdir(), "tenant-router-chromium-"));
  const hosts = [SEED.acme.host, SEED.globex.host, "auth.localhost"].map((h) => `http://${h}:${port}`).join(",");
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    timeout: 30_000,
    args: [
      "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
      // Every name is 127.0.0.1: nothing leaves the machine.
      "--host-resolver-rules=MAP * 127.0.0.1",
      `--unsafely-treat-insecure-origin-as-secure=${hosts}`,
    ],
  }).then((ctx) => ({ ctx, browser: ctx.browser() }));
});

after(async () => {
  await browser?.ctx.close().catch(() => {});
  await stack?.stop();
  await frontend?.close();
  if (profile) fs.rmSync(profile, { recursive: true, force: true });
});

async function shot(page, name) {
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`) });
}

async function newPage() {
  const page = await browser.ctx.newPage();
  page.setDefaultTimeout(STEP_MS);
  return page;
}

/** A fresh browser profile: another device, with nothing of the first one's storage. */
async function otherDevice() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tenant-router-chromium-"));
  const ctx = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
      "--host-resolver-rules=MAP * 127.0.0.1"],
  });
  const page = await ctx.newPage();
  page.setDefaultTimeout(STEP_MS);
  return { page, close: async () => { await ctx.close(); fs.rmSync(dir, { recursive: true, force: true }); } };
}

async function requestLink(page, host, email, button) {
  await page.goto(`http://${host}:${port}/`);
  await page.waitForFunction(() => document.getElementById("status").textContent === "Signed out");
  await page.fill("#email", email);
  await page.click(button);
  await page.waitForFunction(() => /Check your email/.test(document.getElementById("message").textContent));
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
      await device.page.waitForFunction((e) => document.getElementById("status").textContent === `Signed in as ${e}`, email);
      assert.equal(new URL(device.page.url()).host, `${host}:${port}`);
      assert.equal(new URL(device.page.url()).hash, "", "supabase-js took the session out of the URL");
      await shot(device.page, `${label}-2-signed-in-other-device`);
    } finally {
      await device.close();
    }
    // And a new link in the first browser.
    const again = await requestLink(page, host, email, "#magic-link");
    await page.goto(again.link);
    await page.waitForFunction((e) => document.getElementById("status").textContent === `Signed in as ${e}`, email);
    assert.equal(new URL(page.url()).host, `${host}:${port}`);
    const contact = `Contact ${Date.now()}`;
    await page.fill("#contact-name", contact);
    await page.click("#add-contact");
    await page.waitForFunction((c) => [...document.querySelectorAll("#contacts li")].some((li) => li.textContent === c), contact);
    assert.equal(await page.textContent("#message"), "Contact added.");
    await shot(page, `${label}-3-signed-in-contact-added`);
    await page.click("#sign-out");
    await page.waitForFunction(() => document.getElementById("status").textContent === "Signed out");
    await shot(page, `${label}-4-signed-out`);
    await page.close();
  });

  test(`${label}: a password reset link lands on ${host} ready for a new password`, { timeout: 60_000 }, async () => {
    const page = await newPage();
    const email = member ?? SEED.users.alice.email;
    const mail = await requestLink(page, host, email, "#reset");
    assert.equal(mail.type, "recovery");
    await page.goto(mail.link);
    await page.waitForFunction((e) => document.getElementById("status").textContent === `Signed in as ${e}`, email);
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
  await page.waitForFunction(() => document.getElementById("status").textContent === "Signed out");
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
    await device.page.waitForFunction((e) => document.getElementById("status").textContent === `Signed in as ${e}`, email);
    assert.equal(new URL(device.page.url()).host, `${host}:${port}`);
    await shot(device.page, "signup-2-confirmed-other-device");
  } finally {
    await device.close();
  }
  // Confirmed: the password now signs in in the first browser too.
  await page.fill("#email", email);
  await page.fill("#password", "browser-pass-1");
  await page.click("#sign-in");
  await page.waitForFunction((e) => document.getElementById("status").textContent === `Signed in as ${e}`, email);
  await page.click("#sign-out");
  await page.close();
});

test("custom domain (invite-only): sign-up is refused and no mail is sent", { timeout: 60_000 }, async () => {
  const email = uniqueEmail("closed");
  const page = await newPage();
  await page.goto(`http://${SEED.globex.host}:${port}/`);
  await page.waitForFunction(() => document.getElementById("status").textContent === "Signed out");
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
  await page.waitForFunction((e) => document.getElementById("status").textContent === `Signed in as ${e}`, email);
  await page.goto(`http://${SEED.globex.host}:${port}/`);
  await page.waitForFunction(() => document.getElementById("status").textContent === "Signed out");
  const cookies = await browser.ctx.cookies();
  assert.ok(cookies.every((c) => !c.domain.startsWith(".")), `no domain-wide cookie: ${JSON.stringify(cookies)}`);
  await shot(page, "other-tenant-signed-out");
  await page.close();
});
