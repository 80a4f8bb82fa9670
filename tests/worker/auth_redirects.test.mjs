// Auth redirects stay on the tenant's hosts whatever carries them (SPEC §1.4, §6 "Redirects"):
// the `redirect_to` header, query keys after percent-decoding, url-encoded bodies (a JSON body
// served with a form content type included), JSON bodies of /verify and /sso, and Referer. After
// the router, every carrier GoTrue reads holds one and the same target, on one of the tenant's hosts.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { HOSTS, ANON_KEY, startPair, assertRouterError } from "./fixtures.mjs";
import { redirectCarriers } from "./gotrue_view.mjs";
import { EVIL, FORM, enc, attacks } from "./redirect_attacks.mjs";

const sb = { apikey: ANON_KEY, authorization: `Bearer ${ANON_KEY}` };

describe("auth redirects whatever carries them", () => {
  let up, router, pair;
  before(async () => {
    pair = await startPair();
    ({ up, router } = pair);
  });
  after(async () => {
    await pair?.dispose();
  });

  for (const { label, host } of HOSTS) {
    const origin = `http://${host}/`;
    const own = `http://${host}/welcome`;
    for (const a of attacks(own)) {
      test(`${label}: ${a.name} → GoTrue sees exactly one target, on the tenant (or a 4xx and nothing forwarded)`, async () => {
        up.reset();
        const res = await router.request(host, a.path, {
          method: a.method ?? "GET",
          headers: { ...sb, ...(a.headers ?? {}) },
          body: a.body,
        });
        if (res.status >= 400 && res.status < 500 && up.forwarded().length === 0) {
          assertRouterError(res, res.status, res.json().code, { auth: true });
          return;
        }
        assert.equal(res.status, 200, res.body);
        const rec = up.last();
        const seen = redirectCarriers(rec, { json: a.json });
        const targets = [...new Set(seen.map(([, v]) => v))];
        if (a.none && targets.length === 0) return;
        assert.equal(targets.length, 1, `exactly one target, got ${JSON.stringify(seen)}`);
        assert.ok([origin, own].includes(targets[0]), `target on the tenant's host, got ${JSON.stringify(seen)}`);
        assert.ok(!JSON.stringify(seen).includes("evil.example"), `nothing of the attacker's target: ${JSON.stringify(seen)}`);
      });
    }

    test(`${label}: an allowed target in the redirect_to header or Referer is kept as the one target`, async () => {
      for (const headers of [{ redirect_to: own }, { referer: own }]) {
        up.reset();
        const res = await router.request(host, "/auth/v1/authorize?provider=github", { headers: { ...sb, ...headers } });
        assert.equal(res.status, 200, res.body);
        const seen = redirectCarriers(up.last());
        assert.deepEqual([...new Set(seen.map(([, v]) => v))], [own], JSON.stringify(seen));
      }
    });

    test(`${label}: a url-encoded body keeps its other fields byte for byte`, async () => {
      up.reset();
      const res = await router.request(host, "/auth/v1/recover", {
        method: "POST",
        headers: { ...sb, "content-type": FORM },
        body: `email=a%40example.com&redirect_to=${enc(EVIL)}&x=%7E+y`,
      });
      assert.equal(res.status, 200, res.body);
      const body = up.last().body.toString("latin1");
      assert.ok(body.includes("email=a%40example.com"), body);
      assert.ok(body.includes("x=%7E+y"), body);
      assert.ok(!body.includes("evil"), body);
    });

    test(`${label}: a request with no redirect carrier gets none added`, async () => {
      up.reset();
      const res = await router.request(host, "/auth/v1/authorize?provider=github", { headers: sb });
      assert.equal(res.status, 200, res.body);
      assert.deepEqual(redirectCarriers(up.last()), []);
      assert.equal(up.last().url, "/auth/v1/authorize?provider=github");
    });
  }

  test("JSON body with two keys that decode to redirect_to (exact duplicates or case variants) → 400 invalid_body, nothing forwarded", async () => {
    for (const body of [
      '{"type":"signup","token":"1","email":"a@example.com","redirect_to":"http://acme.app.example/","redirect_to":"https://evil.example/"}',
      '{"type":"signup","token":"1","email":"a@example.com","redirect_to":"http://acme.app.example/","Redirect_To":"https://evil.example/"}',
    ]) {
      up.reset();
      const res = await router.request("acme.app.example", "/auth/v1/verify", {
        method: "POST",
        headers: { ...sb, "content-type": "application/json" },
        body,
      });
      assertRouterError(res, 400, "invalid_body", { auth: true });
      assert.equal(up.forwarded().length, 0);
    }
  });
});
