#!/usr/bin/env node
// Where workerd's CPU goes, its own native code included: `perf record` on a plain workerd serving
// the router and the rival, one Worker at a time in alternating rounds, then the samples per
// function in µs per request, the router beside the rival. profile.mjs sees only what runs under
// the isolate's JS and wasm frames; this sees the rest too (the runtime's C++, BoringSSL, the
// kernel), which is where the isolate profile and workerd's CPU disagree. JIT code is named through
// V8's `--perf-basic-prof` map: a build that keeps function names names the wasm's functions too.
// Prints figures; asserts nothing. Needs Linux `perf` (Debian: `apt-get install linux-perf`); not
// part of `make bench`.
//
//   bash scripts/build-worker.sh --profile profiling --out-dir build-perf   (optimised, names kept)
//   PERF_BUILD_DIR=build-perf PERF_SCENARIO=new|repeated|hs256 PERF_REQUESTS=6000 node bench/worker/perf.mjs

import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execFileSync, spawn } from "node:child_process";
import { repoRoot } from "../../tests/support/router.mjs";
import { startUpstream } from "../../tests/support/upstream.mjs";
import { TENANT, HOST, RIVAL_HOST, PATH, benchVars, benchToken, benchEs256Token, load, pinCpus } from "./stack.mjs";
import { startPlainWorkerd, routerModules, rivalModules } from "./plain-workerd.mjs";

const SCENARIO = process.env.PERF_SCENARIO ?? "new";
const REQUESTS = Number(process.env.PERF_REQUESTS ?? 6000);
const ROUNDS = 3;
const HZ = 1000;
const TOP = Number(process.env.PERF_TOP ?? 30);
const build = path.resolve(repoRoot, process.env.PERF_BUILD_DIR ?? "build");

/** Samples per symbol (`dso  symbol`) of one recording, and their total. */
function report(file) {
  const out = execFileSync("perf", ["report", "-i", file, "--no-children", "-n", "--sort", "dso,sym", "--stdio"], { encoding: "utf8", maxBuffer: 64 << 20, stdio: ["ignore", "pipe", "ignore"] });
  let total = 0;
  const bySymbol = new Map();
  for (const line of out.split("\n")) {
    const m = /^\s+[\d.]+%\s+(\d+)\s+(.+?)\s+\[[.k]\]\s+(.*)$/.exec(line);
    if (!m) continue;
    // V8 names a function's code per compilation ("…-203-turbofan"); hashes and indexes differ by build.
    const dso = m[2].startsWith("[JIT]") ? "[JIT]" : m[2];
    const sym = m[3].replace(/::h[0-9a-f]{16}/g, "").replace(/-\d+-(turbofan|liftoff|maglev|sparkplug)$/, " ($1)");
    const key = `${dso}  ${sym}`;
    const n = Number(m[1]);
    total += n;
    bySymbol.set(key, (bySymbol.get(key) ?? 0) + n);
  }
  return { total, bySymbol };
}

