// Token verification at the edge (SPEC §1.3), for a slug host and a custom domain.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import {
  signHS256,
  signES256,
  signRS256,
  signForeignES256,
  signNone,
  userClaims,
  serviceRoleClaims,
  esPublicKeyPem,
  esPublicJwk,
  ES_KID,
  b64url,
} from "../support/upstream.mjs";
import { HOSTS, ACME, GLOBEX, JWT_SECRET, ANON_KEY, startPair, assertRouterError, bearer } from "./fixtures.mjs";

const now = () => Math.floor(Date.now() / 1000);

function assertInvalidToken(res, opts) {
  assertRouterError(res, 401, "invalid_token", opts);
  const wa = res.headers["www-authenticate"] ?? "";
  assert.ok(wa.includes('Bearer error="invalid_token"'), `WWW-Authenticate should carry Bearer error="invalid_token", got: ${wa}`);
}

describe("token verification", () => {
  let up, router, pair;
  before(async () => {
    pair = await startPair();
    ({ up, router } = pair);
  });
  after(async () => {
    await pair?.dispose();
  });

  const invalid = {
    "expired beyond the 30 s leeway": (up) => signES256(userClaims(up.url, { exp: now() - 90, iat: now() - 3700 })),
    "expired HS256": (up) => signHS256(userClaims(up.url, { exp: now() - 90 }), JWT_SECRET),
    "not yet valid (nbf beyond leeway)": (up) => signES256(userClaims(up.url, { nbf: now() + 300 })),
    "without exp": (up) => {
      const c = userClaims(up.url);
      delete c.exp;
      return signES256(c);
    },
    "wrong aud": (up) => signES256(userClaims(up.url, { aud: "other-audience" })),
    "wrong aud (HS256)": (up) => signHS256(userClaims(up.url, { aud: "other-audience" }), JWT_SECRET),
    "wrong iss": (up) => signES256(userClaims(up.url, { iss: "https://evil.supabase.co/auth/v1" })),
    "wrong iss (HS256)": (up) => signHS256(userClaims(up.url, { iss: "https://evil.supabase.co/auth/v1" }), JWT_SECRET),
    "alg none": (up) => signNone(userClaims(up.url)),
    "alg none with a kid": (up) => `${b64url(JSON.stringify({ alg: "none", kid: ES_KID }))}.${b64url(JSON.stringify(userClaims(up.url)))}.`,
    "HS256 signed with the ES256 public key PEM (alg confusion)": (up) => signHS256(userClaims(up.url), esPublicKeyPem, { kid: ES_KID }),
    "HS256 signed with the ES256 public JWK x (alg confusion)": (up) => signHS256(userClaims(up.url), esPublicJwk.x, { kid: ES_KID }),
    "HS256 signed with the anon key as secret": (up) => signHS256(userClaims(up.url), ANON_KEY),
    "ES256 signed by a foreign key claiming the JWKS kid": (up) => signForeignES256(userClaims(up.url)),
    "ES256 signed by a foreign key with an unknown kid": (up) => signForeignES256(userClaims(up.url), { kid: "attacker-kid" }),
    "tampered payload (ES256)": (up) => {
      const [h, , s] = signES256(userClaims(up.url)).split(".");
      return `${h}.${b64url(JSON.stringify(userClaims(up.url, { sub: "someone-else" })))}.${s}`;
    },
    "tampered payload (HS256)": (up) => {
      const [h, , s] = signHS256(userClaims(up.url), JWT_SECRET).split(".");
      return `${h}.${b64url(JSON.stringify(userClaims(up.url, { role: "service_role" })))}.${s}`;
    },
    "HS256 with the wrong secret": (up) => signHS256(userClaims(up.url), "not-the-project-secret-not-the-project-secret"),
    "anon key signed with the wrong secret": () => signHS256({ iss: "supabase", role: "anon", exp: now() + 3600 }, "wrong-secret-wrong-secret-wrong-secret"),
    "garbage: three dots of nonsense": () => "abc.def.ghi",
    "garbage: not base64": () => "eyJ!!!.$$$.%%%",
    "garbage: one segment": () => "not-a-jwt",
    "garbage: truncated ES256 token": (up) => signES256(userClaims(up.url)).slice(0, 60),
    "garbage: 100 KB token": (up) => signES256(userClaims(up.url, { pad: "x".repeat(100 * 1024) })),
    "garbage: sb_-prefixed value with dots": () => "sb_whatever.abc.def",
  };

  for (const { label, host } of HOSTS) {
    for (const [name, mint] of Object.entries(invalid)) {
      test(`${label}: ${name} → 401 invalid_token with WWW-Authenticate, nothing forwarded`, async () => {
        up.reset();
        const res = await router.request(host, "/rest/v1/contacts", { headers: bearer(mint(up)) });
        assertInvalidToken(res);
        assert.equal(up.forwarded().length, 0, "a refused request must not reach Supabase");
      });
    }

    for (const [name, value] of [
      ["Basic credentials", "Basic dXNlcjpwYXNz"],
      ["a Token scheme", `Token ${ANON_KEY}`],
      ["Bearer with no token", "Bearer"],
      ["a raw JWT without scheme", ANON_KEY],
    ]) {
      test(`${label}: a non-Bearer Authorization (${name}) → 401 invalid_token`, async () => {
        up.reset();
        const res = await router.request(host, "/rest/v1/contacts", { headers: { authorization: value } });
        assertInvalidToken(res);
        assert.equal(up.forwarded().length, 0);
      });
    }

    test(`${label}: on /auth/v1 an invalid token → 401 with error_code and msg too`, async () => {
      up.reset();
      const res = await router.request(host, "/auth/v1/user", { headers: bearer(signForeignES256(userClaims(up.url))) });
      assertInvalidToken(res, { auth: true });
    });

    for (const [name, mint] of [
      ["HS256", (up) => signHS256(userClaims(up.url), JWT_SECRET)],
      ["ES256", (up) => signES256(userClaims(up.url))],
      ["RS256", (up) => signRS256(userClaims(up.url))],
      ["ES256 expired 10 s ago (inside the 30 s leeway)", (up) => signES256(userClaims(up.url, { exp: now() - 10 }))],
      ["HS256 with nbf 10 s ahead (inside the leeway)", (up) => signHS256(userClaims(up.url, { nbf: now() + 10 }), JWT_SECRET)],
    ]) {
      test(`${label}: a valid ${name} user token passes and reaches Supabase unchanged`, async () => {
        up.reset();
        const token = mint(up);
        const res = await router.request(host, "/rest/v1/contacts?select=*", { headers: bearer(token) });
        assert.equal(res.status, 200, res.body);
        assert.equal(up.last().headers.authorization, `Bearer ${token}`);
      });
    }

    for (const [name, headers] of [
      ["the legacy anon key as bearer", { authorization: `Bearer ${ANON_KEY}`, apikey: ANON_KEY }],
      ["a publishable key as bearer", { authorization: "Bearer sb_publishable_abcDEF123_xyz", apikey: "sb_publishable_abcDEF123_xyz" }],
      ["no Authorization at all", {}],
    ]) {
      test(`${label}: ${name} is anonymous and passes`, async () => {
        up.reset();
        const res = await router.request(host, "/rest/v1/contacts", { headers });
        assert.equal(res.status, 200, res.body);
        assert.equal(up.forwarded().length, 1);
      });
    }

    for (const [name, headers] of [
      ["the service_role key as bearer", (up) => ({ authorization: `Bearer ${signHS256(serviceRoleClaims(), JWT_SECRET)}` })],
      ["an ES256 user-shaped token with role service_role", (up) => bearer(signES256(userClaims(up.url, { role: "service_role" })))],
      ["a secret key (sb_secret_…) as bearer", () => ({ authorization: "Bearer sb_secret_abcDEF123_xyz" })],
      ["a secret key (sb_secret_…) as apikey", () => ({ apikey: "sb_secret_abcDEF123_xyz" })],
      ["the service_role key as apikey", () => ({ apikey: signHS256(serviceRoleClaims(), JWT_SECRET) })],
    ]) {
      test(`${label}: ${name} → 403 service_role_forbidden, nothing forwarded`, async () => {
        up.reset();
        const res = await router.request(host, "/rest/v1/contacts", { headers: headers(up) });
        assertRouterError(res, 403, "service_role_forbidden");
        assert.equal(up.forwarded().length, 0);
      });
    }
  }

  for (const [alg, sign] of [
    ["HS256", (c) => signHS256(c, JWT_SECRET)],
    ["ES256", (c) => signES256(c)],
  ]) {
    test(`${alg}: a tenant_ids claim lacking the host's tenant → 403 tenant_mismatch; one containing it passes`, async () => {
      up.reset();
      let res = await router.request("acme.app.example", "/rest/v1/contacts", {
        headers: bearer(sign(userClaims(up.url, { tenant_ids: [GLOBEX.id] }))),
      });
      assertRouterError(res, 403, "tenant_mismatch");
      res = await router.request("crm.globex.test", "/rest/v1/contacts", {
        headers: bearer(sign(userClaims(up.url, { tenant_ids: [ACME.id] }))),
      });
      assertRouterError(res, 403, "tenant_mismatch");
      res = await router.request("crm.globex.test", "/rest/v1/contacts", { headers: bearer(sign(userClaims(up.url, { tenant_ids: [] }))) });
      assertRouterError(res, 403, "tenant_mismatch");
      assert.equal(up.forwarded().length, 0);
      const both = sign(userClaims(up.url, { tenant_ids: [ACME.id, GLOBEX.id] }));
      for (const host of ["acme.app.example", "crm.globex.test"]) {
        res = await router.request(host, "/rest/v1/contacts", { headers: bearer(both) });
        assert.equal(res.status, 200, res.body);
      }
    });
  }

  test("unknown kids refetch the JWKS at most once per JWKS_MIN_REFRESH_S", async () => {
    // Warm up: a valid ES256 token loads the JWKS.
    let res = await router.request("acme.app.example", "/rest/v1/contacts", { headers: bearer(signES256(userClaims(up.url))) });
    assert.equal(res.status, 200);
    up.reset();
    for (let i = 0; i < 5; i++) {
      res = await router.request("acme.app.example", "/rest/v1/contacts", {
        headers: bearer(signForeignES256(userClaims(up.url), { kid: `unknown-${i}` })),
      });
      assertInvalidToken(res);
    }
    assert.ok(up.jwksServed <= 1, `JWKS fetched ${up.jwksServed} times for 5 unknown kids within JWKS_MIN_REFRESH_S (60 s)`);
  });
});

