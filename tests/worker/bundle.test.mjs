// The bundle CI deploys (build/dist, written by `wrangler deploy --dry-run` in scripts/bundle.sh)
// answers inside workerd like the build/ the other suites run: the artifact tested is the one shipped.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { buildDir } from "../support/router.mjs";
import { startPair, hsToken, bearer, ACME } from "./fixtures.mjs";

const dist = path.join(buildDir, "dist");
let pair;
before(async () => {
  assert.ok(fs.existsSync(path.join(dist, "entry.js")), `${dist}/entry.js is missing: run bash scripts/bundle.sh first`);
  pair = await startPair({ routerOptions: { buildDir: dist } });
});
after(async () => {
  await pair?.dispose();
});

test("the deployable bundle answers health, the tenant profile and a forwarded request", async () => {
  const health = await pair.router.request("acme.app.example", "/__router/health");
  assert.equal(health.status, 200, health.body);
  const profile = await pair.router.request("acme.app.example", "/__router/tenant");
  assert.equal(profile.json().slug, ACME.slug);
  pair.up.reset();
  const res = await pair.router.request("acme.app.example", "/rest/v1/contacts?select=*", { headers: bearer(hsToken(pair.up)) });
  assert.equal(res.status, 200, res.body);
  assert.equal(pair.up.last().headers["x-tenant-id"], ACME.id);
});
