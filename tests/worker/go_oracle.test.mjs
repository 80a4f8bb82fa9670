// Differential: what the router forwarded, read by Go itself (tests/go-oracle/gotrue_view.go, built
// with Debian's golang-go: net/http's ParseForm/FormValue, net/url, encoding/json), the way GoTrue
// reads it. Guards redirects (one target, on the tenant) and invite-only/stamped bodies (Go's
// decoder sees create_user false and the router's tenant), and checks that the JS model of Go in
// gotrue_view.mjs, which the other security suites use, agrees with Go on every request seen here.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { HOSTS, UMBRELLA, ANON_KEY, startPair } from "./fixtures.mjs";
import { repoRoot } from "../support/router.mjs";
import { redirectCarriers } from "./gotrue_view.mjs";
import { attacks } from "./redirect_attacks.mjs";

const sb = { apikey: ANON_KEY, authorization: `Bearer ${ANON_KEY}` };

let oracle;

/** Build the oracle once; fail loudly (not skip) without Go: scripts/setup.sh installs golang-go. */
function buildOracle() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gotrue-view-"));
  const bin = path.join(dir, "gotrue-view");
  try {
    execFileSync("go", ["build", "-o", bin, path.join(repoRoot, "tests/go-oracle/gotrue_view.go")], {
      env: { ...process.env, GO111MODULE: "off", GOFLAGS: "", GOCACHE: process.env.GOCACHE ?? path.join(os.tmpdir(), "gotrue-view-cache") },
      stdio: ["ignore", "pipe", "pipe"],
    });
  } catch (e) {
    assert.fail(`cannot build the Go oracle (install golang-go: bash scripts/setup.sh): ${e.stderr ?? e.message}`);
  }
  return bin;
}

