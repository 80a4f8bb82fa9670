// Never a 5xx for bad input (SPEC §1): a WebSocket upgrade is a GET without a body (RFC 6455 §4.1),
// so any other request carrying `Upgrade: websocket` gets the router's own 4xx JSON error and nothing
// goes upstream. workerd hands the Worker such a request as a bodiless GET that keeps its
// Content-Length; a non-GET upgrade with no body at all (a bare HEAD) is therefore a plain GET
// handshake by the time the Worker sees it, and is not tested here (see README, threat model).
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { HOSTS, ANON_KEY, startPair, assertRouterError } from "./fixtures.mjs";

describe("upgrade requests that are not GET", () => {
  let up, router, pair;
  before(async () => {
    pair = await startPair({ vars: { FRONTEND_ORIGIN: "" } });
    ({ up, router } = pair);
  });
  after(async () => {
    await pair?.dispose();
  });

  for (const { label, host } of HOSTS) {
    for (const method of ["POST", "PUT", "PATCH", "DELETE", "OPTIONS"]) {
      for (const [upgrade, path] of [
        ["websocket", "/realtime/v1/websocket?vsn=1.0.0"],
        ["WebSocket", "/rest/v1/contacts"],
        ["websocket", "/auth/v1/signup"],
      ]) {
        test(`${label}: ${method} ${path} with Upgrade: ${upgrade} → the router's 4xx JSON error, nothing upstream`, async () => {
          up.reset();
          const res = await router.request(host, path, {
            method,
            headers: {
              apikey: ANON_KEY,
              connection: "Upgrade",
              upgrade,
              "sec-websocket-version": "13",
              "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
              "content-type": "application/json",
            },
            body: JSON.stringify({ email: "a@example.com", password: "x" }),
          });
          assert.ok(res.status >= 400 && res.status < 500, `${res.status}: ${res.body}`);
          assertRouterError(res, res.status, res.json().code, { auth: path.startsWith("/auth/v1") });
          assert.equal(up.forwarded().length, 0, "nothing upstream");
          assert.equal(up.upgrades.length, 0, "no upgrade upstream");
        });
      }
    }
  }
});
