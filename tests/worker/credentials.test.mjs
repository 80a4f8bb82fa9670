// Service credentials are refused on tenant hosts wherever they ride (SPEC §1.3, §6 "Credentials"):
// Authorization, the apikey header, the apikey query parameter (any spelling a gateway decodes to
// it), and duplicated headers whose first value looks harmless.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { signHS256, serviceRoleClaims } from "../support/upstream.mjs";
import { HOSTS, ANON_KEY, JWT_SECRET, startPair, assertRouterError, hsToken } from "./fixtures.mjs";

const SERVICE_JWT = signHS256(serviceRoleClaims(), JWT_SECRET);
const SECRET_KEY = "sb_secret_abcdefghijklmnopqrstuv";
const PUBLISHABLE = "sb_publishable_abcdefghijklmnopqrst";

const KEY_NAMES = ["apikey", "api%6Bey", "%61pikey", "APIKEY", "ApiKey"];
const PATHS = ["/rest/v1/contacts?select=*", "/storage/v1/object/list/avatars", "/functions/v1/hello", "/auth/v1/user"];

describe("service credentials wherever they ride", () => {
  let up, router, pair;
  before(async () => {
    pair = await startPair();
    ({ up, router } = pair);
  });
  after(async () => {
    await pair?.dispose();
  });

  for (const { label, host } of HOSTS) {
    for (const [kind, key] of [
      ["service_role JWT", SERVICE_JWT],
      ["secret key", SECRET_KEY],
    ]) {
      for (const name of KEY_NAMES) {
        for (const path of PATHS) {
          test(`${label}: a ${kind} in query parameter ${name} on ${path.split("?")[0]} → 403 service_role_forbidden, nothing forwarded`, async () => {
            up.reset();
            const sep = path.includes("?") ? "&" : "?";
            const res = await router.request(host, `${path}${sep}${name}=${encodeURIComponent(key)}`, { headers: { apikey: ANON_KEY } });
            assertRouterError(res, 403, "service_role_forbidden", { auth: path.startsWith("/auth/v1") });
            assert.equal(up.forwarded().length, 0);
          });
        }
      }

      test(`${label}: a ${kind} in the apikey query parameter of the Realtime WebSocket → 403, no upgrade upstream`, async () => {
        up.reset();
        const res = await router.upgrade(host, `/realtime/v1/websocket?apikey=${encodeURIComponent(key)}&vsn=1.0.0`);
        assert.equal(res.status, 403, res.body);
        assert.equal(res.json().code, "service_role_forbidden");
        assert.equal(up.upgrades.length, 0);
        res.socket?.destroy();
      });

      for (const header of ["apikey", "authorization"]) {
        test(`${label}: duplicated ${header} headers, first harmless and second a ${kind} → refused (403 or 400/401), nothing forwarded`, async () => {
          up.reset();
          const value = (v) => (header === "authorization" ? `Bearer ${v}` : v);
          for (const harmless of [ANON_KEY, PUBLISHABLE]) {
            const res = await router.request(host, "/rest/v1/contacts", { headers: { [header]: [value(harmless), value(key)] } });
            assert.ok([400, 401, 403].includes(res.status), `${header}: ${res.status} ${res.body}`);
            assertRouterError(res, res.status, res.json().code);
          }
          assert.equal(up.forwarded().length, 0);
        });
      }
    }

    test(`${label}: two different harmless apikey headers are ambiguous → 400, but the same key in header and query passes`, async () => {
      up.reset();
      let res = await router.request(host, "/rest/v1/contacts", { headers: { apikey: [ANON_KEY, PUBLISHABLE] } });
      assert.ok([400, 401].includes(res.status), res.body);
      assert.equal(up.forwarded().length, 0);
      res = await router.request(host, `/rest/v1/contacts?apikey=${ANON_KEY}`, { headers: { apikey: ANON_KEY } });
      assert.equal(res.status, 200, res.body);
      res = await router.request(host, `/rest/v1/contacts?apikey=${PUBLISHABLE}`, { headers: { authorization: `Bearer ${hsToken(up)}` } });
      assert.equal(res.status, 200, res.body);
    });
  }
});
