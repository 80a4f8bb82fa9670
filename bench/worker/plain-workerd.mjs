// A plain workerd (from npm) serving Workers each on its own 127.0.0.1 socket, without Miniflare:
// the harness of plain.mjs and perf.mjs.

import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { spawn } from "node:child_process";
import { repoRoot, compatFromWranglerToml } from "../../tests/support/router.mjs";
import { HOST, PATH, load, freePort } from "./stack.mjs";

const here = path.dirname(new URL(import.meta.url).pathname);

/** The pass-through Worker's modules (passthrough.js: `LOG_LINE`, `EDITS`, `DEADLINE` add work). */
export const passthroughModules = [{ name: "passthrough.js", path: path.join(here, "passthrough.js") }];
/** The rival's modules (rival/entry.mjs). */
export const rivalModules = [{ name: "entry.mjs", path: path.join(here, "rival", "entry.mjs") }];

/** A router build's modules: the entry, the glue and the wasm. */
export function routerModules(build) {
  return ["entry.mjs", "index.js", ...fs.readdirSync(build).filter((f) => f.endsWith(".wasm"))].map((f) => ({ name: f, path: path.join(build, f), wasm: f.endsWith(".wasm") }));
}

const text = (bindings) =>
  Object.entries(bindings)
    .map(([name, value]) => `(name = ${JSON.stringify(name)}, text = ${JSON.stringify(value)})`)
    .join(", ");

/** A workerd config: one service and one socket per Worker; modules are embedded from `dir`. */
function config(workers, dir, v8Flags) {
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
  sockets = [ ${sockets} ],${v8Flags.length ? `\n  v8Flags = ${JSON.stringify(v8Flags)},` : ""}
);
${defs.join("\n")}
`;
}

/**
 * Starts one workerd serving `workers` ({name, bindings, modules}); each gets a free port and its
 * `base` URL. `v8Flags` go to V8 for the whole process (workerd refuses an unknown one). Resolves
 * once it answers; `stop()` ends it and removes its directory.
 */
export async function startPlainWorkerd(workers, { v8Flags = [] } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tenant-router-plain-"));
  for (const w of workers) {
    w.port = await freePort();
    w.base = `http://127.0.0.1:${w.port}`;
  }
  fs.writeFileSync(path.join(dir, "config.capnp"), config(workers, dir, v8Flags));
  const logFile = fs.openSync(path.join(dir, "workerd.log"), "w");
  const wd = spawn(path.join(repoRoot, "node_modules/.bin/workerd"), ["serve", path.join(dir, "config.capnp")], {
    stdio: ["ignore", logFile, logFile],
  });
  const stop = () => {
    wd.kill();
    fs.closeSync(logFile);
    fs.rmSync(dir, { recursive: true, force: true });
  };
  for (let i = 0; ; i++) {
    // workerd takes a moment to listen; a bounded wait.
    const ok = await load(workers[0].base, HOST, PATH, () => ({}), { n: 1, concurrency: 1 }).then(() => true, () => false);
    if (ok) break;
    if (i > 100) {
      const log = fs.readFileSync(path.join(dir, "workerd.log"), "utf8");
      stop();
      throw new Error(`workerd did not start:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { pid: wd.pid, stop };
}
