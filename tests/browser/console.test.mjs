// Issue 18 in a real headless Chromium (Debian's /usr/bin/chromium driven by playwright-core) against
// the admin Worker in workerd beside the local stack (tests/admin/support.mjs): the operator console
// on the admin host. A platform admin signs in with a password and a TOTP second factor (enrolled in
// the page; codes computed as an authenticator app does), creates a company through the form and
// watches every step of the journal complete, sees it in the list, opens it, sees the DNS records and
// the certificate waiting on DNS, suspends it (the tenant's host answers 403 through a short-TTL
// router), resumes, deletes and purges it with typed confirmations; a failed step is shown with its
// rollback; a user who is no operator is refused with the API's own answer; an admin without the
// second factor is asked for it. The chart drawing is checked on a fixed point list. Every host is
// 127.0.0.1; screenshots (desktop and 360 px) go to test-artifacts/console/ (not committed).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import crypto from "node:crypto";
import { startAdminStack, ADMIN_HOST } from "../admin/support.mjs";
import { launchChromium } from "./support.mjs";
import { SEED } from "../support/stack.mjs";
import { startRouter, repoRoot } from "../support/router.mjs";
import { totpCode } from "../support/auth-standin.mjs";
import { sampledRow } from "../support/analytics-standin.mjs";
import { lineChart, linePoints, trafficCharts } from "../../admin/console/chart.mjs";

const SHOTS = path.join(repoRoot, "test-artifacts", "console");
const STEP_MS = 20_000;
// The short-TTL router's directory bounds (seconds), as tests/admin/lifecycle.test.mjs uses.
const TTL_S = 1;
const STALE_S = 1;
const CERT_DELAY_MS = 2500;
const DESKTOP = { width: 1280, height: 860 };
const PHONE = { width: 360, height: 740 };
const ACME_NAME = "Acme Clinic"; // sql/seed.sql

let s, quick, browser, base;
let totpSecret = null; // carol's, once enrolled through the page

before(async () => {
  fs.mkdirSync(SHOTS, { recursive: true });
  // Cloudflare takes its time with the certificate, as it waits on the customer's DNS: the page shows
  // the wait, then "check again" shows it move.
  // Analytics on (the AE SQL API test stand-in): the charts are drawn from its sampled rows.
  s = await startAdminStack({ analytics: true, cloudflare: { validationDelayMs: CERT_DELAY_MS } });
  quick = await startRouter({ ...s.stack.routerVars, DIRECTORY_TTL_S: String(TTL_S), DIRECTORY_STALE_S: String(STALE_S) });
  base = `http://${ADMIN_HOST}:${s.admin.port}`;
  browser = await launchChromium();
});

after(async () => {
  await browser?.close().catch(() => {});
  await quick?.dispose();
  await s?.stop();
});

/** A fresh browser context (its own storage: a new sign-in) and a page in it. */
async function freshPage() {
  const ctx = await browser.newContext({ viewport: DESKTOP });
  const page = await ctx.newPage();
  page.setDefaultTimeout(STEP_MS);
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
  return { page, ctx, errors };
}

/** The page at desktop width and at 360 px. */
async function shots(page, name) {
  await page.setViewportSize(DESKTOP);
  await page.screenshot({ path: path.join(SHOTS, `${name}-desktop.png`), fullPage: true });
  await page.setViewportSize(PHONE);
  // Nothing wider than the phone's screen but what scrolls inside its own box (tables).
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 1, `${name}: the page is ${overflow}px wider than 360 px`);
  await page.screenshot({ path: path.join(SHOTS, `${name}-360.png`), fullPage: true });
  await page.setViewportSize(DESKTOP);
}

async function signIn(page, email) {
  await page.goto(`${base}/`);
  await page.waitForSelector("#signin");
  await page.fill("#signin-email", email);
  await page.fill("#signin-password", SEED.password);
  await page.click("#signin-submit");
}

/** Carol (platform admin) signed in to aal2: enrolling the factor the first time, else the challenge. */
async function adminPage() {
  const p = await freshPage();
  await signIn(p.page, SEED.users.carol.email);
  if (!totpSecret) {
    await p.page.waitForSelector("#mfa-secret");
    totpSecret = (await p.page.textContent("#mfa-secret")).trim();
  } else {
    await p.page.waitForSelector("#mfa-challenge");
  }
  await p.page.fill("#mfa-code", totpCode(totpSecret));
  await p.page.click("#mfa-submit");
  await p.page.waitForSelector("#companies table, #companies-empty");
  return p;
}

