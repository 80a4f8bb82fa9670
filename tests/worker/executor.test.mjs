// The edge's own machinery in workerd (src/edge/executor.rs, parking.rs, promises.rs): how a
// request's task is woken, that a late callback cannot reach a reused entry, that an abandoned
// request's parked state is freed, and that many requests in flight at once never cross answers.
// Runs the machinery test build (build-machinery/: the router with `--features machinery` and
// tests/support/machinery-entry.mjs, whose /__machinery/* probes make and settle JS promises
// inside the isolate); `bash scripts/build-worker.sh` builds it beside build/.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import fs from "node:fs";
import path from "node:path";
import { ACME, GLOBEX, startPair, bearer, esToken, hsToken, sleep } from "./fixtures.mjs";
import { repoRoot, routerBuilt, buildDir as deployedDir } from "../support/router.mjs";

const buildDir = path.join(repoRoot, "build-machinery");

test("the deployable build carries none of the machinery probes", () => {
  const glue = fs.readFileSync(path.join(deployedDir, "index.js"), "utf8");
  assert.ok(glue.includes("handleFetch"), "build/index.js is the router's glue");
  assert.ok(!/machinery/i.test(glue), "build/index.js exports a machinery probe: built with --features machinery?");
});

describe("the edge's executor and parking table", () => {
  let pair;
  before(async () => {
    assert.ok(routerBuilt(buildDir), "build-machinery/ is missing: run `bash scripts/build-worker.sh`");
    pair = await startPair({ vars: { UPSTREAM_TIMEOUT_MS: "60000" }, routerOptions: { buildDir } });
  });
  after(() => pair?.dispose());

  const probe = async (name, query = "") => {
    const res = await pair.router.request("probe.invalid", `/__machinery/${name}${query}`);
    assert.equal(res.status, 200, `${name}: ${res.body}`);
    return res.json();
  };
  const nothingParked = async () => assert.deepEqual(await probe("parked"), { promises: 0, tasks: 0 }, "nothing left parked");

  test("a task awaiting a promise is woken by its fulfilment, and one awaiting a rejected promise gets the rejection", async () => {
    assert.deepEqual(await probe("promise"), { value: "from-promise" });
    const rejected = await probe("rejected");
    assert.match(rejected.error, /refused/);
    await nothingParked();
  });

  test("a task sleeping on the runtime's timer is woken by the timer", async () => {
    assert.deepEqual(await probe("timer", "?ms=20"), { value: "slept" });
    await nothingParked();
  });

  test("a task woken from Rust (another task's poll) runs after that poll, not inside it", async () => {
    assert.deepEqual(await probe("rust"), { received: true, deferred: true });
    await nothingParked();
  });

  test("a promise settling after its future was dropped finds nothing, even with its entry reused by another", async () => {
    assert.deepEqual(await probe("stale"), { value: "fresh", reused: true });
    await nothingParked();
  });

  test("a request the client abandons while the upstream holds it is freed by the sweep, and the router serves on", async () => {
    const { up, router } = pair;
    const held = [];
    up.route("/rest/v1/held", (rec, res) => held.push(res));
    const before = await probe("parked");
    await new Promise((resolve) => {
      const u = new URL(router.url);
      const req = http.request({ host: u.hostname, port: u.port, path: "/rest/v1/held", headers: { host: "acme.app.example" } });
      req.on("error", () => resolve());
      req.end();
      const waitForUpstream = async () => {
        while (held.length === 0) await sleep(10);
        req.destroy();
        resolve();
      };
      waitForUpstream();
    });
    // The request's task waits on the upstream fetch, which nothing will settle now.
    let parked = await probe("parked");
    for (let i = 0; i < 50 && parked.tasks === before.tasks; i++) parked = await probe("parked");
    assert.equal(parked.tasks, before.tasks + 1, `the abandoned request's task is parked: ${JSON.stringify(parked)}`);
    // Not abandoned yet by the sweep's bound: kept.
    assert.equal((await probe("sweep", "?after_ms=0")).swept, 0);
    // Past it: its task and the promise its future awaited are both freed.
    const swept = await probe("sweep", `?after_ms=${11 * 60 * 1000}`);
    assert.equal(swept.swept, 1);
    assert.deepEqual({ promises: swept.promises, tasks: swept.tasks }, { promises: 0, tasks: 0 });
    for (const res of held) res.destroy();
    const next = await router.request("acme.app.example", "/rest/v1/contacts");
    assert.equal(next.status, 200, next.body);
  });

  test("two hundred requests in flight at once, answered out of order, each get their own tenant's answer", async () => {
    const { up, router } = pair;
    // The upstream answers each request after its own delay, echoing what it was sent.
    up.route("/rest/v1/echo", (rec, res) => {
      const delay = Number(rec.searchParams.get("delay"));
      setTimeout(() => {
        const body = JSON.stringify({ id: rec.searchParams.get("id"), tenant: rec.headers["x-tenant-id"] });
        res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
        res.end(body);
      }, delay);
    });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
    const tenants = [ACME, GLOBEX];
    const n = 200;
    const answers = await Promise.all(
      Array.from({ length: n }, async (_, i) => {
        const tenant = tenants[i % 2];
        // Half wait on WebCrypto first (a new ES256 token each: tasks parked before the fetch),
        // half go straight to the upstream (HS256, cached after the first).
        const token = i % 4 < 2 ? esToken(up, { tenant_ids: [tenant.id], jti: `e${i}` }) : hsToken(up, { tenant_ids: [tenant.id] });
        const delay = (i * 37) % 50;
        const res = await router.request(`${tenant.slug}.app.example`, `/rest/v1/echo?id=${i}&delay=${delay}`, { headers: bearer(token), agent });
        return { i, tenant, res };
      }),
    );
    agent.destroy();
    for (const { i, tenant, res } of answers) {
      assert.equal(res.status, 200, `request ${i}: ${res.body}`);
      assert.deepEqual(res.json(), { id: String(i), tenant: tenant.id }, `request ${i} got another's answer`);
    }
    await nothingParked();
  });

  describe("the upstream header edits (edge/headers.rs and headers.js)", () => {
    const edit = async (edits, headers = {}) => {
      const res = await pair.router.request("probe.invalid", "/__machinery/edit-headers", { method: "POST", headers: { "x-keep": "kept", "x-drop": "dropped", ...headers }, body: JSON.stringify(edits) });
      assert.equal(res.status, 200, res.body);
      return res.json();
    };

    test("edits go across as lines in one call: removed, set (replacing every value) and appended, names without case", async () => {
      const { headers: got, error } = await edit([["-", "X-Drop", ""], ["=", "x-keep", "replaced"], ["+", "x-keep", "second"], ["=", "x-tenant-id", "t1"]]);
      assert.equal(error, undefined);
      assert.ok(!got.some(([k]) => k === "x-drop"), "removed");
      assert.equal(got.find(([k]) => k === "x-keep")?.[1], "replaced, second", "set then appended");
      assert.equal(got.find(([k]) => k === "x-tenant-id")?.[1], "t1");
    });

    test("an edit the runtime refuses stops the copy with an error naming the header", async () => {
      const { headers, error } = await edit([["=", "x-tenant-id", "t1"], ["=", "bad name", "v"]]);
      assert.equal(headers, undefined, "no headers when an edit is refused");
      assert.match(error, /^header bad name refused: /);
    });

    test("a value holding a line break cannot go as lines: the edits go one call each, and the runtime's refusal names the header", async () => {
      const { headers, error } = await edit([["=", "x-tenant-id", "t1"], ["=", "x-evil", "a\nx-tenant-id: t2"]]);
      assert.equal(headers, undefined, "the split value must not smuggle a header in");
      assert.match(error, /^header x-evil refused: /);
      const named = await edit([["-", "x-drop\nx-keep", ""]]);
      assert.equal(named.headers, undefined);
      assert.match(named.error, /^header x-drop\nx-keep refused: /);
    });
  });
});

