#!/usr/bin/env node
// The router beside the rival (rival/entry.mjs, a JS Worker doing its whole job with WebCrypto) in
// a plain workerd, without Miniflare's entry Worker in front of every request: about 600 µs of CPU a
// request on these machines, moving by hundreds between rounds, which in cost.mjs buries the
// Workers' own cost in noise. Prints figures; asserts nothing.
//
//   node bench/worker/plain.mjs              (after `bash scripts/build-worker.sh`; `make bench` runs it)
//   PLAIN_REQUESTS=2000 PLAIN_ROUNDS=11 PLAIN_B=<another build dir> node bench/worker/plain.mjs
//
// One workerd (from npm, pinned to its own CPU) serves each Worker on its own 127.0.0.1 socket:
// the pass-through (passthrough.js), the same doing only the runtime work both Workers must do
// (header edits, deadline timer, log line: the floor under either), the router (build/), the rival,
// and with PLAIN_B a second router build for an A/B. Three token scenarios as in cost.mjs: HS256 and
// ES256 repeated (the router's token cache hits after the first request; the rival verifies every
// one) and ES256 with a new token each request. Rounds are interleaved and rotated; each ratio is
// computed per round and reported as the median over the rounds, with every round's figure.
//   CPU over the pass-through = workerd CPU per request of the Worker − that of the pass-through
//   CPU ratio                 = router's / rival's     [targets ≤ 1.0×; cached token ≤ 0.75×]
//   throughput ratio          = router's req/s / rival's                        [target ≥ 1.0×]

import path from "node:path";
import { buildDir, routerBuilt } from "../../tests/support/router.mjs";
import { startUpstream } from "../../tests/support/upstream.mjs";
import { TENANT, HOST, RIVAL_HOST, PATH, benchVars, benchToken, benchEs256Token, load, interleaved, pinCpus, median } from "./stack.mjs";
import { startPlainWorkerd, passthroughModules, routerModules, rivalModules } from "./plain-workerd.mjs";

const REQUESTS = Number(process.env.PLAIN_REQUESTS ?? 2000);
const ROUNDS = Math.max(5, Number(process.env.PLAIN_ROUNDS ?? 11));
const WARMUP = 200;
const CONCURRENCY = 16;
const B_DIR = process.env.PLAIN_B ? path.resolve(process.env.PLAIN_B) : null;
// V8 flags for the whole workerd (e.g. `--no-liftoff`: every wasm function optimised from the start).
const V8_FLAGS = (process.env.PLAIN_V8_FLAGS ?? "").split(" ").filter(Boolean);

const fmt = (x, d = 0) => (Number.isFinite(x) ? x.toFixed(d) : "n/a");
const list = (xs, d = 0) => xs.map((x) => fmt(x, d)).join(" ");