/** The anonymous answer of the tenant's host through the short-TTL router. */
function viaRouter(slug) {
  return quick.request(`${slug}.localhost`, "/rest/v1/contacts?select=id", { headers: { apikey: s.stack.anonKey } });
}

/** The router's own refusal of a suspended tenant (an active one is passed on to the project). */
function suspendedAnswer(r) {
  try {
    return r.status === 403 && r.json().code === "tenant_suspended";
  } catch {
    return false;
  }
}
const passedOn = (r) => !suspendedAnswer(r) && r.status !== 404 && r.status < 500;

async function untilRouter(slug, done, what) {
  const end = Date.now() + (TTL_S + STALE_S) * 1000 + 3000;
  for (;;) {
    const r = await viaRouter(slug);
    if (done(r)) return r;
    if (Date.now() > end) throw new Error(`${what}: last ${r.status} ${r.body}`);
    await new Promise((res) => setTimeout(res, 100));
  }
}

const started = Date.now();

test("charts: a fixed point list becomes polylines scaled to the highest value; metrics off draws nothing", () => {
  const points = [
    { t: "2026-12-01T10:00:00Z", requests: 10, error_rate: 0, p95_ms: 20 },
    { t: "2026-12-01T11:00:00Z", requests: 40, error_rate: 0.5, p95_ms: 80 },
    { t: "2026-12-01T12:00:00Z", requests: 20, error_rate: 0.25, p95_ms: null },
  ];
  // Plot area: x 36..294, y 8..102 (viewBox 300 x 120).
  assert.equal(linePoints([10, 40, 20], 40), "36.0,78.5 165.0,8.0 294.0,55.0");
  assert.equal(linePoints([null, 5], 5), "294.0,8.0", "a missing value is skipped");
  const svg = lineChart(points, { field: "requests", title: "Requests" });
  assert.match(svg, /<svg class="chart"[^>]*role="img"[^>]*aria-label="Requests: 3 points, highest 40"/);
  assert.match(svg, /points="36\.0,78\.5 165\.0,8\.0 294\.0,55\.0"/);
  assert.match(svg, />10:00</);
  assert.match(svg, />12:00</);
  assert.match(lineChart(points, { field: "p95_ms", title: "P95" }), /points="36\.0,78\.5 165\.0,8\.0"/);
  assert.match(lineChart([], { field: "requests", title: "Requests" }), /No requests in this range/);
  assert.ok(!lineChart([{ t: "<x>", requests: 1 }], { field: "requests", title: "<b>" }).includes("<b>"), "text is escaped");
  assert.equal(trafficCharts({ enabled: false }), null);
  const charts = trafficCharts({ enabled: true, points, totals: {} });
  assert.deepEqual(charts.map((c) => c.title), ["Requests per step", "Error rate (5xx)", "Latency p95 (ms)"]);
  assert.match(charts[1].html, /highest 50\.0%/);
});

test("a user who is no platform administrator is refused with the admin API's answer", { timeout: 60_000 }, async () => {
  const { page, ctx } = await freshPage();
  // By keyboard alone: the form focuses the email field; Tab, then Enter submits.
  await page.goto(`${base}/`);
  await page.waitForSelector("#signin");
  assert.equal(await page.evaluate(() => document.activeElement.id), "signin-email");
  await page.keyboard.type(SEED.users.alice.email);
  await page.keyboard.press("Tab");
  assert.equal(await page.evaluate(() => document.activeElement.id), "signin-password");
  await page.keyboard.type(SEED.password);
  await page.keyboard.press("Enter");
  await page.waitForSelector("#refused");
  const text = await page.textContent("#refused");
  assert.match(text, /Not an operator/);
  assert.match(text, /403/);
  assert.match(text, /not a platform administrator/);
  assert.equal(await page.isVisible("#nav"), false, "no navigation to the pages");
  await shots(page, "01-refused-non-admin");
  await ctx.close();
});