async function main() {
  try {
    execFileSync("perf", ["--version"], { stdio: "ignore" });
  } catch {
    console.error("perf.mjs needs Linux perf: apt-get install linux-perf");
    process.exit(1);
  }
  const up = await startUpstream({ tenants: [TENANT] });
  const vars = benchVars(up);
  const router = { name: "router", bindings: vars, modules: routerModules(build) };
  const rival = { name: "rival", bindings: { ...vars, BASE_DOMAINS: "rival.example" }, modules: rivalModules };
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "tenant-router-perf-"));
  let wd;
  try {
    wd = await startPlainWorkerd([router, rival], { v8Flags: ["--perf-basic-prof"] });
    console.log(pinCpus());
    let minted = 0;
    const fresh = () => benchEs256Token(up, { jti: `f${minted++}` });
    const tokenFor = { new: fresh, repeated: ((t) => () => t)(benchEs256Token(up)), hs256: ((t) => () => t)(benchToken(up)) }[SCENARIO];
    if (!tokenFor) throw new Error(`PERF_SCENARIO is new, repeated or hs256, not ${SCENARIO}`);
    const run = async (w, host, n, file) => {
      const tokens = Array.from({ length: n }, () => tokenFor());
      const rec = file ? spawn("perf", ["record", "-e", "cpu-clock", "-F", String(HZ), "-p", String(wd.pid), "-o", file], { stdio: "ignore" }) : null;
      if (rec) await new Promise((r) => setTimeout(r, 300));
      const r = await load(w.base, host, PATH, (i) => ({ authorization: `Bearer ${tokens[i]}` }), { n, concurrency: 16 });
      if (rec) {
        rec.kill("SIGINT");
        await new Promise((r) => rec.on("exit", r));
      }
      return r;
    };
    // Warm both (wasm tier-up; with new tokens the router's token cache full, as in a long-lived isolate).
    for (const [w, host] of [[router, HOST], [rival, RIVAL_HOST]]) {
      const tokens = Array.from({ length: 5000 }, fresh);
      await load(w.base, host, PATH, (i) => ({ authorization: `Bearer ${tokens[i]}` }), { n: 5000, concurrency: 16 });
    }
    const sums = { router: new Map(), rival: new Map() };
    const totals = { router: 0, rival: 0 };
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, w, host] of [["router", router, HOST], ["rival", rival, RIVAL_HOST]]) {
        const file = path.join(work, `${name}-${round}.data`);
        const r = await run(w, host, REQUESTS, file);
        const { total, bySymbol } = report(file);
        totals[name] += total;
        for (const [k, v] of bySymbol) sums[name].set(k, (sums[name].get(k) ?? 0) + v);
        console.log(`round ${round + 1} ${name.padEnd(6)} workerd CPU ${r.workerdUs.toFixed(0)} µs/request, ${r.rps.toFixed(0)} req/s, statuses ${JSON.stringify(r.statuses)}`);
      }
    }
    // A sample is 1/HZ s of CPU; per request over every round.
    const us = (samples) => (samples * 1e6) / HZ / (REQUESTS * ROUNDS);
    const byDso = (m) => {
      const out = new Map();
      for (const [k, v] of m) out.set(k.split("  ")[0], (out.get(k.split("  ")[0]) ?? 0) + v);
      return out;
    };
    console.log(`\nscenario ${SCENARIO}, ${ROUNDS} rounds of ${REQUESTS} per Worker, perf at ${HZ} Hz (µs per request under perf; perf adds its own)`);
    console.log(`  total: router ${us(totals.router).toFixed(0)}, rival ${us(totals.rival).toFixed(0)}`);
    const dR = byDso(sums.router);
    const dJ = byDso(sums.rival);
    for (const k of [...new Set([...dR.keys(), ...dJ.keys()])].sort((a, b) => (dR.get(b) ?? 0) - (dR.get(a) ?? 0))) {
      console.log(`  ${us(dR.get(k) ?? 0).toFixed(1).padStart(7)} ${us(dJ.get(k) ?? 0).toFixed(1).padStart(7)}  ${k}`);
    }
    const keys = [...new Set([...sums.router.keys(), ...sums.rival.keys()])];
    const diff = (k) => (sums.router.get(k) ?? 0) - (sums.rival.get(k) ?? 0);
    console.log(`\nrouter − rival by function (µs/request: router, rival, difference)`);
    for (const k of keys.sort((a, b) => diff(b) - diff(a)).slice(0, TOP)) {
      console.log(`  ${us(sums.router.get(k) ?? 0).toFixed(1).padStart(7)} ${us(sums.rival.get(k) ?? 0).toFixed(1).padStart(7)} ${(us(diff(k)) >= 0 ? "+" : "") + us(diff(k)).toFixed(1)}  ${k.slice(0, 150)}`);
    }
    console.log(`\nthe router's own JIT code (its wasm and JS glue), by function`);
    for (const [k, v] of [...sums.router].filter(([k]) => k.startsWith("[JIT]")).sort((a, b) => b[1] - a[1]).slice(0, TOP)) {
      console.log(`  ${us(v).toFixed(1).padStart(7)}  ${k.slice(7, 157)}`);
    }
  } finally {
    wd?.stop();
    await up.dispose();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
