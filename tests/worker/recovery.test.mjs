// The Worker keeps serving after its wasm instance traps: the entry module (src/entry.mjs) calls
// the wasm export directly, and the generated glue must re-instantiate the module on the next call.
// The trap comes from the bench-only endpoint; no request input reaches a panic otherwise.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { ACME, startPair, hsToken, bearer } from "./fixtures.mjs";

describe("recovery after a wasm trap", () => {
  let up, router, pair;
  before(async () => {
    pair = await startPair({ vars: { BENCH_ENDPOINTS: "true" } });
    ({ up, router } = pair);
  });
  after(async () => {
    await pair?.dispose();
  });

  test("a trapped request fails alone: the next requests are answered and forwarded as before", async () => {
    const token = hsToken(up);
    const before = await router.request("acme.app.example", "/rest/v1/contacts", { headers: bearer(token) });
    assert.equal(before.status, 200, before.body);

    for (let round = 0; round < 2; round++) {
      const trapped = await router.request("acme.app.example", "/__router/bench/trap", { method: "POST" });
      assert.ok(trapped.status >= 500, `the trapping request itself fails: ${trapped.status}`);
      up.reset();
      for (let i = 0; i < 3; i++) {
        const res = await router.request("acme.app.example", `/rest/v1/contacts?round=${round}&i=${i}`, { headers: bearer(token) });
        assert.equal(res.status, 200, `round ${round}, request ${i} after the trap: ${res.status} ${res.body}`);
      }
      assert.equal(up.requests.length, 3, "every request after the trap reached the upstream");
      assert.equal(up.requests[0].headers["x-tenant-id"], ACME.id, "the re-instantiated router still sets the tenant");
    }
  });

  test("the trap endpoint does not exist without BENCH_ENDPOINTS", async () => {
    const plain = await startPair();
    try {
      const res = await plain.router.request("acme.app.example", "/__router/bench/trap", { method: "POST" });
      assert.equal(res.status, 404, res.body);
    } finally {
      await plain.dispose();
    }
  });
});
