// Issue 17 item 4 in a real headless Chromium: "Continue with GitHub" in the demo front end, through
// the router, the Auth stand-in's OAuth flow (authorize → provider → callback → the signed return →
// the tenant host with `?code=` → PKCE exchange) and the OAuth provider TEST STAND-IN, on a slug host
// and on a custom domain that is in no allow list. The new user lands signed in on the host they
// started on and joins that tenant once (checked in the database); on an invite-only host OAuth
// creates no account and no membership.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { SEED } from "../support/stack.mjs";
import { startOAuthProviderStandin } from "../support/oauth-provider-standin.mjs";
import { uniqueEmail } from "../e2e/helpers.mjs";
import { startBrowserStack, shot, signedIn, signedOut } from "./support.mjs";

// A third tenant: open sign-up on a custom domain of its own (not a slug host, in no allow list).
const INITECH = { id: "33333333-3333-4333-8333-333333333333", host: "app.initech.test" };
let b, stack, idp;

before(async () => {
  b = await startBrowserStack({
    kid: "oauth",
    extraHosts: [INITECH.host],
    seedSql: [[
      `insert into public.tenants (id, slug, name, custom_domain, status, signup, branding)
       values ($1, 'initech', 'Initech', $2, 'active', 'open', '{"primary_color": "#7B1FA2"}')`,
      [INITECH.id, INITECH.host],
    ]],
  });
  stack = b.stack;
  const client = { clientId: "Iv1.standin-client", clientSecret: "standin-client-secret" };
  idp = await startOAuthProviderStandin({ ...client, redirectUri: stack.supabase.auth.callbackUrl });
  stack.supabase.auth.externalProviders.github = { url: idp.url, clientId: client.clientId, secret: client.clientSecret };
  b.frontendConfig.oauthProvider = "github";
});

after(async () => {
  await b?.stop();
  await idp?.stop();
});

async function oauthUsers(email) {
  const r = await stack.pg.query(
    `select u.id, u.raw_app_meta_data ->> 'provider' as provider,
            (select coalesce(json_agg(m.tenant_id order by m.tenant_id), '[]') from public.tenant_members m where m.user_id = u.id) as tenants,
            (select count(*)::int from tenancy.oauth_joins j where j.user_id = u.id) as joins
     from auth.users u where lower(u.email) = $1`,
    [email],
  );
  return r.rows;
}

/** Press "Continue with github" on `host` and wait until the demo shows `email` signed in. */
async function continueWithGithub(page, host, email) {
  await page.goto(`${b.origin(host)}/`);
  await signedOut(page);
  await page.click("#oauth");
  await signedIn(page, email);
}

/** A new account at the provider, already signed in there: its email (the login is its local part). */
function providerAccount(tag, name) {
  const email = uniqueEmail(tag);
  const login = email.split("@")[0];
  idp.addAccount({ login, name, email });
  idp.signInAs(login);
  return email;
}

for (const [label, host, tenant] of [
  ["slug-host", SEED.acme.host, SEED.acme.id],
  ["custom-domain", INITECH.host, INITECH.id],
]) {
  test(`${label}: OAuth sign-in on ${host} lands signed in there and joins that tenant, once`, { timeout: 90_000 }, async () => {
    const email = providerAccount(`oauth-${label}`, `OAuth ${label}`);
    const device = await b.device();
    try {
      const page = device.page;
      const seen = [];
      page.on("request", (r) => r.isNavigationRequest() && r.frame() === page.mainFrame() && seen.push(new URL(r.url()).host));
      await continueWithGithub(page, host, email);
      const url = new URL(page.url());
      assert.equal(url.host, `${host}:${b.port}`, "back on the host the sign-in started on");
      assert.equal(url.search, "", "the code is taken out of the address");
      assert.ok(seen.includes(b.returnHost), `through the signed return: ${seen.join(" → ")}`);
      await page.waitForFunction(() => (document.getElementById("message")?.textContent ?? "") !== "");
      assert.match(await page.textContent("#message"), /^Welcome to /);
      const [user] = await oauthUsers(email);
      assert.equal(user.provider, "github");
      assert.deepEqual(user.tenants, [tenant], "a member of this tenant only");
      assert.equal(user.joins, 1);
      // The refreshed token lists the tenant: the tenant's data is readable and writable.
      const contact = `OAuth contact ${Date.now()}`;
      await page.fill("#contact-name", contact);
      await page.click("#add-contact");
      await page.waitForFunction((c) => [...document.querySelectorAll("#contacts li")].some((li) => li.textContent === c), contact);
      await shot(page, `oauth-${label}-1-signed-in-joined`);
      await page.click("#sign-out");
      await signedOut(page);

      // A second sign-in: the same user (same identity), still one membership, no second join.
      const calls = () => stack.supabase.requestsTo("/rest/v1/rpc/join_tenant_after_oauth").length;
      const before = calls();
      await continueWithGithub(page, host, email);
      await page.waitForFunction(() => document.getElementById("message")?.textContent === "Signed in.");
      assert.equal(calls(), before, "a member does not call the join again");
      const again = await oauthUsers(email);
      assert.equal(again.length, 1);
      assert.equal(again[0].id, user.id);
      assert.deepEqual(again[0].tenants, [tenant]);
      assert.equal(again[0].joins, 1);
      await shot(page, `oauth-${label}-2-signed-in-again`);
    } finally {
      await device.close();
    }
  });
}