test("an admin signed in with a password only (aal1) is asked for the second factor first", { timeout: 60_000 }, async () => {
  const { page, ctx } = await freshPage();
  await signIn(page, SEED.users.carol.email);
  await page.waitForSelector("#mfa-enroll, #mfa-challenge");
  assert.equal(await page.isVisible("#nav"), false);
  await shots(page, "02-second-factor");
  // A wrong code is refused with Auth's message; the right one (enrolled here) lets the admin in.
  if (!totpSecret) {
    await page.waitForSelector("#mfa-secret");
    totpSecret = (await page.textContent("#mfa-secret")).trim();
  }
  const wrong = totpCode(totpSecret, Date.now() - 600_000);
  await page.fill("#mfa-code", wrong === totpCode(totpSecret) ? "000000" : wrong);
  await page.click("#mfa-submit");
  await page.waitForSelector(".alert");
  assert.match(await page.textContent(".alert"), /Invalid TOTP code/);
  await page.fill("#mfa-code", totpCode(totpSecret));
  await page.click("#mfa-submit");
  await page.waitForSelector("#companies table");
  assert.equal(await page.isVisible("#nav"), true);
  // The session is aal2 now: the page's own token is one the admin API accepts.
  const token = await page.evaluate(() => JSON.parse(localStorage.getItem("operator-console-auth")).access_token);
  assert.equal(JSON.parse(Buffer.from(token.split(".")[1], "base64url")).aal, "aal2");
  await ctx.close();
});

