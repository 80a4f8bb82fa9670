// Shared setup of the browser suites (not a test file): Debian's /usr/bin/chromium driven by
// playwright-core against the local stack — the demo front end (FRONTEND_ORIGIN) on every tenant
// host, the signed return on auth.localhost:<port>, Auth's allow list holding that one entry.
// Every host name resolves to 127.0.0.1 only; screenshots go to test-artifacts/browser/ (not committed).
//
//   const b = await startBrowserStack({ kid: "browser" });
//   b.stack, b.port, b.frontendConfig (the demo's config.js), b.returnHost, b.keys ({kid, secret}), b.origin(host), await b.device(), await b.stop()
//   const d = await b.device();  d.page, await d.newPage(), d.ctx, await d.close()   // a fresh context
//   await launchChromium(extraArgs)   // the browser alone (tests/browser/console.test.mjs)
//   await signedIn(page, email), await signedOut(page), await shot(page, name)
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { chromium } from "playwright-core";
import { startStack, SEED } from "../support/stack.mjs";
import { startFrontend } from "../support/frontend.mjs";
import { repoRoot } from "../support/router.mjs";
import { freePort } from "../support/ports.mjs";

export const CHROMIUM = process.env.CHROMIUM_BIN || "/usr/bin/chromium";
export const SHOTS = path.join(repoRoot, "test-artifacts", "browser");
export const STEP_MS = 15_000;
const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
  // Every name is 127.0.0.1: nothing leaves the machine.
  "--host-resolver-rules=MAP * 127.0.0.1"];

/** Debian's Chromium, headless, every name resolved to 127.0.0.1 (one per suite; contexts are devices). */
export function launchChromium(extraArgs = []) {
  assert.ok(fs.existsSync(CHROMIUM), `${CHROMIUM} is missing: bash scripts/setup.sh installs Debian's chromium`);
  return chromium.launch({ executablePath: CHROMIUM, headless: true, timeout: 30_000, args: [...ARGS, ...extraArgs] });
}

/** The stack with the demo front end and the signed return; `seedSql` runs before any request. */
export async function startBrowserStack({ kid = "browser", seedSql = [], extraHosts = [] } = {}) {
  assert.ok(fs.existsSync(CHROMIUM), `${CHROMIUM} is missing: bash scripts/setup.sh installs Debian's chromium`);
  fs.mkdirSync(SHOTS, { recursive: true });
  const port = await freePort();
  const frontendConfig = {};
  const frontend = await startFrontend(frontendConfig);
  const keys = { kid, secret: `${kid}-return-secret-of-at-least-32-bytes` };
  const returnHost = `auth.localhost:${port}`;
  let stack;
  try {
    stack = await startStack({
      seed: true,
      routerPort: port,
      routerVars: { FRONTEND_ORIGIN: frontend.url, AUTH_RETURN_HOST: returnHost, AUTH_RETURN_KEYS: `${keys.kid}:${keys.secret}` },
    });
    for (const [q, params] of seedSql) await stack.pg.query(q, params);
  } catch (e) {
    await stack?.stop();
    await frontend.close();
    throw e;
  }
  frontendConfig.anonKey = stack.anonKey;
  // Auth's allow list: the one fixed entry. Sign-ups need their emailed link.
  stack.supabase.auth.allowList = [`http://${returnHost}/**`];
  stack.supabase.auth.confirmSignups = true;
  const hosts = [SEED.acme.host, SEED.globex.host, SEED.globex.slugHost, "auth.localhost", ...extraHosts].map((h) => `http://${h}:${port}`).join(",");
  const devices = new Set();
  let browser;
  return {
    stack,
    port,
    frontendConfig,
    returnHost,
    keys,
    origin: (host) => `http://${host}:${port}`,
    /** A fresh browser context: a device with nothing of any other's storage or cookies. One
     * Chromium per suite, launched at the first device (a context costs far less than a launch). */
    async device() {
      browser ??= await launchChromium([`--unsafely-treat-insecure-origin-as-secure=${hosts}`]);
      const ctx = await browser.newContext();
      const newPage = async () => {
        const page = await ctx.newPage();
        page.setDefaultTimeout(STEP_MS);
        return page;
      };
      const d = {
        ctx,
        page: await newPage(),
        newPage,
        async close() {
          devices.delete(d);
          await ctx.close().catch(() => {});
        },
      };
      devices.add(d);
      return d;
    },
    async stop() {
      for (const d of [...devices]) await d.close();
      await browser?.close().catch(() => {});
      await stack.stop();
      await frontend.close();
    },
  };
}

export async function shot(page, name) {
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`) });
}

// The predicates read `?.textContent`: a wait that spans a redirect chain (OAuth, an emailed link)
// polls documents that do not have the element yet, which is "not yet", not an error.

/** The demo shows this address signed in. */
export async function signedIn(page, email) {
  await page.waitForFunction((e) => document.getElementById("status")?.textContent === `Signed in as ${e}`, email);
}

export async function signedOut(page) {
  await page.waitForFunction(() => document.getElementById("status")?.textContent === "Signed out");
}

/** Open the demo on `origin`, fill the address, press `button`, wait for the "check your email" message. */
export async function requestEmail(page, origin, email, button) {
  await page.goto(`${origin}/`);
  await signedOut(page);
  await page.fill("#email", email);
  await page.click(button);
  await page.waitForFunction(() => /Check your/.test(document.getElementById("message")?.textContent ?? ""));
}
