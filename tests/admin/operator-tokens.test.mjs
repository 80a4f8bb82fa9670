// The admin Worker in workerd verifies operators' tokens as the router does (issue 14): ES256 and
// RS256 against the project's JWKS by kid, fetched through its backend and cached per isolate; the
// algorithm from JWT_ALGORITHMS (here ES256,RS256), never from the token; crit refused; exp, iss and
// aud checked. Each refusal is 401/403 in the PostgREST shape.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import crypto from "node:crypto";
import { startAdminStack, adminBuilt } from "./support.mjs";
import { signJwt, AUTH_KID } from "../support/auth-standin.mjs";
import { DEFAULT_JWT_SECRET } from "../support/supabase-standin.mjs";
import { SEED } from "../support/stack.mjs";

const PG_SHAPE = ["code", "message", "details", "hint"];
const RSA_KID = "operator-test-rsa";
let s;

const jwksFetches = () => s.outbound.filter((o) => o.method === "GET" && o.url === "/auth/v1/.well-known/jwks.json").length;

describe("admin service: operators' tokens", { skip: !adminBuilt() && "admin Worker not built (scripts/build-admin.sh)" }, () => {
  const rsa = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
  const foreignEc = crypto.generateKeyPairSync("ec", { namedCurve: "P-256" });
  let claims; // carol's aal2 admin claims, as the project signed them

  before(async () => {
    s = await startAdminStack();
    // The first JWKS the admin fetches is the project's plus an RSA key: the project's keys after a
    // move to RS256 (Supabase's JWKS can hold both). Later fetches get the stand-in's own.
    s.faults.push({
      match: (u, m) => m === "GET" && u.pathname === "/auth/v1/.well-known/jwks.json",
      times: 1,
      respond: () => {
        const keys = s.stack.supabase.auth.jwks().keys;
        keys.push({ ...rsa.publicKey.export({ format: "jwk" }), kid: RSA_KID, alg: "RS256", use: "sig" });
        return Response.json({ keys });
      },
    });
    const [, p] = s.tokens.admin.split(".");
    claims = JSON.parse(Buffer.from(p, "base64url"));
  });
  after(async () => {
    await s?.stop();
  });

  const list = (token) => s.request("GET", "/admin/v1/tenants", { token });

  test("an RS256 admin token is accepted when RS256 is configured (the first request fetches the JWKS)", async () => {
    const t = signJwt(claims, { alg: "RS256", key: rsa.privateKey, kid: RSA_KID });
    const r = await list(t);
    assert.equal(r.status, 200, r.body);
    assert.equal(jwksFetches(), 1);
  });

  test("the stand-in's ES256 aal2 admin token is accepted, from the cached keys", async () => {
    const [h] = s.tokens.admin.split(".");
    assert.deepEqual(JSON.parse(Buffer.from(h, "base64url")), { alg: "ES256", typ: "JWT", kid: AUTH_KID });
    const r = await list(s.tokens.admin);
    assert.equal(r.status, 200, r.body);
    assert.equal(jwksFetches(), 1, "cached per isolate");
  });

  const now = () => Math.floor(Date.now() / 1000);
  for (const [what, token, status] of [
    ["a token signed by a foreign key under the project's kid", () => signJwt(claims, { alg: "ES256", key: foreignEc.privateKey, kid: AUTH_KID }), 401],
    [
      "alg none",
      () => `${Buffer.from(JSON.stringify({ alg: "none", typ: "JWT" })).toString("base64url")}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.`,
      401,
    ],
    ["an HS256 token with the legacy secret when only ES256/RS256 are allowed", () => signJwt(claims, { alg: "HS256", key: DEFAULT_JWT_SECRET }), 401],
    ["an RS256 header naming the project's EC kid", () => signJwt(claims, { alg: "RS256", key: rsa.privateKey, kid: AUTH_KID }), 401],
    ["crit in the header", () => s.stack.supabase.auth.signAsProject(claims, { crit: ["exp"], exp: 1 }), 401],
    ["an expired token", () => s.stack.supabase.auth.signAsProject({ ...claims, iat: now() - 7200, exp: now() - 3600 }), 401],
    ["no exp", () => s.stack.supabase.auth.signAsProject({ ...claims, exp: undefined }), 401],
    ["a wrong issuer", () => s.stack.supabase.auth.signAsProject({ ...claims, iss: "https://evil.example/auth/v1" }), 401],
    ["a wrong audience", () => s.stack.supabase.auth.signAsProject({ ...claims, aud: "somebody-else" }), 401],
    ["an admin without aal2", () => s.stack.supabase.auth.signAsProject({ ...claims, aal: "aal1" }), 403],
    ["platform_role only in user_metadata", () => s.stack.supabase.auth.signAsProject({ ...claims, app_metadata: {}, user_metadata: { platform_role: "admin" } }), 403],
  ]) {
    test(`${what} is refused ${status} in the PostgREST shape`, async () => {
      const r = await list(token());
      assert.equal(r.status, status, r.body);
      for (const k of PG_SHAPE) assert.ok(k in r.json(), k);
    });
  }

  test("an unknown kid is refused 401 and refetches the JWKS at most once per JWKS_MIN_REFRESH_S", async () => {
    const before = jwksFetches();
    const t = signJwt(claims, { alg: "ES256", key: foreignEc.privateKey, kid: "rotated-away" });
    for (let i = 0; i < 3; i++) {
      const r = await list(t);
      assert.equal(r.status, 401, r.body);
      for (const k of PG_SHAPE) assert.ok(k in r.json(), k);
    }
    assert.ok(jwksFetches() - before <= 1, `${jwksFetches() - before} JWKS fetches for one unknown kid`);
    assert.equal(SEED.users.carol.id, claims.sub);
  });
});
