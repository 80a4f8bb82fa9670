// The whole local stack, for the end-to-end suite and `make dev`:
//   1. a throwaway PostgreSQL 15 (scripts/pg-cluster.sh start DIR; load DIR [--seed]: the Supabase SQL
//      stand-in, sql/ migrations, optionally sql/seed.sql);
//   2. the Supabase TEST STAND-IN (supabase-standin.mjs: Auth + REST stand-ins behind one base URL);
//   3. the built router in workerd (Miniflare) with TENANT_DIRECTORY=supabase, so the real
//      `public.resolve_tenant` RPC is called through the REST stand-in; BASE_DOMAINS=localhost (slug
//      hosts `acme.localhost`) and the seed's custom domain `crm.globex.test`.
//
//   const stack = await startStack({ seed: true, alg: "ES256" });
//   stack.routerUrl, stack.routerPort, stack.supabase (stand-in handle), stack.router, stack.pg (pg.Pool,
//   superuser), stack.databaseUrl, await stack.stop()
//
// stop() leaves no process behind: workerd through Miniflare's dispose(), Postgres through
// `pg-cluster.sh stop`, then the cluster directory is removed. If the Node process is ended by a signal
// or exits without stop(), a synchronous fallback stops Postgres and kills this process's own workerd
// children by pid.
//
// Run as a program (scripts/dev.sh does): `node tests/support/stack.mjs` starts the stack with the
// seed, the router on PORT (default 8787) and the stand-in on SUPABASE_PORT (default 54321), prints a
// JSON line {"ready": ...} and runs until SIGINT/SIGTERM.

import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { spawn, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { startRouter, routerBuilt, repoRoot } from "./router.mjs";
import { startSupabaseStandin, DEFAULT_JWT_SECRET } from "./supabase-standin.mjs";

export const SEED = {
  acme: { id: "11111111-1111-4111-8111-111111111111", slug: "acme", host: "acme.localhost" },
  globex: { id: "22222222-2222-4222-8222-222222222222", slug: "globex", host: "crm.globex.test", slugHost: "globex.localhost" },
  users: {
    alice: { id: "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa", email: "alice@acme.test" },
    bob: { id: "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb", email: "bob@globex.test" },
    carol: { id: "cccccccc-cccc-4ccc-8ccc-cccccccccccc", email: "carol@both.test" },
  },
  password: "password123",
};

const PG_CLUSTER = path.join(repoRoot, "scripts", "pg-cluster.sh");
const live = new Set();

/** pg-cluster.sh children in flight (so a signal can wait for them before stopping the cluster). */
const inFlight = new Set();

/** Run scripts/pg-cluster.sh asynchronously (a signal handler must be able to run meanwhile). */
function pgCluster(args, { timeoutMs = 120_000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn("bash", [PG_CLUSTER, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    inFlight.add(child.pid);
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", (e) => {
      clearTimeout(timer);
      inFlight.delete(child.pid);
      reject(e);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      inFlight.delete(child.pid);
      if (code === 0) resolve(out);
      else reject(new Error(`pg-cluster.sh ${args.join(" ")} failed (${code ?? signal}): ${err || out}`));
    });
  });
}

function readEnv(dir) {
  const env = {};
  for (const line of fs.readFileSync(path.join(dir, "env"), "utf8").split("\n")) {
    const m = /^export ([A-Z_]+)=(.*)$/.exec(line.trim());
    if (m) env[m[1]] = m[2];
  }
  return env;
}

/** Pids of this process's direct children running workerd (Miniflare's runtime). */
function workerdChildren() {
  const out = [];
  try {
    for (const d of fs.readdirSync("/proc")) {
      if (!/^\d+$/.test(d)) continue;
      try {
        const stat = fs.readFileSync(`/proc/${d}/stat`, "utf8");
        const m = /^\d+ \((.*)\) \S+ (\d+)/.exec(stat);
        if (m && Number(m[2]) === process.pid && m[1].includes("workerd")) out.push(Number(d));
      } catch {
        /* gone */
      }
    }
  } catch {
    /* no /proc */
  }
  return out;
}

let cleanedUp = false;
function syncCleanup() {
  if (cleanedUp) return;
  cleanedUp = true;
  // Let an in-flight `pg-cluster.sh start|load` finish first, or the cluster could come up after the stop.
  for (const pid of inFlight) {
    // (it is a zombie once done: nobody reaps it while this synchronous cleanup blocks the loop)
    spawnSync("bash", ["-c", `while [ -e /proc/${pid}/stat ] && [ "$(awk '{print $3}' /proc/${pid}/stat 2>/dev/null)" != Z ]; do sleep 0.1; done`], { timeout: 60_000 });
  }
  for (const s of live) {
    try {
      spawnSync("bash", [PG_CLUSTER, "stop", s.dir], { timeout: 30_000 });
      fs.rmSync(s.dir, { recursive: true, force: true });
    } catch {
      /* best effort */
    }
  }
  live.clear();
  for (const pid of workerdChildren()) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      /* gone */
    }
  }
}

let hooked = false;
function hookExit() {
  if (hooked) return;
  hooked = true;
  process.on("exit", syncCleanup);
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) {
    process.once(sig, () => {
      syncCleanup();
      process.exit(128 + (sig === "SIGINT" ? 2 : sig === "SIGTERM" ? 15 : 1));
    });
  }
  // `node --test` does not pass a SIGTERM/SIGINT on to the per-file child it runs: when the runner
  // dies, the child is re-parented. Treat that as the end of the run.
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) {
      syncCleanup();
      process.exit(129);
    }
  }, 300).unref();
}