describe("token configuration", () => {
  test("ALLOW_SERVICE_ROLE=true lets service_role and secret keys through", async () => {
    const { up, router, dispose } = await startPair({ vars: { ALLOW_SERVICE_ROLE: "true" } });
    try {
      for (const headers of [
        { authorization: `Bearer ${signHS256(serviceRoleClaims(), JWT_SECRET)}` },
        { authorization: "Bearer sb_secret_abcDEF123_xyz", apikey: "sb_secret_abcDEF123_xyz" },
      ]) {
        up.reset();
        const res = await router.request("acme.app.example", "/rest/v1/contacts", { headers });
        assert.equal(res.status, 200, res.body);
        assert.equal(up.last().headers.authorization, headers.authorization);
      }
    } finally {
      await dispose();
    }
  });

  test("without SUPABASE_JWT_SECRET, HS256 is off: a correctly signed HS256 user token → 401 invalid_token", async () => {
    const { up, router, dispose } = await startPair({
      vars: (up) => ({
        SUPABASE_URL: up.url,
        SUPABASE_ANON_KEY: "sb_publishable_testkey",
        BASE_DOMAINS: "app.example",
        TENANT_DIRECTORY: JSON.stringify([ACME]),
      }),
      tenants: [ACME],
    });
    try {
      let res = await router.request("acme.app.example", "/rest/v1/contacts", { headers: bearer(signHS256(userClaims(up.url), JWT_SECRET)) });
      assertInvalidToken(res);
      res = await router.request("acme.app.example", "/rest/v1/contacts", { headers: bearer(signES256(userClaims(up.url))) });
      assert.equal(res.status, 200, res.body);
      // and the apikey added is the publishable key
      assert.equal(up.last().headers.apikey, "sb_publishable_testkey");
    } finally {
      await dispose();
    }
  });

  test("JWT_ALGORITHMS=HS256 refuses a valid ES256 token (algorithms come from configuration, not from the token)", async () => {
    const { up, router, dispose } = await startPair({ vars: { JWT_ALGORITHMS: "HS256" } });
    try {
      let res = await router.request("acme.app.example", "/rest/v1/contacts", { headers: bearer(signES256(userClaims(up.url))) });
      assertInvalidToken(res);
      res = await router.request("acme.app.example", "/rest/v1/contacts", { headers: bearer(signHS256(userClaims(up.url), JWT_SECRET)) });
      assert.equal(res.status, 200, res.body);
    } finally {
      await dispose();
    }
  });

  test("JWT_ISSUER and JWT_AUDIENCE override the defaults", async () => {
    const { up, router, dispose } = await startPair({ vars: { JWT_ISSUER: "https://auth.example.com", JWT_AUDIENCE: "crm" } });
    try {
      let res = await router.request("acme.app.example", "/rest/v1/contacts", {
        headers: bearer(signES256(userClaims(up.url, { iss: "https://auth.example.com", aud: "crm" }))),
      });
      assert.equal(res.status, 200, res.body);
      res = await router.request("acme.app.example", "/rest/v1/contacts", { headers: bearer(signES256(userClaims(up.url))) });
      assertInvalidToken(res);
    } finally {
      await dispose();
    }
  });
});

describe("cold isolate", () => {
  test("16 concurrent first ES256 requests on a cold isolate all pass, with one JWKS fetch (no request hangs on another's JWKS load)", async () => {
    const { up, router, dispose } = await startPair();
    try {
      const results = await Promise.all(
        Array.from({ length: 16 }, (_, i) =>
          router.request(i % 2 ? "acme.app.example" : "crm.globex.test", `/rest/v1/contacts?i=${i}`, {
            headers: bearer(signES256(userClaims(up.url, { session_id: `s${i}` }))),
          }),
        ),
      );
      const bad = results.map((r, i) => [i, r.status, r.body.slice(0, 200)]).filter(([, s]) => s !== 200);
      assert.deepEqual(bad, [], `requests that did not pass: ${JSON.stringify(bad)}`);
      assert.equal(up.jwksServed, 1, `JWKS fetched ${up.jwksServed} times`);
    } finally {
      await dispose();
    }
  });
});
