// Issue 17: auth returns to the tenant's host through one signed return URL on AUTH_RETURN_HOST,
// email links land on a confirm route on the tenant's host, and no cookie spans tenants.
// Every refusal is a 4xx error (JSON, or a page for a browser) with no Location.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { ACME, GLOBEX, UMBRELLA, INITECH, HOSTS, ANON_KEY, startPair, assertRouterError } from "./fixtures.mjs";
import { signReturn, verifyReturn, tokenOf, returnUrl } from "../support/signed-return.mjs";

const RETURN_HOST = "auth.app.example";
const K1 = { kid: "k1", secret: "k1-secret-at-least-thirty-two-bytes-long" };
const K0 = { kid: "k0", secret: "k0-old-secret-at-least-thirty-two-bytes" };
const keysVar = (...ks) => ks.map((k) => `${k.kid}:${k.secret}`).join(",");
const sb = { apikey: ANON_KEY, authorization: `Bearer ${ANON_KEY}` };
const now = () => Math.floor(Date.now() / 1000);
const returnPath = (token, extra = "") => `/__router/auth/return?rt=${token}${extra}`;

function assertNoRedirect(res, status, code) {
  assert.equal(res.headers.location, undefined, `no redirect on a refusal, got ${res.headers.location}`);
  return assertRouterError(res, status, code);
}