async function main() {
  if (!routerBuilt()) {
    console.error("build/ has no router: run `bash scripts/build-worker.sh` first");
    process.exit(1);
  }
  const up = await startUpstream({ tenants: [TENANT] });
  const vars = benchVars(up);
  const workers = {
    pass: { name: "pass", bindings: { UPSTREAM_URL: up.url }, modules: passthroughModules },
    work: { name: "passwork", bindings: { UPSTREAM_URL: up.url, LOG_LINE: "true", EDITS: "true", DEADLINE: "true" }, modules: passthroughModules },
    router: { name: "router", bindings: vars, modules: routerModules(buildDir) },
    rival: { name: "rival", bindings: { ...vars, BASE_DOMAINS: "rival.example" }, modules: rivalModules },
    ...(B_DIR ? { routerB: { name: "routerb", bindings: vars, modules: routerModules(B_DIR) } } : {}),
  };
  let wd;
  try {
    wd = await startPlainWorkerd(Object.values(workers), { v8Flags: V8_FLAGS });
    const hs = benchToken(up);
    const es = benchEs256Token(up);
    // A supply of tokens never seen, minted before the run: one per request of one Worker's rounds.
    let minted = 0;
    const fresh = () => {
      const tokens = Array.from({ length: (REQUESTS + WARMUP) * ROUNDS }, () => benchEs256Token(up, { jti: `p${minted++}` }));
      let i = 0;
      return () => tokens[i++];
    };
    const same = (t) => () => () => t;
    const scenarios = [
      ["HS256, cached tenant", same(hs), 0.75],
      ["ES256, repeated token", same(es), 0.75],
      ["ES256, new token each request", fresh, 1.0],
    ];
    // [label, worker, host, token supply]; the router, the rival (and B) for each scenario.
    const runs = [
      ["pass-through", workers.pass, HOST, () => hs],
      ["runtime work only", workers.work, HOST, () => hs],
    ];
    const at = scenarios.map(([name, supply]) => {
      const idx = { router: runs.length };
      runs.push([`router: ${name}`, workers.router, HOST, supply()]);
      idx.rival = runs.length;
      runs.push([`rival: ${name}`, workers.rival, RIVAL_HOST, supply()]);
      if (B_DIR) {
        idx.b = runs.length;
        runs.push([`router B: ${name}`, workers.routerB, HOST, supply()]);
      }
      return idx;
    });
    console.log(`the router beside the rival in a plain workerd: ${ROUNDS} rotated rounds of ${REQUESTS} requests per Worker and scenario (+${WARMUP} warm-up), concurrency ${CONCURRENCY}, GET ${PATH}`);
    console.log(pinCpus());
    const results = await interleaved(
      runs.length,
      ROUNDS,
      (i) => {
        const token = runs[i][3];
        return load(runs[i][1].base, runs[i][2], PATH, () => ({ authorization: `Bearer ${token()}` }), { n: REQUESTS, warmup: WARMUP, concurrency: CONCURRENCY });
      },
      { rotate: true },
    );
    for (let i = 0; i < runs.length; i++) {
      const statuses = results[i].total.statuses;
      if (Object.keys(statuses).some((s) => s !== "200")) console.log(`  !! ${runs[i][0]}: statuses ${JSON.stringify(statuses)}`);
    }
    const us = (i) => results[i].rounds.map((r) => r.workerdUs);
    const rps = (i) => results[i].rounds.map((r) => r.rps);
    const pass = us(0);
    const over = (i) => us(i).map((x, k) => x - pass[k]);
    console.log(`\npass-through: workerd CPU/request ${fmt(median(pass))} µs (rounds ${list(pass)}), ${fmt(median(rps(0)))} req/s`);
    console.log(`runtime work only (a JS Worker doing the header edits, the deadline and the log line): +${fmt(median(over(1)))} µs (rounds ${list(over(1))})`);
    for (let s = 0; s < scenarios.length; s++) {
      const { router: r, rival: j, b } = at[s];
      const cpu = over(r).map((x, k) => x / over(j)[k]);
      const tput = rps(r).map((x, k) => x / rps(j)[k]);
      const floor = over(1).map((x, k) => x / over(j)[k]);
      console.log(`\n${scenarios[s][0]}:`);
      console.log(`  router CPU over pass-through   median +${fmt(median(over(r)))} µs   rounds: ${list(over(r))}`);
      console.log(`  rival  CPU over pass-through   median +${fmt(median(over(j)))} µs   rounds: ${list(over(j))}`);
      console.log(`  CPU ratio router/rival         median ${fmt(median(cpu), 2)}×   rounds: ${list(cpu, 2)}   [target ≤ ${scenarios[s][2].toFixed(2)}×]`);
      console.log(`  throughput ratio router/rival  median ${fmt(median(tput), 2)}×   rounds: ${list(tput, 2)}   [target ≥ 1.00×]   (router ${fmt(median(rps(r)))} req/s, rival ${fmt(median(rps(j)))} req/s)`);
      console.log(`  runtime work only / rival      median ${fmt(median(floor), 2)}×   (the share of the rival's cost no implementation of the job avoids)`);
      if (B_DIR) {
        const d = us(b).map((x, k) => x - us(r)[k]);
        console.log(`  router B − router              median ${fmt(median(d))} µs   rounds: ${list(d)}`);
      }
    }
  } finally {
    wd?.stop();
    await up.dispose();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
