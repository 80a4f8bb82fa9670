// One host never changes another host's answer (SPEC §6 "Lookup keys"): a single-label Host equal
// to a tenant's slug is a custom-domain lookup, and shares neither a cache entry nor an in-flight
// lookup with `<slug>.<base>`.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { ACME, startPair, assertRouterError, sleep } from "./fixtures.mjs";

const supabaseDir = (extra = {}) => ({ vars: { TENANT_DIRECTORY: "supabase", ...extra } });

describe("lookup keys", () => {
  test("a custom-domain lookup of the bare slug does not put the slug host down (negative entry)", async () => {
    const { up, router, dispose } = await startPair(supabaseDir());
    try {
      for (const host of ["acme", "ACME", "acme."]) {
        assertRouterError(await router.request(host, "/rest/v1/contacts"), 404, "tenant_not_found");
      }
      const res = await router.request("acme.app.example", "/rest/v1/contacts");
      assert.equal(res.status, 200, res.body);
      assert.equal(up.last().headers["x-tenant-id"], ACME.id);
    } finally {
      await dispose();
    }
  });

  test("a custom-domain lookup of the bare slug does not replace the slug host's stale positive entry", async () => {
    const { up, router, dispose } = await startPair(supabaseDir({ DIRECTORY_TTL_S: "0" }));
    try {
      assert.equal((await router.request("acme.app.example", "/rest/v1/contacts")).status, 200);
      assertRouterError(await router.request("acme", "/rest/v1/contacts"), 404, "tenant_not_found");
      await sleep(50);
      for (let i = 0; i < 3; i++) {
        const res = await router.request("acme.app.example", "/rest/v1/contacts");
        assert.equal(res.status, 200, res.body);
      }
    } finally {
      await dispose();
    }
  });

  test("concurrent lookups of the bare slug and the slug host do not share one flight", async () => {
    const { up, router, dispose } = await startPair(supabaseDir());
    try {
      up.directoryDelayMs = 300;
      const [bare, slug] = await Promise.all([
        router.request("acme", "/rest/v1/contacts"),
        sleep(50).then(() => router.request("acme.app.example", "/rest/v1/contacts")),
      ]);
      assertRouterError(bare, 404, "tenant_not_found");
      assert.equal(slug.status, 200, slug.body);
      assert.equal(up.rpcCalls().length, 2, "one lookup per kind of key");
    } finally {
      await dispose();
    }
  });
});