/**
 * opts: { seed = true, alg = "ES256" | "HS256", jwtSecret, routerPort (fixed; default random),
 *         supabasePort (default random), routerVars (extra router vars), log }
 */
export async function startStack({ seed = true, alg = "ES256", jwtSecret = DEFAULT_JWT_SECRET, routerPort, supabasePort = 0, routerVars = {}, log = false } = {}) {
  if (!routerBuilt()) throw new Error("the router is not built: run `bash scripts/build-worker.sh` first");
  hookExit();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tenant-router-stack-"));
  fs.chmodSync(dir, 0o755);
  const entry = { dir };
  live.add(entry);
  let supabase;
  let router;
  let admin;
  const stop = async () => {
    if (!live.has(entry)) return;
    await Promise.allSettled([router?.dispose(), supabase?.stop(), admin?.end()]);
    try {
      await pgCluster(["stop", dir]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
      live.delete(entry);
    }
  };
  try {
    await pgCluster(["start", dir]);
    await pgCluster(["load", dir, ...(seed ? ["--seed"] : [])]);
    const env = readEnv(dir);
    const databaseUrl = env.DATABASE_URL;
    admin = new pg.Pool({ connectionString: databaseUrl, max: 3 });
    admin.on("error", () => {});
    supabase = await startSupabaseStandin({ databaseUrl, jwtSecret, alg, port: supabasePort, log });
    const vars = {
      SUPABASE_URL: supabase.url,
      SUPABASE_ANON_KEY: supabase.anonKey,
      SUPABASE_JWT_SECRET: jwtSecret,
      BASE_DOMAINS: "localhost",
      TENANT_DIRECTORY: "supabase",
      ...routerVars,
    };
    router = await startRouter(vars, { port: routerPort });
    return {
      dir,
      databaseUrl,
      pg: admin,
      supabase,
      router,
      routerVars: vars,
      routerPort: router.port,
      routerUrl: router.url,
      anonKey: supabase.anonKey,
      serviceKey: supabase.serviceKey,
      stop,
    };
  } catch (e) {
    await stop().catch(() => {});
    throw e;
  }
}

// ---------------------------------------------------------------- program mode (scripts/dev.sh)
const isMain = process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  // PORT / SUPABASE_PORT of 0 mean "any free port".
  const port = Number(process.env.PORT ?? 8787) || undefined;
  const supabasePort = Number(process.env.SUPABASE_PORT ?? 54321) || 0;
  const alg = process.env.JWT_ALG === "HS256" ? "HS256" : "ES256";
  let stack, idp;
  // The demo front end (demo/) on every tenant host, with auth links through the signed return on
  // auth.localhost (docs/auth-domains.md); the stand-in mailbox is printed as links arrive.
  const { startFrontend } = await import("./frontend.mjs");
  const frontendConfig = {};
  const frontend = await startFrontend(frontendConfig);
  try {
    stack = await startStack({
      seed: true,
      alg,
      routerPort: port,
      supabasePort,
      log: !!process.env.STANDIN_LOG,
      routerVars: {
        FRONTEND_ORIGIN: frontend.url,
        ...(port ? { AUTH_RETURN_HOST: `auth.localhost:${port}`, AUTH_RETURN_KEYS: "dev:dev-only-return-secret-not-for-production" } : {}),
      },
    });
    frontendConfig.anonKey = stack.anonKey;
    if (port) {
      stack.supabase.auth.allowList = [`http://auth.localhost:${port}/**`];
      // "Continue with github" through the OAuth provider test stand-in, its one account signed in.
      const { startOAuthProviderStandin } = await import("./oauth-provider-standin.mjs");
      const client = { clientId: "dev-client", clientSecret: "dev-only-client-secret" };
      idp = await startOAuthProviderStandin({ ...client, redirectUri: stack.supabase.auth.callbackUrl });
      idp.addAccount({ login: "newcomer", name: "New Comer", email: "newcomer@oauth.test" });
      idp.signInAs("newcomer");
      stack.supabase.auth.externalProviders.github = { url: idp.url, clientId: client.clientId, secret: client.clientSecret };
      frontendConfig.oauthProvider = "github";
    }
  } catch (e) {
    process.stderr.write(`stack: ${e.stack || e}\n`);
    process.exit(1);
  }
  let stopping = null;
  const shutdown = async (sig) => {
    if (stopping) return stopping;
    stopping = Promise.resolve();
    process.stderr.write(`\nstack: ${sig}, stopping router, stand-ins and Postgres...\n`);
    await stack.stop().catch((e) => process.stderr.write(`stack: stop failed: ${e}\n`));
    await frontend.close().catch(() => {});
    await idp?.stop().catch(() => {});
    process.exit(0);
  };
  process.removeAllListeners("SIGINT");
  process.removeAllListeners("SIGTERM");
  process.removeAllListeners("SIGHUP");
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) process.once(sig, () => shutdown(sig));
  process.stdout.write(
    JSON.stringify({
      ready: true,
      router: stack.routerUrl,
      routerPort: stack.routerPort,
      supabase: stack.supabase.url,
      anonKey: stack.anonKey,
      databaseUrl: stack.databaseUrl,
      pgDir: stack.dir,
      pid: process.pid,
    }) + "\n",
  );
  // keep running until a signal
  setInterval(() => {}, 1 << 30);
}

