// Issue 17 item 3 in a real headless Chromium (Debian's /usr/bin/chromium, playwright-core): sign up
// in the demo on a custom domain that is in no allow list → Auth calls the Send Email hook on the
// admin Worker → the email API stand-in outbox holds ONE email in the tenant's name, logo and colour
// whose link is on that very host → opened in a fresh browser (another device) → signed in there.
// Every host resolves to 127.0.0.1 only; screenshots go to test-artifacts/browser/ (not committed).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { SEED } from "../support/stack.mjs";
import { linkOf } from "../support/email-standin.mjs";
import { startSendEmailHook } from "../support/send-email-hook.mjs";
import { adminBuildDir, adminBuilt } from "../admin/support.mjs";
import { uniqueEmail } from "../e2e/helpers.mjs";
import { startBrowserStack, SHOTS } from "./support.mjs";

let b, stack, hook, port;

/** A fresh browser profile: a device with nothing of any other's storage. */
const device = () => b.device();

before(async () => {
  assert.ok(adminBuilt(), "the admin Worker is not built: run `bash scripts/build-admin.sh` first");
  // Globex (crm.globex.test, in no allow list) takes sign-ups in this run.
  b = await startBrowserStack({ kid: "branded", seedSql: [["update public.tenants set signup = 'open' where id = $1", [SEED.globex.id]]] });
  ({ stack, port } = b);
  hook = await startSendEmailHook(stack, { returnHost: b.returnHost, returnKeys: `${b.keys.kid}:${b.keys.secret}`, adminBuildDir });
});

after(async () => {
  await hook?.stop();
  await b?.stop();
});

test("custom domain: sign up → one branded email from the hook, linked to that host → opened on another device → signed in there", { timeout: 90_000 }, async () => {
  const host = SEED.globex.host;
  const email = uniqueEmail("branded");
  const first = await device();
  try {
    const page = first.page;
    await page.goto(`http://${host}:${port}/`);
    await page.waitForFunction(() => document.getElementById("status").textContent === "Signed out");
    await page.fill("#email", email);
    await page.fill("#password", "browser-pass-1");
    await page.click("#sign-up");
    await page.waitForFunction(() => /Check your email to confirm/.test(document.getElementById("message").textContent));
  } finally {
    await first.close();
  }
  assert.deepEqual(stack.supabase.auth.mailbox(email), [], "mailed by the hook, not by Auth");
  const mails = hook.outbox.messages(email);
  assert.equal(mails.length, 1);
  const [m] = mails;
  assert.match(m.subject, /^Globex Realty – Confirm your sign-up$/);
  assert.ok(m.html.includes('src="https://example.com/globex.svg"') && m.html.includes("#1B5E20"), "the tenant's logo and colour");
  const link = linkOf(m);
  assert.ok(link.startsWith(`http://${host}:${port}/__router/auth/confirm?token_hash=`), link);
  const other = await device();
  try {
    // The email as its reader sees it (images off: nothing leaves the machine).
    await other.page.route("https://example.com/**", (r) => r.abort());
    await other.page.setContent(m.html);
    await other.page.screenshot({ path: path.join(SHOTS, "branded-email.png") });
    await other.page.click("a");
    await other.page.waitForFunction((e) => document.getElementById("status").textContent === `Signed in as ${e}`, email);
    assert.equal(new URL(other.page.url()).host, `${host}:${port}`);
    await other.page.screenshot({ path: path.join(SHOTS, "branded-email-signed-in.png") });
  } finally {
    await other.close();
  }
});
