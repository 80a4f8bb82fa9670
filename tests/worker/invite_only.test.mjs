// Invite-only means no new accounts from that host (SPEC §1.4, §6 "Paths", "Bodies the upstream
// decodes"): every way GoTrue creates a user is refused or forced not to create one, whatever the
// path's spelling, and every body the router edits means the same to Go's encoding/json as to the router.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { HOSTS, UMBRELLA, ANON_KEY, startPair, assertRouterError } from "./fixtures.mjs";
import { goJsonField, goFold, jsonKeys } from "./gotrue_view.mjs";

const sb = { apikey: ANON_KEY, authorization: `Bearer ${ANON_KEY}`, "content-type": "application/json" };
const INVITE_ONLY_HOSTS = ["umbrella.app.example", "crm.umbrella.test"];

/** Spellings of an /auth/v1 path that GoTrue's router (chi) or a normalising gateway may route like `canonical`. */
function spellings(canonical) {
  const name = canonical.slice(1); // "signup"
  const encodedFirst = `%${name.charCodeAt(0).toString(16)}${name.slice(1)}`;
  const encodedLast = `${name.slice(0, -1)}%${name.charCodeAt(name.length - 1).toString(16).toUpperCase()}`;
  return [
    `/auth/v1/${name}`,
    `/auth/v1/${name}/`,
    `/auth/v1//${name}`,
    `/auth/v1/${name}//`,
    `/auth/v1/${encodedFirst}`,
    `/auth/v1/${encodedLast}`,
    `/auth/v1/${name}%2F`,
    `/auth/v1/${name}%2f`,
    `/auth/v1/${name};x=1`,
    `/auth/v1/${name.toUpperCase()}`,
    `/auth/v1/x/../${name}`,
  ];
}

/** A router refusal (4xx JSON, auth shape) with nothing sent upstream. */
function assertRefused(up, res, what) {
  assert.ok(res.status >= 400 && res.status < 500, `${what}: expected a 4xx, got ${res.status}: ${res.body}`);
  assertRouterError(res, res.status, res.json().code, { auth: true });
  assert.equal(up.forwarded().length, 0, `${what}: nothing forwarded`);
}