/** Go's view of recorded upstream requests. */
function goView(recs) {
  const input = recs
    .map((rec) => {
      const headers = [];
      for (let i = 0; i < rec.rawHeaders.length; i += 2) headers.push([rec.rawHeaders[i], rec.rawHeaders[i + 1]]);
      return JSON.stringify({ method: rec.method, url: rec.url, headers, body_base64: rec.body.toString("base64") });
    })
    .join("\n");
  const r = spawnSync(oracle, [], { input: input + "\n", encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim().split("\n").map((l) => JSON.parse(l));
}

/** Every target GoTrue could take from Go's view (form values counted even where ParseForm failed). */
function goTargets(view, rec) {
  const readsJson = /^\/auth\/v1\/(verify|sso)\/?$/.test(rec.path);
  return [view.redirect_header, ...view.redirect_form, view.referer, readsJson ? view.json_redirect_to : ""].filter((v) => v !== "");
}

describe("the router's output read by Go", () => {
  let up, router, pair;
  before(async () => {
    oracle = buildOracle();
    pair = await startPair();
    ({ up, router } = pair);
  });
  after(async () => {
    await pair?.dispose();
  });

  for (const { label, host } of HOSTS) {
    const own = `http://${host}/welcome`;
    test(`${label}: every redirect attack leaves Go at most one target, on the tenant, and the JS model agrees with Go`, async () => {
      const seen = [];
      for (const a of attacks(own)) {
        up.reset();
        const res = await router.request(host, a.path, { method: a.method ?? "GET", headers: { ...sb, ...(a.headers ?? {}) }, body: a.body });
        if (up.forwarded().length === 0) {
          assert.ok(res.status >= 400 && res.status < 500, `${a.name}: ${res.status}`);
          continue;
        }
        seen.push([a, up.last()]);
      }
      assert.ok(seen.length > 0);
      const views = goView(seen.map(([, rec]) => rec));
      seen.forEach(([a, rec], i) => {
        const v = views[i];
        assert.equal(v.error, undefined, `${a.name}: ${v.error}`);
        const targets = [...new Set(goTargets(v, rec))];
        assert.ok(targets.length <= 1, `${a.name}: Go sees ${JSON.stringify(targets)}`);
        if (!a.none) assert.equal(targets.length, 1, `${a.name}: Go sees ${JSON.stringify(targets)}`);
        for (const t of targets) assert.ok([`http://${host}/`, own].includes(t), `${a.name}: Go sees ${t}`);
        // The JS model of Go that the other suites use reads the same targets.
        const model = [...new Set(redirectCarriers(rec, { json: /verify|sso/.test(rec.path) }).map(([, val]) => val))].sort();
        assert.deepEqual(model, [...targets].sort(), `${a.name}: model ${JSON.stringify(model)} vs Go ${JSON.stringify(targets)}`);
      });
    });
  }

  test("invite-only OTP: whatever spelling of create_user the client used, Go decodes create_user false and the router's tenant", async () => {
    const bodies = [
      '{"email":"new@example.com","create_user":true}',
      '{"email":"new@example.com","CREATE_USER":true}',
      '{"email":"new@example.com","Create_User":true}',
      '{"email":"new@example.com","create_u\u017fer":true}',
      '{"email":"new@example.com","\\u0063reate_user":true}',
      '{"phone":"+15555550100","cReAtE_uSeR":true,"data":{"tenant_id":"00000000-0000-4000-8000-000000000bad"}}',
      '{"email":"new@example.com","Data":{"tenant_id":"00000000-0000-4000-8000-000000000bad"}}',
    ];
    const recs = [];
    for (const body of bodies) {
      up.reset();
      const res = await router.request("umbrella.app.example", "/auth/v1/otp", { method: "POST", headers: { ...sb, "content-type": "application/json" }, body });
      if (up.forwarded().length === 0) {
        assert.equal(res.status, 400, `${body}: ${res.body}`);
        continue;
      }
      recs.push([body, up.last()]);
    }
    goView(recs.map(([, r]) => r)).forEach((v, i) => {
      assert.equal(v.json_ok, true, recs[i][0]);
      assert.equal(v.json_create_user, false, `${recs[i][0]} → ${recs[i][1].body}`);
      assert.equal(v.json_tenant_id, UMBRELLA.id, `${recs[i][0]} → ${recs[i][1].body}`);
    });
  });

  for (const { label, host, tenant } of HOSTS) {
    test(`${label}: sign-up bodies with Data/DATA keys — Go decodes the router's tenant`, async () => {
      const recs = [];
      for (const body of [
        '{"email":"x@example.com","password":"p","DATA":{"tenant_id":"00000000-0000-4000-8000-000000000bad"}}',
        '{"email":"x@example.com","password":"p","Data":{"tenant_id":"00000000-0000-4000-8000-000000000bad","full_name":"A"}}',
        '{"email":"x@example.com","password":"p","data":null}',
      ]) {
        up.reset();
        const res = await router.request(host, "/auth/v1/signup", { method: "POST", headers: { ...sb, "content-type": "application/json" }, body });
        assert.equal(res.status, 200, res.body);
        recs.push(up.last());
      }
      for (const v of goView(recs)) assert.equal(v.json_tenant_id, tenant.id);
    });

    test(`${label}: a form-typed JSON body keeps its JSON meaning for Go and gives Go's form reader nothing`, async () => {
      up.reset();
      const body = JSON.stringify({ email: "x@example.com", password: "p", pad: "&redirect_to=https://evil.example/&grant_type=id_token&" });
      const res = await router.request(host, "/auth/v1/signup", { method: "POST", headers: { ...sb, "content-type": "application/x-www-form-urlencoded" }, body });
      assert.equal(res.status, 200, res.body);
      const [v] = goView([up.last()]);
      assert.equal(v.json_ok, true);
      assert.equal(v.json_tenant_id, tenant.id);
      assert.deepEqual(v.redirect_form, []);
      assert.equal(v.grant_type, "");
      assert.equal(JSON.parse(up.last().body.toString("utf8")).pad, "&redirect_to=https://evil.example/&grant_type=id_token&");
    });
  }
});
