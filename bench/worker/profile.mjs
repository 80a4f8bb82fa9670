#!/usr/bin/env node
// Where the router's time goes inside workerd: drives one benchmark scenario while V8's sampling
// profiler runs through the inspector, then prints self and inclusive time per function.
//
//   make profile                                   (builds build-profile/ with function names, then runs this)
//   PROFILE_SCENARIO=b|c-new|c-repeat|rival-b|rival-c-repeat|a|a-work|verify-es256|verify-hs256 PROFILE_REQUESTS=3000 \
//     node --experimental-websocket bench/worker/profile.mjs
//
// PROFILE_DUMP=/tmp/x.cpuprofile also writes the raw profile (opens in Chrome DevTools).
// A profiling build keeps the wasm name section (no strip, no wasm-opt), so figures are relative:
// they show which functions dominate, not what the release build costs.

import fs from "node:fs";
import path from "node:path";
import { repoRoot, routerBuilt } from "../../tests/support/router.mjs";
import { startBenchStack, load, freePort, HOST, PASS_HOST, PASS_WORK_HOST, RIVAL_HOST, VERIFY_HOST, PATH } from "./stack.mjs";
import { connect } from "./inspector.mjs";

const VERIFY_PATH = "/__router/bench/verify?n=200";

const SCENARIO = process.env.PROFILE_SCENARIO ?? "b";
const REQUESTS = Number(process.env.PROFILE_REQUESTS ?? 3000);
const SAMPLE_US = 50;
const TOP = Number(process.env.PROFILE_TOP ?? 35);
const buildDir = path.resolve(repoRoot, process.env.PROFILE_BUILD_DIR ?? "build-profile");

/** Self and inclusive sample counts per function (recursion counted once per stack). */
function aggregate(profile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const name = (n) => {
    const f = n.callFrame;
    const file = f.url ? path.basename(f.url) : "";
    return `${f.functionName || "(anonymous)"}${file ? ` [${file}]` : ""}`;
  };
  const self = new Map();
  const incl = new Map();
  let total = 0;
  for (const n of profile.nodes) {
    const hits = n.hitCount ?? 0;
    if (!hits) continue;
    total += hits;
    self.set(name(n), (self.get(name(n)) ?? 0) + hits);
    const seen = new Set();
    for (let id = n.id; id !== undefined; id = parent.get(id)) {
      const k = name(byId.get(id));
      if (seen.has(k)) continue;
      seen.add(k);
      incl.set(k, (incl.get(k) ?? 0) + hits);
    }
  }
  return { self, incl, total };
}

function printTop(title, map, total) {
  console.log(`\n${title}`);
  for (const [k, v] of [...map].sort((a, b) => b[1] - a[1]).slice(0, TOP)) {
    console.log(`  ${((100 * v) / total).toFixed(1).padStart(5)} %  ${k}`);
  }
}

async function main() {
  if (!routerBuilt(buildDir)) {
    console.error(`${buildDir} has no router: build it with \`make profile\``);
    process.exit(1);
  }
  const inspectorPort = await freePort();
  const stack = await startBenchStack({ buildDir, shared: { inspectorPort } });
  try {
    const es = stack.es256();
    const hs = stack.hs256();
    let k = 0;
    const scenarios = {
      a: [PASS_HOST, PATH, () => ({ authorization: `Bearer ${hs}` })],
      // (a''): the pass-through doing the router's runtime work in JS.
      "a-work": [PASS_WORK_HOST, PATH, () => ({ authorization: `Bearer ${hs}` })],
      b: [HOST, PATH, () => ({ authorization: `Bearer ${hs}` })],
      // The JS rival doing the router's whole job (rival/entry.mjs), for the same scenarios.
      "rival-b": [RIVAL_HOST, PATH, () => ({ authorization: `Bearer ${hs}` })],
      "rival-c-repeat": [RIVAL_HOST, PATH, () => ({ authorization: `Bearer ${es}` })],
      "c-new": [HOST, PATH, () => ({ authorization: `Bearer ${stack.es256({ jti: `p${k++}` })}` })],
      "c-repeat": [HOST, PATH, () => ({ authorization: `Bearer ${es}` })],
      // The uncached verification loop (200 per request).
      "verify-es256": [HOST, VERIFY_PATH, () => ({ authorization: `Bearer ${es}` }), "POST"],
      "verify-hs256": [HOST, VERIFY_PATH, () => ({ authorization: `Bearer ${hs}` }), "POST"],
      // The same loop in the JS WebCrypto reference Worker (whole-token verification).
      "verify-js-es256": [VERIFY_HOST, "/verify-token?n=200", () => ({ authorization: `Bearer ${es}` }), "POST"],
      "verify-js-hs256": [VERIFY_HOST, "/verify-token?n=200", () => ({ authorization: `Bearer ${hs}` }), "POST"],
    };
    const [host, path_, headersFor, method = "GET"] = scenarios[SCENARIO] ?? [];
    if (!host) throw new Error(`unknown PROFILE_SCENARIO ${SCENARIO}`);
    const requests = method === "POST" ? Math.ceil(REQUESTS / 50) : REQUESTS;
    await load(stack.base, host, path_, headersFor, { n: Math.min(300, requests), concurrency: 16, method });

    const targets = await (await fetch(`http://127.0.0.1:${inspectorPort}/json/list`)).json();
    const worker =
      { a: "passthrough", "a-work": "passthrough-work" }[SCENARIO] ??
      (SCENARIO.startsWith("verify-js") ? "verify-js" : SCENARIO.startsWith("rival") ? "rival" : "tenant-router");
    const target = targets.find((t) => t.title?.endsWith(`:${worker}`)) ?? targets[0];
    const cdp = await connect(target.webSocketDebuggerUrl);
    await cdp.send("Profiler.enable");
    await cdp.send("Profiler.setSamplingInterval", { interval: SAMPLE_US });
    await cdp.send("Profiler.start");
    const r = await load(stack.base, host, path_, headersFor, { n: requests, concurrency: 16, method });
    const { profile } = await cdp.send("Profiler.stop");
    cdp.close();

    const { self, incl, total } = aggregate(profile);
    if (process.env.PROFILE_DUMP) fs.writeFileSync(process.env.PROFILE_DUMP, JSON.stringify(profile));
    const idle = (self.get("(idle)") ?? 0) + (self.get("(program)") ?? 0);
    console.log(`scenario ${SCENARIO} on ${target.title}: ${requests} ${method} requests, ${r.rps.toFixed(0)} req/s under the profiler, statuses ${JSON.stringify(r.statuses)}`);
    console.log(`${total} samples; (idle)+(program) ${((100 * idle) / total).toFixed(1)} %; the rest is ${(((total - idle) * SAMPLE_US) / requests).toFixed(0)} µs per request`);
    const share = (test) => [...self].filter(([k]) => test(k)).reduce((n, [, v]) => n + v, 0);
    const wasm = share((k) => k.includes(".wasm"));
    const glue = share((k) => k.includes("[index.js]"));
    console.log(`self time in wasm ${((100 * wasm) / total).toFixed(1)} %, in wasm-bindgen JS glue ${((100 * glue) / total).toFixed(1)} %, elsewhere (runtime builtins, GC, idle) ${((100 * (total - wasm - glue)) / total).toFixed(1)} %`);
    printTop("self time", self, total);
    printTop("inclusive time", incl, total);
  } finally {
    await stack.dispose();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
