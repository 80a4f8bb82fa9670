// Identity headers Supabase trusts are the router's alone (SPEC §6 "Identity headers"): client IP,
// audience and forwarded identity as the client sent them never reach upstream; the router sets its own.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { HOSTS, ANON_KEY, startPair } from "./fixtures.mjs";

const FORGED = "6.6.6.6";

/** Headers that Supabase's services (GoTrue, PostgREST, Storage, Realtime) or its gateway (Kong, Envoy) read as identity. */
const FORGED_HEADERS = {
  "sb-forwarded-for": FORGED,
  "x-jwt-aud": "service_role",
  "x-real-ip": FORGED,
  "x-client-ip": FORGED,
  "true-client-ip": FORGED,
  // Not cf-connecting-ip: workerd under Miniflare takes a client's value as the client address it
  // reports (Cloudflare's edge overwrites it), and the router forwards that address as its own.
  "cf-connecting-ipv6": "2001:db8::6",
  "fastly-client-ip": FORGED,
  "x-cluster-client-ip": FORGED,
  "x-original-forwarded-for": FORGED,
  forwarded: `for=${FORGED}`,
  "x-forwarded-for": FORGED,
  "x-forwarded-host": "evil.example",
  "x-forwarded-prefix": "/evil",
  "x-forwarded-user": "admin",
  "x-envoy-external-address": FORGED,
  "x-envoy-original-path": "/auth/v1/admin/users",
  "x-consumer-username": "service_role",
  "x-consumer-id": "admin",
  "x-credential-identifier": "service_role",
  "x-anonymous-consumer": "false",
  "x-authenticated-userid": "admin",
  "sb-project-ref": "other",
  "sb-gateway-version": "evil",
};

describe("identity headers are the router's alone", () => {
  let up, router, pair;
  before(async () => {
    pair = await startPair();
    ({ up, router } = pair);
  });
  after(async () => {
    await pair?.dispose();
  });

  for (const { label, host } of HOSTS) {
    for (const path of ["/auth/v1/token?grant_type=password", "/rest/v1/contacts", "/storage/v1/object/list/a", "/functions/v1/f"]) {
      test(`${label}: ${path.split("?")[0]}: no client-sent identity header reaches upstream`, async () => {
        up.reset();
        const res = await router.request(host, path, { headers: { apikey: ANON_KEY, ...FORGED_HEADERS } });
        assert.equal(res.status, 200, res.body);
        const h = up.last().headers;
        for (const [name, forged] of Object.entries(FORGED_HEADERS)) {
          assert.ok(!(h[name] ?? "").includes(forged), `${name}: the client's ${JSON.stringify(forged)} reached upstream as ${JSON.stringify(h[name])}`);
        }
        assert.equal(h["x-forwarded-host"], host, "the router sets x-forwarded-host");
      });
    }
  }
});
