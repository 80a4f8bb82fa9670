// RFC 7515 §4.1.11: a JWS whose header lists critical extensions the recipient does not implement
// must be rejected. The router implements none, so any `crit` is refused, for every algorithm, and
// such a token is never served from the verified-token cache.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { signHS256, signES256, signRS256, userClaims } from "../support/upstream.mjs";
import { JWT_SECRET, startPair, assertRouterError, bearer } from "./fixtures.mjs";

const CRIT_HEADERS = [
  { crit: ["exp"], exp: 1 },
  { crit: ["b64"], b64: false },
  { crit: ["http://example.com/ext"], "http://example.com/ext": true },
  { crit: [] },
  { crit: null },
  { crit: "exp" },
];

describe("JWT crit", () => {
  let up, router, pair;
  before(async () => {
    pair = await startPair({ vars: { JWT_ALGORITHMS: "HS256,ES256,RS256" } });
    ({ up, router } = pair);
  });
  after(async () => {
    await pair?.dispose();
  });

  for (const [alg, sign] of [
    ["HS256", (c, header) => signHS256(c, JWT_SECRET, { header })],
    ["ES256", (c, header) => signES256(c, { header })],
    ["RS256", (c, header) => signRS256(c, { header })],
  ]) {
    for (const header of CRIT_HEADERS) {
      test(`${alg}: a token with ${JSON.stringify(header)} in its header → 401 invalid_token, twice (never cached), nothing forwarded`, async () => {
        up.reset();
        const token = sign(userClaims(up.url), header);
        for (let i = 0; i < 2; i++) {
          const res = await router.request("acme.app.example", "/rest/v1/contacts", { headers: bearer(token) });
          assertRouterError(res, 401, "invalid_token");
        }
        assert.equal(up.forwarded().length, 0);
      });
    }

    test(`${alg}: the same claims without crit pass`, async () => {
      up.reset();
      const res = await router.request("acme.app.example", "/rest/v1/contacts", { headers: bearer(sign(userClaims(up.url), {})) });
      assert.equal(res.status, 200, res.body);
    });
  }
});