describe("invite-only means no new accounts", () => {
  let up, router, pair;
  before(async () => {
    pair = await startPair();
    ({ up, router } = pair);
  });
  after(async () => {
    await pair?.dispose();
  });

  for (const host of INVITE_ONLY_HOSTS) {
    for (const path of spellings("/signup")) {
      test(`${host}: POST ${path} is refused, nothing forwarded`, async () => {
        up.reset();
        const res = await router.request(host, path, { method: "POST", headers: sb, body: { email: "x@example.com", password: "Secr3t!pass" } });
        assertRefused(up, res, path);
      });
    }

    for (const path of spellings("/magiclink")) {
      test(`${host}: POST ${path} (GoTrue signs unknown addresses up there) is refused, nothing forwarded`, async () => {
        up.reset();
        const res = await router.request(host, path, { method: "POST", headers: sb, body: { email: "new@example.com" } });
        assertRefused(up, res, path);
      });
    }

    for (const path of spellings("/otp")) {
      test(`${host}: POST ${path} is refused or forwarded with create_user false`, async () => {
        up.reset();
        const res = await router.request(host, path, { method: "POST", headers: sb, body: { email: "new@example.com", create_user: true } });
        if (up.forwarded().length === 0) return assertRefused(up, res, path);
        assert.equal(goJsonField(up.last().body.toString("utf8"), "create_user"), false, up.last().body.toString());
      });
    }

    for (const [what, path, init] of [
      ["OAuth /authorize", "/auth/v1/authorize?provider=google", {}],
      ["OAuth /callback", "/auth/v1/callback?code=abc&state=xyz", {}],
      ["SSO", "/auth/v1/sso", { method: "POST", body: { domain: "example.com" } }],
      ["SAML ACS", "/auth/v1/sso/saml/acs", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: "SAMLResponse=abc&RelayState=x" }],
      ["id_token grant", "/auth/v1/token?grant_type=id_token", { method: "POST", body: { provider: "google", id_token: "x" } }],
      ["id_token grant, key percent-encoded", "/auth/v1/token?grant%5Ftype=id_token", { method: "POST", body: { provider: "google", id_token: "x" } }],
      [
        "id_token grant in a url-encoded body",
        "/auth/v1/token",
        { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: "grant_type=id_token&provider=google&id_token=x" },
      ],
      ["web3 grant", "/auth/v1/token?grant_type=web3", { method: "POST", body: { chain: "solana", message: "m", signature: "s" } }],
      ["anonymous sign-in", "/auth/v1/signup", { method: "POST", body: {} }],
    ]) {
      test(`${host}: ${what} is refused with 403 signup_closed, nothing forwarded`, async () => {
        up.reset();
        const res = await router.request(host, path, { method: init.method ?? "GET", headers: { ...sb, ...(init.headers ?? {}) }, body: init.body });
        assertRouterError(res, 403, "signup_closed", { auth: true });
        assert.equal(up.forwarded().length, 0);
      });
    }

    test(`${host}: signing in members still works (password and refresh grants, OTP for members)`, async () => {
      for (const path of ["/auth/v1/token?grant_type=password", "/auth/v1/token?grant_type=refresh_token"]) {
        up.reset();
        const res = await router.request(host, path, { method: "POST", headers: sb, body: { email: "m@example.com", password: "x" } });
        assert.equal(res.status, 200, `${path}: ${res.body}`);
      }
    });

    for (const [what, body] of [
      ["CREATE_USER", '{"email":"new@example.com","CREATE_USER":true}'],
      ["Create_User", '{"email":"new@example.com","Create_User":true}'],
      ["create_uſer (U+017F folds to s)", '{"email":"new@example.com","create_u\u017fer":true}'],
      ["escaped spelling", '{"email":"new@example.com","\\u0063reate_user":true}'],
      ["phone OTP", '{"phone":"+15555550100","Create_User":true}'],
    ]) {
      test(`${host}: POST /auth/v1/otp with ${what} → Go's decoder reads create_user false (or 400)`, async () => {
        up.reset();
        const res = await router.request(host, "/auth/v1/otp", { method: "POST", headers: sb, body });
        if (up.forwarded().length === 0) return assertRefused(up, res, what);
        assert.equal(res.status, 200, res.body);
        const sent = up.last().body.toString("utf8");
        assert.equal(goJsonField(sent, "create_user"), false, sent);
        assert.equal(jsonKeys(sent).filter((k) => goFold(k) === goFold("create_user")).length, 1, `one create_user key: ${sent}`);
        assert.equal(goJsonField(sent, "data").tenant_id, UMBRELLA.id, sent);
      });
    }
  }

  for (const { label, host, tenant } of HOSTS) {
    for (const path of [...spellings("/signup"), ...spellings("/otp"), ...spellings("/magiclink")]) {
      test(`${label}: POST ${path} on an open tenant is refused or stamped with the tenant`, async () => {
        up.reset();
        const res = await router.request(host, path, {
          method: "POST",
          headers: sb,
          body: { email: "x@example.com", password: "Secr3t!pass", data: { tenant_id: "00000000-0000-4000-8000-000000000bad" } },
        });
        if (up.forwarded().length === 0) return assertRefused(up, res, path);
        const data = goJsonField(up.last().body.toString("utf8"), "data");
        assert.equal(data?.tenant_id, tenant.id, `${path}: ${up.last().body}`);
      });
    }

    for (const [what, body] of [
      ["a Data key after data", '{"email":"x@example.com","password":"p","data":{"full_name":"A"},"Data":{"tenant_id":"00000000-0000-4000-8000-000000000bad"}}'],
      ["only a DATA key", '{"email":"x@example.com","password":"p","DATA":{"tenant_id":"00000000-0000-4000-8000-000000000bad"}}'],
      ["duplicate data keys", '{"email":"x@example.com","password":"p","data":{},"data":{"tenant_id":"00000000-0000-4000-8000-000000000bad"}}'],
    ]) {
      test(`${label}: POST /auth/v1/signup with ${what} → Go's decoder reads the router's tenant (or 400)`, async () => {
        up.reset();
        const res = await router.request(host, "/auth/v1/signup", { method: "POST", headers: sb, body });
        if (up.forwarded().length === 0) return assertRefused(up, res, what);
        const sent = up.last().body.toString("utf8");
        assert.equal(goJsonField(sent, "data")?.tenant_id, tenant.id, sent);
        assert.equal(jsonKeys(sent).filter((k) => goFold(k) === goFold("data")).length, 1, `one data key: ${sent}`);
      });
    }
  }
});
