// Sign-up stamping on POST /auth/v1/signup and /auth/v1/otp (SPEC §1.4).
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { HOSTS, UMBRELLA, ANON_KEY, startPair, assertRouterError } from "./fixtures.mjs";

// What supabase-js sends.
const sbHeaders = { authorization: `Bearer ${ANON_KEY}`, apikey: ANON_KEY, "x-client-info": "supabase-js-node/2.119.1" };

describe("sign-up stamping", () => {
  let up, router, pair;
  before(async () => {
    pair = await startPair();
    ({ up, router } = pair);
  });
  after(async () => {
    await pair?.dispose();
  });

  for (const { label, host, tenant } of HOSTS) {
    test(`${label}: POST /auth/v1/signup stamps data.tenant_id, replacing the client's value and keeping the rest`, async () => {
      up.reset();
      const body = {
        email: "new@example.com",
        password: "Secr3t!pass",
        data: { tenant_id: "00000000-0000-4000-8000-000000000bad", full_name: "Ada Lovelace" },
        gotrue_meta_security: {},
        code_challenge: null,
        code_challenge_method: null,
      };
      const res = await router.request(host, "/auth/v1/signup?redirect_to=" + encodeURIComponent(`https://${host}/welcome`), {
        method: "POST",
        headers: { ...sbHeaders, "content-type": "application/json;charset=UTF-8" },
        body: JSON.stringify(body),
      });
      assert.equal(res.status, 200, res.body);
      const rec = up.last();
      assert.equal(rec.path, "/auth/v1/signup");
      assert.equal(rec.searchParams.get("redirect_to"), `https://${host}/welcome`);
      const sent = JSON.parse(rec.body.toString("utf8"));
      assert.equal(sent.data.tenant_id, tenant.id);
      assert.equal(sent.data.full_name, "Ada Lovelace");
      assert.equal(sent.email, body.email);
      assert.equal(sent.password, body.password);
      assert.deepEqual(sent.gotrue_meta_security, {});
      if (rec.headers["content-length"] !== undefined) {
        assert.equal(Number(rec.headers["content-length"]), rec.body.length, "content-length matches the rewritten body");
      }
      assert.equal(rec.headers["x-tenant-id"], tenant.id);
    });

    test(`${label}: POST /auth/v1/signup without data gets data.tenant_id added`, async () => {
      up.reset();
      const res = await router.request(host, "/auth/v1/signup", {
        method: "POST",
        headers: sbHeaders,
        body: { email: "plain@example.com", password: "Secr3t!pass" },
      });
      assert.equal(res.status, 200, res.body);
      const sent = JSON.parse(up.last().body.toString("utf8"));
      assert.deepEqual(sent.data, { tenant_id: tenant.id });
      assert.equal(sent.email, "plain@example.com");
    });

    test(`${label}: POST /auth/v1/otp stamps data.tenant_id and keeps create_user on an open tenant`, async () => {
      up.reset();
      const res = await router.request(host, "/auth/v1/otp", {
        method: "POST",
        headers: sbHeaders,
        body: { email: "magic@example.com", data: { tenant_id: "evil" }, create_user: true, gotrue_meta_security: {} },
      });
      assert.equal(res.status, 200, res.body);
      const sent = JSON.parse(up.last().body.toString("utf8"));
      assert.equal(sent.data.tenant_id, tenant.id);
      assert.equal(sent.create_user, true);
      assert.equal(sent.email, "magic@example.com");
    });

    test(`${label}: a non-JSON sign-up body → 400 invalid_body (auth error shape), nothing forwarded`, async () => {
      up.reset();
      for (const path of ["/auth/v1/signup", "/auth/v1/otp"]) {
        const res = await router.request(host, path, {
          method: "POST",
          headers: { ...sbHeaders, "content-type": "application/json" },
          body: "email=a@example.com&password=x",
        });
        assertRouterError(res, 400, "invalid_body", { auth: true });
      }
      assert.equal(up.forwarded().length, 0);
    });

    test(`${label}: a sign-up body over SIGNUP_MAX_BYTES (default 65536) → 413 body_too_large, with or without content-length`, async () => {
      up.reset();
      const big = JSON.stringify({ email: "big@example.com", password: "x", data: { pad: "x".repeat(70000) } });
      let res = await router.request(host, "/auth/v1/signup", { method: "POST", headers: sbHeaders, body: big });
      assertRouterError(res, 413, "body_too_large", { auth: true });
      res = await router.request(host, "/auth/v1/signup", {
        method: "POST",
        headers: { ...sbHeaders, "content-type": "application/json", "transfer-encoding": "chunked" },
        body: big,
      });
      assertRouterError(res, 413, "body_too_large", { auth: true });
      assert.equal(up.forwarded().length, 0);
      // Just under the cap passes.
      const ok = JSON.stringify({ email: "ok@example.com", password: "x", data: { pad: "x".repeat(60000) } });
      res = await router.request(host, "/auth/v1/signup", { method: "POST", headers: sbHeaders, body: ok });
      assert.equal(res.status, 200, res.body.slice(0, 300));
    });
  }

  for (const host of ["umbrella.app.example", "crm.umbrella.test"]) {
    test(`invite-only tenant (${host}): POST /auth/v1/signup → 403 signup_closed, nothing forwarded`, async () => {
      up.reset();
      const res = await router.request(host, "/auth/v1/signup", {
        method: "POST",
        headers: sbHeaders,
        body: { email: "x@example.com", password: "Secr3t!pass" },
      });
      assertRouterError(res, 403, "signup_closed", { auth: true });
      assert.equal(up.forwarded().length, 0);
    });

    test(`invite-only tenant (${host}): POST /auth/v1/otp is forwarded with create_user: false and data.tenant_id stamped`, async () => {
      up.reset();
      const res = await router.request(host, "/auth/v1/otp", {
        method: "POST",
        headers: sbHeaders,
        body: { email: "member@example.com", create_user: true, data: { tenant_id: "evil" } },
      });
      assert.equal(res.status, 200, res.body);
      const sent = JSON.parse(up.last().body.toString("utf8"));
      assert.equal(sent.create_user, false);
      assert.equal(sent.email, "member@example.com");
      assert.equal(sent.data.tenant_id, UMBRELLA.id);
    });
  }

  test("other /auth/v1 POSTs (token, recover) are not rewritten", async () => {
    up.reset();
    const body = JSON.stringify({ email: "a@example.com", password: "pw", data: { tenant_id: "client" } });
    const res = await router.request("acme.app.example", "/auth/v1/token?grant_type=password", {
      method: "POST",
      headers: { ...sbHeaders, "content-type": "application/json" },
      body,
    });
    assert.equal(res.status, 200, res.body);
    assert.equal(up.last().body.toString("utf8"), body);
    assert.equal(up.last().url, "/auth/v1/token?grant_type=password");
  });
});