test("create a company through the form, follow it to the list and its page, suspend, resume, delete, purge", { timeout: 180_000 }, async () => {
  const { page, ctx, errors } = await adminPage();
  assert.ok(await page.isVisible(`tr[data-slug="${SEED.acme.slug}"]`), "the seeded company is listed");
  // Analytics is on and nothing has been recorded yet: the busiest panel says so.
  await page.waitForFunction(() => /No traffic in the last hour/.test(document.body.textContent));
  await shots(page, "03-companies");
  const hex = crypto.randomBytes(3).toString("hex");
  const name = `Browser Clinic ${hex}`;
  const slug = `browser-clinic-${hex}`;
  const domain = `crm.${hex}.localtest`;
  const email = `owner-${hex}@clinic.localtest`;

  await page.click('#nav a[href="#/new"]');
  await page.waitForSelector("#new-company");
  await page.waitForSelector('#company-plan option[value="pro"]', { state: "attached" });
  await shots(page, "04-new-company-empty");
  await page.fill("#company-name", name);
  // The slug is the API's suggestion for the name (crates/shared's rules), as typed.
  await page.waitForFunction((x) => document.getElementById("company-slug").value === x, slug);
  await page.waitForFunction(() => /Host: /.test(document.getElementById("slug-note").textContent));
  assert.match(await page.textContent("#slug-note"), new RegExp(`${slug}\\.localhost`));
  await page.selectOption("#company-plan", "pro");
  await page.fill("#company-admin-email", email);
  await page.fill("#company-domain", domain);
  await page.click("#create-company");
  await page.waitForSelector("#succeeded");
  const steps = await page.$$eval("#steps li", (lis) => lis.map((li) => [li.dataset.step, li.dataset.status]));
  assert.deepEqual(steps, [["create_tenant", "done"], ["custom_hostname", "done"], ["invite_admin", "done"]]);
  // The DNS records the customer must set, copyable, and a certificate that waits on them.
  await page.waitForSelector(`#dns [data-hostname="${domain}"]`);
  const dns = await page.textContent("#dns");
  assert.match(dns, new RegExp(`CNAME\\s*${domain.replace(/\./g, "\\.")}\\s*fallback\\.localhost`));
  assert.match(dns, /Waiting on the customer's DNS/);
  assert.ok((await page.$$("#dns button")).length >= 2, "copy buttons");
  await shots(page, "05-new-company-done");

  // In the list, found by searching its name.
  await page.click('#nav a[href="#/"]');
  await page.waitForSelector("#search");
  await page.fill("#search", name);
  await page.press("#search", "Enter");
  await page.waitForSelector(`tr[data-slug="${slug}"]`);
  const row = await page.textContent(`tr[data-slug="${slug}"]`);
  assert.match(row, /Pro/);
  assert.match(row, /0 \/ 50/, "users against the plan's limit");
  assert.match(row, /0 \/ 10000/, "contacts against the plan's limit");
  assert.match(row, new RegExp(domain.replace(/\./g, "\\.")));
  await page.fill("#search", "no company is called this");
  await page.press("#search", "Enter");
  await page.waitForSelector("#companies-empty");
  await page.fill("#search", name);
  await page.press("#search", "Enter");
  await page.click(`tr[data-slug="${slug}"] a`);

  // Its page: profile, members and the pending invitation, domain, traffic (none yet), trail.
  await page.waitForSelector("#company-title");
  await page.waitForSelector("#invitations table");
  assert.match(await page.textContent("#invitations"), new RegExp(email.replace(/\./g, "\\.")));
  await page.waitForFunction(() => /Last 24 h: 0 requests/.test(document.getElementById("metrics-totals")?.textContent ?? ""));
  await page.waitForSelector("#audit-list");
  assert.ok(await page.isVisible("#theme-preview"));
  assert.match(await page.textContent("#domains"), /Waiting on the customer's DNS/);
  await shots(page, "06-company");
  // "Check again" refreshes from Cloudflare until the certificate is active (the stand-in validates
  // through the router once its delay has passed).
  const end = Date.now() + CERT_DELAY_MS * 6 + 5000;
  while (!/The certificate is active/.test(await page.textContent("#domains"))) {
    assert.ok(Date.now() < end, `the certificate never went active: ${await page.textContent("#domains")}`);
    await page.waitForTimeout(500);
    await page.click("#check-again");
    await page.waitForSelector("#check-again:not([disabled])");
  }
  await shots(page, "06b-company-certificate-active");

  // Suspend: the tenant's host answers 403 through the router within its directory bounds.
  await untilRouter(slug, passedOn, "served before the suspension");
  await page.click("#suspend");
  await page.waitForSelector("#resume");
  assert.match(await page.textContent("#company-title"), /suspended/);
  const refused = await untilRouter(slug, suspendedAnswer, "403 after the suspension");
  assert.equal(refused.status, 403);
  await shots(page, "07-company-suspended");
  await page.click("#resume");
  await page.waitForSelector("#suspend");
  await untilRouter(slug, passedOn, "served again after the resume");

  // Delete, then purge: each confirmed by typing the slug (the button stays off until it matches).
  assert.equal(await page.isDisabled("#delete-form-submit"), true);
  await page.fill("#delete-form-confirm", slug.slice(0, -1));
  assert.equal(await page.isDisabled("#delete-form-submit"), true);
  await page.fill("#delete-form-confirm", slug);
  await page.click("#delete-form-submit");
  await page.waitForSelector("#purge-form");
  assert.match(await page.textContent("#company-title"), /deleted/);
  await page.waitForSelector('#audit-list li[data-event="deleted"]');
  const events = await page.$$eval("#audit-list li", (lis) => lis.map((li) => li.dataset.event));
  assert.deepEqual(events.slice(0, 4), ["deleted", "purge_scheduled", "resumed", "suspended"]);
  await shots(page, "08-company-deleted");
  await page.fill("#purge-form-confirm", slug);
  await page.click("#purge-form-submit");
  await page.waitForSelector("#company-gone");
  const { rows } = await s.stack.pg.query("select count(*)::int as n from public.tenants where slug = $1", [slug]);
  assert.equal(rows[0].n, 0, "purged");
  await shots(page, "09-company-purged");
  assert.deepEqual(errors.filter((e) => !/404|Failed to load resource/.test(e)), [], "no script errors");
  await ctx.close();
});

test("a failed provisioning step is shown with what was rolled back", { timeout: 90_000 }, async () => {
  const { page, ctx } = await adminPage();
  const hex = crypto.randomBytes(3).toString("hex");
  // Cloudflare refuses the custom hostname (fault injection on the admin's outbound requests).
  s.faults.push({
    match: (u, method) => method === "POST" && u.pathname.endsWith("/custom_hostnames"),
    times: 1,
    respond: () => new Response(JSON.stringify({ success: false, errors: [{ code: 1411, message: "injected: this hostname is not allowed" }], messages: [], result: null }), { status: 400, headers: { "content-type": "application/json" } }),
  });
  await page.click('#nav a[href="#/new"]');
  await page.waitForSelector('#company-plan option[value="free"]', { state: "attached" });
  await page.fill("#company-name", `Doomed ${hex}`);
  await page.waitForFunction((x) => document.getElementById("company-slug").value === x, `doomed-${hex}`);
  await page.selectOption("#company-plan", "free");
  await page.fill("#company-admin-email", `d-${hex}@doomed.localtest`);
  await page.fill("#company-domain", `crm.doomed-${hex}.localtest`);
  await page.click("#create-company");
  await page.waitForSelector("#failed");
  const text = await page.textContent("#failed");
  assert.match(text, /Failed at: Domain/);
  assert.match(text, /injected: this hostname is not allowed/);
  assert.match(await page.textContent("#rolled-back"), /Rolled back: Database/);
  const steps = await page.$$eval("#steps li", (lis) => lis.map((li) => [li.dataset.step, li.dataset.status]));
  assert.deepEqual(steps.slice(0, 2), [["create_tenant", "compensated"], ["custom_hostname", "compensated"]]);
  assert.match(await page.textContent('#steps li[data-step="custom_hostname"]'), /injected/);
  const { rows } = await s.stack.pg.query("select count(*)::int as n from public.tenants where slug = $1", [`doomed-${hex}`]);
  assert.equal(rows[0].n, 0, "nothing of the company is left");
  await shots(page, "10-new-company-failed");
  // An API refusal is shown with its PostgREST message: the slug of a company that exists.
  await page.fill("#company-slug", SEED.acme.slug);
  await page.waitForFunction(() => /is taken/.test(document.getElementById("slug-note").textContent));
  await page.click("#create-company");
  await page.waitForFunction(() => /This slug is taken/.test(document.querySelector("#new-company .alert")?.textContent ?? ""));
  await ctx.close();
});

test("a metrics answer of {\"enabled\": false} reads as metrics off on a company's page", { timeout: 60_000 }, async () => {
  const { page, ctx } = await adminPage();
  // The metrics route's answer without analytics configuration (this stack has it configured).
  await page.route("**/admin/v1/tenants/*/metrics?*", (route) => route.fulfill({ status: 200, contentType: "application/json", body: JSON.stringify({ enabled: false }) }));
  await page.goto(`${base}/#/c/${SEED.acme.id}`);
  await page.waitForSelector("#metrics-off");
  assert.match(await page.textContent("#traffic"), /Metrics are off/);
  assert.equal(await page.$$eval("#traffic svg", (x) => x.length), 0);
  await shots(page, "11-company-seeded");
  await ctx.close();
});

test("a company's traffic is drawn from Analytics Engine's sampled rows, weighted by _sample_interval", { timeout: 60_000 }, async () => {
  // Rows in the last hour with sample intervals above 1: the page must show the weighted count.
  const now = Date.now();
  const rows = [
    sampledRow(SEED.acme.id, now - 50 * 60_000, 200, 12, 7),
    sampledRow(SEED.acme.id, now - 30 * 60_000, 200, 30, 5),
    sampledRow(SEED.acme.id, now - 20 * 60_000, 503, 90, 3),
    sampledRow(SEED.acme.id, now - 5 * 60_000, 404, 8, 11),
  ];
  const weighted = rows.reduce((n, r) => n + r.sampleInterval, 0); // 26, not the 4 rows
  await s.analytics.insert(rows);
  try {
    const { page, ctx, errors } = await adminPage();
    await page.waitForSelector("#top-table");
    const top = await page.$$eval(`#top-table tbody tr:first-child td`, (tds) => tds.map((td) => td.textContent));
    assert.equal(top[0], ACME_NAME);
    assert.equal(top[1], String(weighted), "the busiest panel counts weighted requests");
    await page.goto(`${base}/#/c/${SEED.acme.id}`);
    await page.waitForFunction((n) => new RegExp(`Last 24 h: ${n} requests`).test(document.getElementById("metrics-totals")?.textContent ?? ""), weighted);
    // 3 of 26 weighted requests were 5xx.
    assert.match(await page.textContent("#metrics-totals"), /11\.54% errors/);
    assert.equal(await page.$$eval("#traffic svg", (x) => x.length), 3, "requests, error rate and latency charts");
    assert.match(await page.$eval("#traffic svg", (x) => x.getAttribute("aria-label")), new RegExp(`highest ${weighted}\\b`));
    await shots(page, "12-company-traffic");
    // The seed's logo (https://example.com/acme.svg) cannot load here: every name is 127.0.0.1.
    assert.deepEqual(errors.filter((e) => !/ERR_CONNECTION_REFUSED/.test(e)), [], "no script errors");
    await ctx.close();
  } finally {
    await s.analytics.clear();
  }
});

test("the console's suite took (figure, not a gate)", () => {
  console.log(`console browser suite: ${((Date.now() - started) / 1000).toFixed(1)} s from loading the file (stack, browser and every test)`);
});
