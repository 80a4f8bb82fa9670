#!/usr/bin/env node
// The router's cost beside the rival's, without Miniflare in front of every request: each
// Worker's fetch handler called in a loop inside one request (loop-entry.mjs); workerd's CPU
// (schedstat, ns) around each loop, less the pass-through's. Against a stand-in upstream that
// answers at once (the Workers' own work alone, the real fetch's left out, which both pay) it is
// steady enough (a few % a round) to tell apart changes of a few µs, where the isolate-time
// figures of cost.mjs move by ±100 µs a round.
//
//   node bench/worker/loop.mjs                 (after `bash scripts/build-worker.sh`)
//   LOOP_N=2000 LOOP_REAL_N=1000 LOOP_ROUNDS=9 LOOP_B=build-std node bench/worker/loop.mjs
//                                              (LOOP_B: a second build beside build/, for A/B)
// The same loops also run against the real upstream (the stand-in server on 127.0.0.1, 16 in
// flight): the whole cost, the runtime's fetch included, still without Miniflare's ~500 µs a
// request in front.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { buildDir, routerBuilt, startWorkers, compatFromWranglerToml, httpRequest } from "../../tests/support/router.mjs";
import { startUpstream } from "../../tests/support/upstream.mjs";
import { benchVars, benchToken, benchEs256Token, TENANT, pinCpus, workerdCpuSeconds, median } from "./stack.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const N = Number(process.env.LOOP_N ?? 2000);
const REAL_N = Number(process.env.LOOP_REAL_N ?? 1000);
const ROUNDS = Math.max(5, Number(process.env.LOOP_ROUNDS ?? 9));

/** A module dir holding one router build, the rival, the pass-through and the loop entry. */
function loopDir(build, tag) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `router-loop-${tag}-`));
  for (const f of fs.readdirSync(build)) if (/\.(m?js|wasm)$/.test(f)) fs.copyFileSync(path.join(build, f), path.join(dir, f));
  fs.copyFileSync(path.join(here, "rival", "entry.mjs"), path.join(dir, "rival.mjs"));
  fs.copyFileSync(path.join(here, "passthrough.js"), path.join(dir, "passthrough.js"));
  fs.copyFileSync(path.join(here, "loop-entry.mjs"), path.join(dir, "loop-entry.mjs"));
  return dir;
}

function loopWorker(dir, name, vars, compat) {
  const modules = [{ type: "ESModule", path: path.join(dir, "loop-entry.mjs") }];
  for (const f of fs.readdirSync(dir)) {
    if (f === "loop-entry.mjs") continue;
    modules.push({ type: f.endsWith(".wasm") ? "CompiledWasm" : "ESModule", path: path.join(dir, f) });
  }
  return { name, modules, modulesRoot: dir, compatibilityDate: compat.date, compatibilityFlags: compat.flags, bindings: { ...vars, UPSTREAM_URL: vars.SUPABASE_URL }, routes: [`${name}.loop/*`] };
}

async function main() {
  if (!routerBuilt()) {
    console.error("build/ has no router: run `bash scripts/build-worker.sh` first");
    process.exit(1);
  }
  const up = await startUpstream({ tenants: [TENANT] });
  const vars = benchVars(up);
  const compat = compatFromWranglerToml();
  const builds = [["A", buildDir]];
  if (process.env.LOOP_B) builds.push(["B", path.resolve(process.env.LOOP_B)]);
  const dirs = builds.map(([tag, b]) => loopDir(b, tag));
  const wd = await startWorkers(builds.map(([tag], i) => loopWorker(dirs[i], `loop${tag.toLowerCase()}`, vars, compat)), { keepLogs: false });
  try {
    console.log(pinCpus());
    const es = (extra) => benchEs256Token(up, extra);
    // "ES256, new": a token never seen before for every request, minted here, one supply per loop.
    const tokens = { HS256: benchToken(up), "ES256, repeated": es(), "ES256, new": null };
    let minted = 0;
    const supply = (n) => Array.from({ length: n }, () => es({ jti: `loop${minted++}`, session_id: `s${minted}` })).join("\n");
    // Two upstreams: the instant stand-in (the Workers' own work alone) and the real one over
    // 127.0.0.1, 16 requests in flight (the whole cost the issue counts, fetch included).
    const modes = [
      ["stand-in upstream", "", N],
      ["real upstream, 16 in flight", "&real=1&c=16", REAL_N],
    ];
    const cases = [];
    for (const [mode, query, n] of modes) {
      for (const [alg, token] of Object.entries(tokens)) {
        const tag = { mode, alg, query, n, token };
        cases.push({ ...tag, name: "pass", host: "loopa", w: "pass" });
        for (const [b] of builds) cases.push({ ...tag, name: `router ${b}`, host: `loop${b.toLowerCase()}`, w: "router" });
        cases.push({ ...tag, name: "rival", host: "loopa", w: "rival" });
      }
    }
    const once = async (c, n) => {
      const body = c.token === null ? supply(n) : undefined;
      const cpu0 = workerdCpuSeconds();
      const r = await httpRequest(wd.url, `${c.host}.loop`, `/?w=${c.w}&n=${n}${c.query}`, {
        method: body ? "POST" : "GET",
        headers: c.token === null ? {} : { "x-loop-authorization": `Bearer ${c.token}` },
        body,
        timeoutMs: 300000,
      });
      const cpu = workerdCpuSeconds() - cpu0;
      if (r.status !== 200 || r.body !== String(n)) throw new Error(`${c.w} on ${c.host}: ${r.status} ${r.body.slice(0, 300)}`);
      return (cpu * 1e6) / n;
    };
    for (const c of cases) await once(c, Math.ceil(c.n / 4)); // warm-up: tier-up, caches, token cache
    const per = cases.map(() => []);
    for (let r = 0; r < ROUNDS; r++) {
      for (let j = 0; j < cases.length; j++) {
        const i = (j + r) % cases.length;
        per[i].push(await once(cases[i], cases[i].n));
      }
    }
    console.log(`in-isolate loop: ${ROUNDS} rotated rounds per Worker, workerd CPU per request (µs) over the pass-through's; HS256 and ES256 repeated: the router's token cached after the first request, the rival verifies every one; ES256 new: every request a token never seen`);
    for (const [mode, , n] of modes) {
      console.log(`${mode} (${n} requests a loop):`);
      for (const alg of Object.keys(tokens)) {
        const idx = (name) => cases.findIndex((c) => c.mode === mode && c.alg === alg && c.name === name);
        const pass = per[idx("pass")];
        const over = (name) => per[idx(name)].map((x, k) => x - pass[k]);
        const rival = over("rival");
        const fmt = (xs) => xs.map((x) => x.toFixed(1)).join(" ");
        console.log(`  ${alg}: pass-through ${median(pass).toFixed(1)} µs (rounds ${fmt(pass)})`);
        for (const [b] of builds) {
          const o = over(`router ${b}`);
          console.log(`    router ${b} +${median(o).toFixed(1)} µs (rounds ${fmt(o)}); ratio to the rival ${median(o.map((x, k) => x / rival[k])).toFixed(2)}× (rounds ${o.map((x, k) => (x / rival[k]).toFixed(2)).join(" ")})`);
        }
        console.log(`    rival    +${median(rival).toFixed(1)} µs (rounds ${fmt(rival)})`);
        if (builds.length > 1) {
          const d = per[idx("router B")].map((x, k) => x - per[idx("router A")][k]);
          console.log(`    B − A ${median(d).toFixed(1)} µs (rounds ${fmt(d)})`);
        }
      }
    }
  } finally {
    await wd.dispose();
    await up.dispose();
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