describe("signed return (AUTH_RETURN_HOST)", () => {
  let up, router, pair;
  before(async () => {
    pair = await startPair({ vars: { AUTH_RETURN_HOST: RETURN_HOST, AUTH_RETURN_KEYS: keysVar(K1, K0) } });
    ({ up, router } = pair);
    up.route("/auth/v1/verify", (rec, res) => {
      const body = JSON.parse(rec.body.toString("utf8") || "{}");
      const ok = body.token_hash === "goodhash";
      const text = JSON.stringify(
        ok
          ? { access_token: "a.b.c", refresh_token: "r1", expires_in: 3600, expires_at: 4102444800, token_type: "bearer", user: { id: "u" } }
          : { code: 403, error_code: "otp_expired", msg: "Email link is invalid or has expired" },
      );
      res.writeHead(ok ? 200 : 403, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
      res.end(text);
    });
    up.route("/auth/v1/cookie-test", (rec, res) => {
      res.writeHead(200, {
        "content-type": "text/plain",
        "set-cookie": ["sb-a=1; Path=/; Domain=.app.example; HttpOnly", "sb-b=2; domain=app.example; Secure", "plain=3; Path=/"],
        "content-length": 2,
      });
      res.end("ok");
    });
  });
  after(async () => {
    await pair?.dispose();
  });

  for (const { label, host, tenant } of HOSTS) {
    test(`${label}: a target on the tenant's host goes to Auth as a return URL signed for that tenant`, async () => {
      up.reset();
      const own = `http://${host}/welcome?x=1`;
      const res = await router.request(host, `/auth/v1/recover?redirect_to=${encodeURIComponent(own)}`, {
        method: "POST",
        headers: sb,
        body: { email: "a@example.com" },
      });
      assert.equal(res.status, 200, res.body);
      const sent = up.last().searchParams.getAll("redirect_to");
      assert.equal(sent.length, 1, JSON.stringify(sent));
      assert.ok(sent[0].startsWith(`http://${RETURN_HOST}/__router/auth/return?rt=v1.k1.`), sent[0]);
      const r = verifyReturn(tokenOf(sent[0]), [K1]);
      assert.equal(r.tenant, tenant.id);
      assert.equal(r.target, own);
      assert.ok(r.exp >= now() + 86_400 - 60 && r.exp <= now() + 86_400 + 60, `24 h expiry, got ${r.exp - now()} s`);
    });

    test(`${label}: a foreign target becomes a signed return to the user's own origin; none at all gets one added`, async () => {
      up.reset();
      await router.request(host, `/auth/v1/otp?redirect_to=${encodeURIComponent("https://evil.example/")}`, {
        method: "POST",
        headers: sb,
        body: { email: "a@example.com" },
      });
      let r = verifyReturn(tokenOf(up.last().searchParams.get("redirect_to")), [K1]);
      assert.equal(r.target, `http://${host}/`);
      up.reset();
      await router.request(host, "/auth/v1/signup", { method: "POST", headers: sb, body: { email: "b@example.com", password: "pw-123456" } });
      r = verifyReturn(tokenOf(up.last().searchParams.get("redirect_to")), [K1]);
      assert.equal(r.target, `http://${host}/`);
      assert.equal(r.tenant, tenant.id);
    });

    test(`${label}: the return endpoint sends the browser to the signed target with Auth's query added`, async () => {
      const target = `http://${host}/welcome?x=1`;
      const tok = signReturn(K1, tenant.id, target, now() + 600);
      const res = await router.request(RETURN_HOST, returnPath(tok, "&code=abc-123"));
      assert.equal(res.status, 303, res.body);
      assert.equal(res.headers.location, `${target}&code=abc-123`);
      assert.equal(res.headers["cache-control"], "no-store");
      assert.equal(res.headers["referrer-policy"], "no-referrer");
    });

    test(`${label}: an email link through the return endpoint lands on the confirm route of that host`, async () => {
      const tok = signReturn(K1, tenant.id, `http://${host}/app?tab=1`, now() + 600);
      const res = await router.request(RETURN_HOST, returnPath(tok, "&token_hash=goodhash&type=signup"));
      assert.equal(res.status, 303, res.body);
      assert.equal(res.headers.location, `http://${host}/__router/auth/confirm?token_hash=goodhash&type=signup&next=%2Fapp%3Ftab%3D1`);
    });

    test(`${label}: the confirm route verifies the token hash through Auth and hands the session over in the fragment`, async () => {
      up.reset();
      const res = await router.request(host, "/__router/auth/confirm?token_hash=goodhash&type=signup&next=%2Fapp%3Ftab%3D1");
      assert.equal(res.status, 303, res.body);
      assert.equal(
        res.headers.location,
        `http://${host}/app?tab=1#access_token=a.b.c&expires_at=4102444800&expires_in=3600&refresh_token=r1&token_type=bearer&type=signup`,
      );
      const call = up.last();
      assert.equal(call.method, "POST");
      assert.equal(call.path, "/auth/v1/verify");
      assert.deepEqual(JSON.parse(call.body.toString()), { type: "signup", token_hash: "goodhash" });
      assert.equal(call.headers.apikey, ANON_KEY);
    });
  }

  test("an email link to a target without a path still lands on the confirm route with next=/…", async () => {
    const tok = signReturn(K1, ACME.id, "http://acme.app.example?tab=2", now() + 600);
    const res = await router.request(RETURN_HOST, returnPath(tok, "&token_hash=goodhash&type=magiclink"));
    assert.equal(res.status, 303, res.body);
    assert.equal(res.headers.location, "http://acme.app.example/__router/auth/confirm?token_hash=goodhash&type=magiclink&next=%2F%3Ftab%3D2");
  });

  test("rotation: a token signed with either configured key is accepted, the newest signs", async () => {
    for (const k of [K1, K0]) {
      const tok = signReturn(k, ACME.id, "http://acme.app.example/", now() + 600);
      const res = await router.request(RETURN_HOST, returnPath(tok));
      assert.equal(res.status, 303, `${k.kid}: ${res.body}`);
    }
  });

  const refusals = [
    ["a tampered signature", () => signReturn(K1, ACME.id, "http://acme.app.example/", now() + 600).replace(/.$/, (c) => (c === "A" ? "B" : "A"))],
    ["a signature of another key", () => signReturn({ kid: "k1", secret: "x".repeat(40) }, ACME.id, "http://acme.app.example/", now() + 600)],
    ["a tampered target", () => {
      const p = signReturn(K1, ACME.id, "http://acme.app.example/", now() + 600).split(".");
      p[4] = Buffer.from("https://evil.example/").toString("base64url");
      return p.join(".");
    }],
    ["a tampered expiry", () => {
      const p = signReturn(K1, ACME.id, "http://acme.app.example/", now() - 10).split(".");
      p[3] = String(now() + 600);
      return p.join(".");
    }],
    ["an expired return", () => signReturn(K1, ACME.id, "http://acme.app.example/", now() - 1)],
    ["an unknown key id", () => signReturn({ kid: "k9", secret: K1.secret }, ACME.id, "http://acme.app.example/", now() + 600)],
    ["a target on another tenant's host", () => signReturn(K1, ACME.id, "http://crm.globex.test/", now() + 600)],
    ["another tenant's slug host", () => signReturn(K1, GLOBEX.id, "http://acme.app.example/", now() + 600)],
    ["a foreign origin", () => signReturn(K1, ACME.id, "https://evil.example/", now() + 600)],
    ["userinfo in the target", () => signReturn(K1, ACME.id, "http://acme.app.example@evil.example/", now() + 600)],
    ["a backslash in the target", () => signReturn(K1, ACME.id, "http://acme.app.example\\@evil.example/", now() + 600)],
    ["a scheme-relative target", () => signReturn(K1, ACME.id, "//evil.example/", now() + 600)],
    ["a javascript: target", () => signReturn(K1, ACME.id, "javascript:alert(1)", now() + 600)],
    ["a lookalike host", () => signReturn(K1, ACME.id, "http://acme.app.example.evil.example/", now() + 600)],
    ["the platform host", () => signReturn(K1, ACME.id, `http://${RETURN_HOST}/`, now() + 600)],
    ["an unknown host", () => signReturn(K1, ACME.id, "http://nobody.app.example/", now() + 600)],
    ["garbage", () => "v1.k1.x"],
    ["an over-long token", () => "v1.k1." + "A".repeat(5000)],
  ];
  for (const [name, make] of refusals) {
    test(`refused without a redirect: ${name}`, async () => {
      const res = await router.request(RETURN_HOST, returnPath(make()));
      assertNoRedirect(res, 400, "invalid_return");
    });
  }

  test("refused without a redirect: a second rt, none at all, or an encoded key", async () => {
    const tok = signReturn(K1, ACME.id, "http://acme.app.example/", now() + 600);
    for (const p of [returnPath(tok, `&rt=${tok}`), "/__router/auth/return", `/__router/auth/return?r%74=${tok}`]) {
      assertNoRedirect(await router.request(RETURN_HOST, p), 400, "invalid_return");
    }
  });

  test("a suspended tenant's return is refused", async () => {
    const tok = signReturn(K1, INITECH.id, "http://crm.initech.test/", now() + 600);
    assertNoRedirect(await router.request(RETURN_HOST, returnPath(tok)), 403, "tenant_suspended");
  });

  test("a browser gets the refusal as an HTML page", async () => {
    const res = await router.request(RETURN_HOST, returnPath("v1.k1.x"), { headers: { accept: "text/html,application/xhtml+xml" } });
    assert.equal(res.status, 400);
    assert.equal(res.headers.location, undefined);
    assert.match(res.headers["content-type"], /text\/html/);
    assert.match(res.body, /invalid_return/);
  });

  test("the return host answers nothing else; tenant hosts do not answer the return path", async () => {
    assertRouterError(await router.request(RETURN_HOST, "/rest/v1/contacts"), 404, "no_tenant_for_host");
    assertRouterError(await router.request(RETURN_HOST, "/__router/tenant"), 404, "no_tenant_for_host");
    assert.equal((await router.request(RETURN_HOST, "/__router/health")).status, 200);
    const tok = signReturn(K1, ACME.id, "http://acme.app.example/", now() + 600);
    assertRouterError(await router.request("acme.app.example", returnPath(tok)), 404, "not_found");
    const post = await router.request(RETURN_HOST, returnPath(tok), { method: "POST", body: "" });
    assertRouterError(post, 405, "method_not_allowed");
  });

  test("a client's own signed return for this tenant is kept; one for another tenant is replaced", async () => {
    const mine = returnUrl("http", RETURN_HOST, signReturn(K1, ACME.id, "http://acme.app.example/x", now() + 600));
    up.reset();
    await router.request("acme.app.example", `/auth/v1/authorize?provider=github&redirect_to=${encodeURIComponent(mine)}`, { headers: sb });
    assert.equal(up.last().searchParams.get("redirect_to"), mine);
    const theirs = returnUrl("http", RETURN_HOST, signReturn(K1, GLOBEX.id, "http://crm.globex.test/x", now() + 600));
    up.reset();
    await router.request("acme.app.example", `/auth/v1/authorize?provider=github&redirect_to=${encodeURIComponent(theirs)}`, { headers: sb });
    const r = verifyReturn(tokenOf(up.last().searchParams.get("redirect_to")), [K1]);
    assert.deepEqual([r.tenant, r.target], [ACME.id, "http://acme.app.example/"]);
  });

  test("confirm route: Auth's refusal is an error without a redirect", async () => {
    const res = await router.request("acme.app.example", "/__router/auth/confirm?token_hash=usedhash&type=magiclink");
    assertNoRedirect(res, 403, "confirmation_failed");
    assert.equal(res.json().details, "otp_expired");
  });

  for (const q of [
    "token_hash=goodhash&type=signup&next=https%3A%2F%2Fevil.example%2F",
    "token_hash=goodhash&type=signup&next=%2F%2Fevil.example",
    "token_hash=goodhash&type=signup&next=%2F%5Cevil.example",
    "token_hash=goodhash&type=signup&next=javascript%3Aalert(1)",
    "token_hash=goodhash&type=sms",
    "token_hash=goodhash&token_hash=other&type=signup",
    "type=signup",
  ]) {
    test(`confirm route refuses before calling Auth: ${q}`, async () => {
      up.reset();
      const res = await router.request("acme.app.example", `/__router/auth/confirm?${q}`);
      assertNoRedirect(res, 400, "invalid_confirmation");
      assert.equal(up.seen("/auth/v1/verify").length, 0);
    });
  }

  test("confirm route: HEAD (a link scanner) does not spend the token", async () => {
    up.reset();
    const res = await router.request("acme.app.example", "/__router/auth/confirm?token_hash=goodhash&type=signup", { method: "HEAD" });
    assert.equal(res.status, 405);
    assert.equal(up.seen("/auth/v1/verify").length, 0);
  });

  test("sessions per host: upstream Set-Cookie loses any Domain attribute, so no cookie spans tenants", async () => {
    const res = await router.request("acme.app.example", "/auth/v1/cookie-test", { headers: sb });
    assert.equal(res.status, 200, res.body);
    const cookies = res.headers["set-cookie"];
    assert.deepEqual(cookies, ["sb-a=1; Path=/; HttpOnly", "sb-b=2; Secure", "plain=3; Path=/"]);
  });
});

describe("without AUTH_RETURN_HOST", () => {
  let pair;
  before(async () => {
    pair = await startPair();
  });
  after(async () => {
    await pair?.dispose();
  });
  test("auth redirects stay as they were and the return path is not answered", async () => {
    const { up, router } = pair;
    up.reset();
    await router.request("acme.app.example", `/auth/v1/authorize?provider=github&redirect_to=${encodeURIComponent("http://acme.app.example/w")}`, { headers: sb });
    assert.equal(up.last().searchParams.get("redirect_to"), "http://acme.app.example/w");
    assertRouterError(await router.request("auth.app.example", "/__router/auth/return?rt=x"), 404, "no_tenant_for_host");
    void UMBRELLA;
  });
});