test("the join RPC refuses a second call for a user who joined (the database's once)", { timeout: 30_000 }, async () => {
  const email = providerAccount("oauth-twice");
  const device = await b.device();
  try {
    await continueWithGithub(device.page, SEED.acme.host, email);
    await device.page.waitForFunction(() => /^Welcome to /.test(document.getElementById("message")?.textContent ?? ""));
    // The same call the demo makes, once more, from the signed-in page.
    const second = await device.page.evaluate(async () => {
      const key = Object.keys(localStorage).find((k) => k.endsWith("-auth-token"));
      const { access_token } = JSON.parse(localStorage.getItem(key));
      const r = await fetch("/rest/v1/rpc/join_tenant_after_oauth", {
        method: "POST",
        headers: { apikey: window.DEMO_CONFIG.anonKey, authorization: `Bearer ${access_token}`, "content-type": "application/json" },
        body: "{}",
      });
      return { status: r.status, body: await r.json() };
    });
    assert.equal(second.status, 403, JSON.stringify(second.body));
    assert.equal(second.body.code, "PT403");
    const [user] = await oauthUsers(email);
    assert.deepEqual(user.tenants, [SEED.acme.id]);
    assert.equal(user.joins, 1);
  } finally {
    await device.close();
  }
});

test("invite-only custom domain: no OAuth button, and an OAuth attempt creates no account and no membership", { timeout: 60_000 }, async () => {
  const email = providerAccount("oauth-closed");
  const device = await b.device();
  try {
    const page = device.page;
    const origin = b.origin(SEED.globex.host);
    await page.goto(`${origin}/`);
    await signedOut(page);
    assert.equal(await page.isVisible("#oauth"), false, "the demo offers no OAuth on an invite-only host");
    await shot(page, "oauth-invite-only-1-no-button");
    // The request the button would make, by hand: the router refuses it before Auth or the provider.
    const idpBefore = idp.requests.length;
    const res = await page.goto(`${origin}/auth/v1/authorize?provider=github&redirect_to=${encodeURIComponent(`${origin}/`)}`);
    assert.equal(res.status(), 403);
    assert.equal(res.request().redirectedFrom(), null);
    assert.equal(new URL(page.url()).host, `${SEED.globex.host}:${b.port}`);
    assert.match(await page.content(), /signup_closed/);
    await shot(page, "oauth-invite-only-2-refused");
    assert.equal(idp.requests.length, idpBefore, "the provider was never asked");
    assert.deepEqual(await oauthUsers(email), [], "no account");
  } finally {
    await device.close();
  }
});

test("denied at the provider: back on the host with the provider's error, no account", { timeout: 30_000 }, async () => {
  idp.signInAs(null);
  const device = await b.device();
  try {
    const page = device.page;
    await page.goto(`${b.origin(SEED.acme.host)}/`);
    await signedOut(page);
    const usersBefore = (await stack.pg.query("select count(*)::int as n from auth.users")).rows[0].n;
    await page.click("#oauth");
    await page.waitForFunction(() => document.getElementById("message").className === "error");
    assert.equal(new URL(page.url()).host, `${SEED.acme.host}:${b.port}`);
    assert.match(await page.textContent("#message"), /denied/);
    assert.equal((await stack.pg.query("select count(*)::int as n from auth.users")).rows[0].n, usersBefore);
    await shot(page, "oauth-denied");
  } finally {
    await device.close();
  }
});
