#!/usr/bin/env node
// The router's cost beside a JS Worker doing the same whole job (issue 13): prints figures,
// asserts nothing about time.
//
//   node bench/worker/cost.mjs          (after `bash scripts/build-worker.sh`; `make bench` runs it)
//   COST_REQUESTS=150 COST_ROUNDS=21 COST_CONCURRENCY=16 COST_COLD=5 node bench/worker/cost.mjs
//
// One workerd (Miniflare) pinned to its own CPU holds the pass-through Worker (passthrough.js),
// the router (build/) and the rival (rival/entry.mjs: host → tenant from the same static
// directory, the token checks with WebCrypto, the header edits, the deadline, the log line). Each
// round runs every scenario once, in turn (interleaved), so drift falls on all alike; each ratio
// is computed per round and reported as the median over the rounds, with every round's figure.
// Each round starts one Worker further on, so none always runs first or right after another.
//   CPU over the pass-through = workerd CPU per request of the Worker − that of the pass-through
//   CPU ratio                 = router's CPU over the pass-through / the rival's   [targets ≤ 1.0×; cached token ≤ 0.75×]
//   throughput ratio          = router's req/s / the rival's                        [target ≥ 1.0×]
// With build-std/ present (`bash scripts/build-worker.sh --release --out-dir build-std --features
// std-futures`), the router on wasm-bindgen-futures runs too, beside the hand-written executor:
//   hand-written saving       = std build's CPU over the pass-through − the release build's
// Isolate time: workerd's process CPU carries every Worker's share and Miniflare's own (~500 µs a
// request here, moving by hundreds between rounds on a shared machine), so the same rounds are run
// again (COST_ISO_ROUNDS) with V8's sampling profiler on the one Worker's isolate: its busy time
// per request (JS, wasm, the runtime's builtins and GC it ran; not workerd's own event loop and
// I/O, which the profile cannot attribute to one Worker), less the pass-through's.
// Cold start: a new workerd holding only that Worker, from its start to the first answered request
// (workerd's own start + module compile + instantiate + the first request's configuration),
// median of COST_COLD starts, beside the pass-through's and the rival's; and the wasm's size.

import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { routerBuilt, buildDir, startWorkers, routerWorkerOptions, jsWorkerOptions, compatFromWranglerToml, httpRequest } from "../../tests/support/router.mjs";
import { startUpstream } from "../../tests/support/upstream.mjs";
import { busyUs, sampled } from "./inspector.mjs";
import { startBenchStack, freePort, load, interleaved, HOST, PASS_HOST, RIVAL_HOST, STD_HOST, PATH, TENANT, benchVars, rivalWorkerOptions, stdBuilt, median } from "./stack.mjs";

const REQUESTS = Number(process.env.COST_REQUESTS ?? 150);
const ROUNDS = Math.max(5, Number(process.env.COST_ROUNDS ?? 21));
const CONCURRENCY = Number(process.env.COST_CONCURRENCY ?? 16);
const COLD = Math.max(5, Number(process.env.COST_COLD ?? 5));
const WARMUP = Math.ceil(REQUESTS / 10);
const ISO_ROUNDS = Math.max(5, Number(process.env.COST_ISO_ROUNDS ?? 7));
const SAMPLE_US = 100;

const fmt = (x, d = 0) => (Number.isFinite(x) ? x.toFixed(d) : "n/a");
const list = (xs, d) => xs.map((x) => fmt(x, d)).join(" ");

