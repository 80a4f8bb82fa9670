#!/usr/bin/env node
// The router against the JS pass-through in a plain workerd, without Miniflare's entry Worker in
// front of every request (about 600 µs of CPU per request on these machines, the same for every
// scenario, which hides how much the Workers themselves cost). Prints figures; asserts nothing.
//
//   node bench/worker/plain.mjs              (after `bash scripts/build-worker.sh`)
//   PLAIN_REQUESTS=4000 PLAIN_ROUNDS=6 node bench/worker/plain.mjs
//
// One workerd (from npm, pinned to its own CPU) serves each Worker on its own 127.0.0.1 socket:
//   (a)   the pass-through JS Worker                      (bench/worker/passthrough.js)
//   (a'') the same doing the router's runtime work in JS  (header edits, deadline timer, log line)
//   (b)   the router, static directory, HS256 user token
// Scenarios are interleaved round by round and summed; the Workers' log lines go to a file.

import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { spawn } from "node:child_process";
import { repoRoot, buildDir, routerBuilt, compatFromWranglerToml } from "../../tests/support/router.mjs";
import { startUpstream } from "../../tests/support/upstream.mjs";
import { TENANT, HOST, PATH, benchVars, benchToken, load, interleaved, pinCpus, freePort } from "./stack.mjs";

const REQUESTS = Number(process.env.PLAIN_REQUESTS ?? 3000);
const ROUNDS = Number(process.env.PLAIN_ROUNDS ?? 5);
const CONCURRENCY = 16;
const here = path.dirname(new URL(import.meta.url).pathname);

const text = (bindings) =>
  Object.entries(bindings)
    .map(([name, value]) => `(name = ${JSON.stringify(name)}, text = ${JSON.stringify(value)})`)
    .join(", ");

/** A workerd config: one service and one socket per Worker; modules are embedded from `dir`. */
function config(workers, dir) {
  // Every Worker with the router's compatibility date and flags (wrangler.toml).
  const compat = compatFromWranglerToml();
  const services = workers.map((w) => `(name = "${w.name}", worker = .${w.name})`).join(", ");
  const sockets = workers
    .map((w) => `(name = "${w.name}", address = "127.0.0.1:${w.port}", http = (), service = "${w.name}")`)
    .join(", ");
  const defs = workers.map(
    (w) => `const ${w.name} :Workerd.Worker = (
  modules = [ ${w.modules.map((m) => `(name = ${JSON.stringify(m.name)}, ${m.wasm ? "wasm" : "esModule"} = embed ${JSON.stringify(path.relative(dir, m.path))})`).join(", ")} ],
  compatibilityDate = ${JSON.stringify(compat.date)},
  compatibilityFlags = ${JSON.stringify(compat.flags)},
  bindings = [ ${text(w.bindings)} ],
  globalOutbound = "internet",
);`,
  );
  return `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [ ${services}, (name = "internet", network = (allow = ["private", "public", "local"])) ],
  sockets = [ ${sockets} ],
);
${defs.join("\n")}
`;
}

async function main() {
  if (!routerBuilt()) {
    console.error("build/ has no router: run `bash scripts/build-worker.sh` first");
    process.exit(1);
  }
  const up = await startUpstream({ tenants: [TENANT] });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tenant-router-plain-"));
  const passthrough = path.join(here, "passthrough.js");
  const routerFiles = ["entry.mjs", "index.js", ...fs.readdirSync(buildDir).filter((f) => f.endsWith(".wasm"))];
  const workers = [
    { name: "pass", port: await freePort(), bindings: { UPSTREAM_URL: up.url }, modules: [{ name: "passthrough.js", path: passthrough }] },
    {
      name: "passwork",
      port: await freePort(),
      bindings: { UPSTREAM_URL: up.url, LOG_LINE: "true", EDITS: "true", DEADLINE: "true" },
      modules: [{ name: "passthrough.js", path: passthrough }],
    },
    {
      name: "router",
      port: await freePort(),
      bindings: benchVars(up),
      modules: routerFiles.map((f) => ({ name: f, path: path.join(buildDir, f), wasm: f.endsWith(".wasm") })),
    },
  ];
  fs.writeFileSync(path.join(dir, "config.capnp"), config(workers, dir));
  const logFile = fs.openSync(path.join(dir, "workerd.log"), "w");
  const wd = spawn(path.join(repoRoot, "node_modules/.bin/workerd"), ["serve", path.join(dir, "config.capnp")], {
    stdio: ["ignore", logFile, logFile],
  });
  try {
    const token = benchToken(up);
    const base = (w) => `http://127.0.0.1:${w.port}`;
    for (let i = 0; ; i++) {
      // workerd takes a moment to listen; a bounded wait.
      const ok = await load(base(workers[0]), HOST, PATH, () => ({}), { n: 1, concurrency: 1 }).then(() => true, () => false);
      if (ok) break;
      if (i > 100) throw new Error(`workerd did not start: see ${dir}/workerd.log`);
      await new Promise((r) => setTimeout(r, 100));
    }
    console.log(`tenant-router in plain workerd: ${ROUNDS} interleaved rounds of ${REQUESTS} requests per scenario, concurrency ${CONCURRENCY}, 127.0.0.1`);
    console.log(pinCpus());
    const scenarios = [
      ["(a) pass-through JS Worker", workers[0]],
      ["(a'') JS Worker, the router's runtime work", workers[1]],
      ["(b) router, static directory, HS256", workers[2]],
    ];
    const results = await interleaved(scenarios.length, ROUNDS, (i) =>
      load(base(scenarios[i][1]), HOST, PATH, () => ({ authorization: `Bearer ${token}` }), { n: REQUESTS, warmup: 200, concurrency: CONCURRENCY }),
    );
    const all = results.map((r) => r.total);
    for (let i = 0; i < scenarios.length; i++) {
      const s = all[i];
      console.log(`${scenarios[i][0].padEnd(44)} ${s.rps.toFixed(0).padStart(6)} req/s   CPU/req workerd ${s.workerdUs.toFixed(0).padStart(4)} µs   statuses ${JSON.stringify(s.statuses)}`);
    }
    const [a, aWork, b] = all;
    console.log(`(b)/(a) ${(b.rps / a.rps).toFixed(2)}×   (a'')/(a) ${(aWork.rps / a.rps).toFixed(2)}×   (b)/(a'') ${(b.rps / aWork.rps).toFixed(2)}×`);
    console.log(`workerd CPU per request over (a): (a'') +${(aWork.workerdUs - a.workerdUs).toFixed(0)} µs, (b) +${(b.workerdUs - a.workerdUs).toFixed(0)} µs`);
  } finally {
    wd.kill();
    fs.closeSync(logFile);
    await up.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