async function main() {
  if (!routerBuilt()) {
    console.error("build/ has no router: run `bash scripts/build-worker.sh` first");
    process.exit(1);
  }
  const inspectorPort = await freePort();
  const stack = await startBenchStack({ shared: { inspectorPort } });
  let results;
  const scenarioNames = [];
  try {
    const hs = stack.hs256();
    const es = stack.es256();
    // Fresh ES256 tokens, minted before the run; one supply per Worker, so neither sees a token twice.
    const supply = (tag) => {
      const tokens = Array.from({ length: (REQUESTS + WARMUP) * ROUNDS }, (_, i) => stack.es256({ jti: `${tag}${i}`, session_id: `s${tag}${i}` }));
      let i = 0;
      return () => tokens[i++ % tokens.length];
    };
    const freshRouter = supply("r");
    const freshRival = supply("j");
    const freshStd = supply("s");
    const withStd = stdBuilt();
    const bearer = (t) => () => ({ authorization: `Bearer ${t()}` });
    const scenarios = [
      ["HS256, cached tenant", () => hs, () => hs, () => hs],
      ["ES256, repeated token", () => es, () => es, () => es],
      ["ES256, new token each request", freshRouter, freshRival, freshStd],
    ];
    // Run order within a round: pass-through, then router and rival for each scenario.
    const runs = [["pass-through", PASS_HOST, bearer(() => hs), "passthrough"]];
    const stride = withStd ? 3 : 2;
    for (const [name, forRouter, forRival, forStd] of scenarios) {
      scenarioNames.push(name);
      runs.push([`router: ${name}`, HOST, bearer(forRouter), "tenant-router"], [`rival: ${name}`, RIVAL_HOST, bearer(forRival), "rival"]);
      if (withStd) runs.push([`router on wasm-bindgen-futures: ${name}`, STD_HOST, bearer(forStd), "router-std"]);
    }
    // Both ES256 scenarios but the last hit the verified-token cache: ≤ 0.75× is their target.
    const targets = [0.75, 0.75, 1.0];
    console.log(`router vs a JS Worker doing its whole job: ${ROUNDS} interleaved rounds of ${REQUESTS} requests per Worker and scenario (+${WARMUP} warm-up), concurrency ${CONCURRENCY}, GET ${PATH}`);
    console.log(stack.pinned);
    const loadOf = (i) => load(stack.base, runs[i][1], PATH, runs[i][2], { n: REQUESTS, warmup: WARMUP, concurrency: CONCURRENCY });
    results = await interleaved(runs.length, ROUNDS, loadOf, { rotate: true });
    for (let i = 0; i < runs.length; i++) {
      const statuses = results[i].total.statuses;
      if (Object.keys(statuses).some((s) => s !== "200")) console.log(`  !! ${runs[i][0]}: statuses ${JSON.stringify(statuses)}`);
    }
    const per = (i) => results[i].rounds.map((r) => r.runs[0]);
    const us = (r) => (r.workerdCpu * 1e6) / r.n;
    const rps = (r) => r.n / r.secs;
    const pass = per(0);
    console.log("");
    console.log(`pass-through: workerd CPU/request per round (µs) ${list(pass.map(us))}; median ${fmt(median(pass.map(us)))} µs, ${fmt(median(pass.map(rps)))} req/s`);
    console.log("");
    for (let s = 0; s < scenarios.length; s++) {
      const router = per(1 + stride * s);
      const rival = per(2 + stride * s);
      const overRouter = router.map((r, k) => us(r) - us(pass[k]));
      const overRival = rival.map((r, k) => us(r) - us(pass[k]));
      const cpuRatio = overRouter.map((x, k) => x / overRival[k]);
      const tputRatio = router.map((r, k) => rps(r) / rps(rival[k]));
      console.log(`${scenarios[s][0]}:`);
      console.log(`  router CPU over pass-through   median +${fmt(median(overRouter))} µs   rounds: ${list(overRouter)}`);
      console.log(`  rival  CPU over pass-through   median +${fmt(median(overRival))} µs   rounds: ${list(overRival)}`);
      console.log(`  CPU ratio router/rival         median ${fmt(median(cpuRatio), 2)}×   rounds: ${list(cpuRatio, 2)}   [target ≤ ${targets[s].toFixed(2)}×]`);
      console.log(`  throughput ratio router/rival  median ${fmt(median(tputRatio), 2)}×   rounds: ${list(tputRatio, 2)}   [target ≥ 1.00×]   (router ${fmt(median(router.map(rps)))} req/s, rival ${fmt(median(rival.map(rps)))} req/s)`);
      if (withStd) {
        const std = per(3 + stride * s);
        const saving = std.map((r, k) => us(r) - us(router[k]));
        const tput = router.map((r, k) => rps(r) / rps(std[k]));
        console.log(`  hand-written executor saves    median ${fmt(median(saving))} µs/request over wasm-bindgen-futures   rounds: ${list(saving)}; throughput ${fmt(median(tput), 2)}×`);
      }
    }

    console.log("");
    console.log(`isolate time per request (V8 sampling profiler on each Worker's own isolate, every ${SAMPLE_US} µs; ${ISO_ROUNDS} interleaved rounds of ${REQUESTS}):`);
    const isoRuns = await interleaved(
      runs.length,
      ISO_ROUNDS,
      async (i) => busyUs((await sampled(inspectorPort, runs[i][3], SAMPLE_US, () => loadOf(i))).profile, SAMPLE_US) / REQUESTS,
      { rotate: true },
    );
    const iso = isoRuns.map((x) => x.rounds);
    console.log(`  pass-through: ${fmt(median(iso[0]))} µs (rounds: ${list(iso[0])})`);
    for (let s = 0; s < scenarios.length; s++) {
      const over = (i) => iso[i].map((x, k) => x - iso[0][k]);
      const router = over(1 + stride * s);
      const rival = over(2 + stride * s);
      const ratio = router.map((x, k) => x / rival[k]);
      console.log(`  ${scenarios[s][0]}: router +${fmt(median(router))} µs (rounds: ${list(router)}), rival +${fmt(median(rival))} µs (rounds: ${list(rival)}); ratio median ${fmt(median(ratio), 2)}× (rounds: ${list(ratio, 2)}) [target ≤ ${targets[s].toFixed(2)}×]`);
      if (withStd) {
        const std = over(3 + stride * s);
        const saving = std.map((x, k) => x - router[k]);
        console.log(`    wasm-bindgen-futures build +${fmt(median(std))} µs: the hand-written executor saves ${fmt(median(saving))} µs (rounds: ${list(saving)})`);
      }
    }
  } finally {
    await stack.dispose();
  }

  console.log("");
  console.log(`cold start: a new workerd with one Worker, start to first answered request (median of ${COLD}; ms):`);
  const up = await startUpstream({ tenants: [TENANT] });
  try {
    const vars = benchVars(up);
    const compat = compatFromWranglerToml();
    const passthrough = fs.readFileSync(path.join(path.dirname(new URL(import.meta.url).pathname), "passthrough.js"), "utf8");
    const kinds = [
      ["pass-through", () => jsWorkerOptions(passthrough, { UPSTREAM_URL: up.url }, { name: "passthrough", compatibilityFlags: compat.flags }), "pass.bench"],
      ["router", () => routerWorkerOptions(vars), HOST],
      ["rival", () => rivalWorkerOptions(vars, compat), RIVAL_HOST],
    ];
    const times = kinds.map(() => []);
    const first = kinds.map(() => []);
    const second = kinds.map(() => []);
    const headers = { authorization: `Bearer ${stackToken(vars)}` };
    for (let r = 0; r < COLD; r++) {
      for (let k = 0; k < kinds.length; k++) {
        const t0 = process.hrtime.bigint();
        const wd = await startWorkers([kinds[k][1]()], { keepLogs: false });
        const t1 = process.hrtime.bigint();
        const res = await httpRequest(wd.url, kinds[k][2], PATH, { headers });
        const t2 = process.hrtime.bigint();
        await httpRequest(wd.url, kinds[k][2], PATH, { headers });
        const t3 = process.hrtime.bigint();
        times[k].push(Number(t2 - t0) / 1e6);
        first[k].push(Number(t2 - t1) / 1e6);
        second[k].push(Number(t3 - t2) / 1e6);
        await wd.dispose();
        if (res.status !== 200) console.log(`  !! ${kinds[k][0]}: first answer ${res.status} ${res.body.slice(0, 200)}`);
      }
    }
    for (let k = 0; k < kinds.length; k++) {
      console.log(`  ${kinds[k][0].padEnd(14)} start → first answer median ${fmt(median(times[k]))} ms (runs: ${list(times[k])}); the first request alone ${fmt(median(first[k]), 1)} ms, the second ${fmt(median(second[k]), 1)} ms`);
    }
    console.log(`  router − pass-through ${fmt(median(times[1]) - median(times[0]))} ms; rival − pass-through ${fmt(median(times[2]) - median(times[0]))} ms (workerd's own start is most of each figure, and its noise)`);
  } finally {
    await up.dispose();
  }
  for (const f of fs.readdirSync(buildDir).filter((f) => f.endsWith(".wasm"))) {
    const buf = fs.readFileSync(path.join(buildDir, f));
    const compiles = [];
    for (let r = 0; r < COLD; r++) {
      const t = process.hrtime.bigint();
      await WebAssembly.compile(buf);
      compiles.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
    console.log(`  build/${f}: compile alone in this Node's V8 (workerd's engine) median ${fmt(median(compiles), 1)} ms (runs: ${list(compiles, 1)})`);
    console.log(`  build/${f}: ${fmt(buf.length / 1024, 1)} KiB raw, ${fmt(zlib.gzipSync(buf, { level: 9 }).length / 1024, 1)} KiB gzip -9`);
  }
}

/** The anon key the router is configured with: a valid HS256 token for the first request. */
function stackToken(vars) {
  return vars.SUPABASE_ANON_KEY;
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
