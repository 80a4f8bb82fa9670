// The admin Worker in workerd beside the whole local stack, for tests/admin (not a test file).
//
//   const s = await startAdminStack();
//   s.admin.request("admin.localhost", "/admin/v1/tenants", { method, headers, body })
//   s.stack (tests/support/stack.mjs), s.cf (Cloudflare API test stand-in), s.router (a router whose
//   certificate-validation origin is the stand-in), s.faults (rules for the admin's outbound requests)
//   s.tokens.{admin, aal1Admin, user, serviceRole}, s.reconcile(), s.tenantRows(id), await s.stop()
//   startAdminStack({ analytics: true }): the admin reads Workers Analytics Engine through s.analytics
//   (tests/support/analytics-standin.mjs, on the stack's PostgreSQL; its ANALYTICS_* vars: s.analyticsVars)
//   s.startAdmin(extraVars): one more admin Worker on the same stack (e.g. without analytics)
//   runTenantctl(args, { url, token }) runs the native CLI (TENANTCTL, target/debug/tenantctl)
//   startAdminStack({ adminVars: { … }, cloudflare: { validationDelayMs } }) adds or overrides the admin
//   Worker's vars and the Cloudflare stand-in's options (tests/browser).

import fs from "node:fs";
import path from "node:path";
import crypto from "node:crypto";
import { spawn } from "node:child_process";
import { startStack, SEED } from "../support/stack.mjs";
import { startRouter, repoRoot } from "../support/router.mjs";
import { startCloudflareStandin } from "../support/cloudflare-standin.mjs";
import { startAnalyticsStandin } from "../support/analytics-standin.mjs";
import { DEFAULT_JWT_SECRET } from "../support/supabase-standin.mjs";

// admin/build (scripts/build-admin.sh), or the deployable bundle (ADMIN_BUILD_DIR=admin/build/dist).
export const adminBuildDir = path.resolve(repoRoot, process.env.ADMIN_BUILD_DIR ?? "admin/build");
export const ADMIN_HOST = "admin.localhost";

/** The native CLI (`cargo build -p tenantctl`). */
export const TENANTCTL = path.join(repoRoot, "target", "debug", "tenantctl");

/** Runs tenantctl asynchronously (the admin Worker answers it from this process): {code, stdout, stderr, json()}. */
export function runTenantctl(args, { url, token, env = {} }) {
  if (!fs.existsSync(TENANTCTL)) throw new Error("tenantctl is not built: run `cargo build -p tenantctl` first");
  return new Promise((resolve, reject) => {
    const child = spawn(TENANTCTL, args, { env: { ...process.env, TENANTCTL_URL: url, TENANTCTL_TOKEN: token ?? "", ...env } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr, json: () => JSON.parse(stdout) }));
  });
}

export function adminBuilt() {
  return ["entry.mjs", "entry.js"].some((f) => fs.existsSync(path.join(adminBuildDir, f)));
}

/** Forward a Worker's subrequest from Node (what workerd would send to the internet). */
async function forward(request) {
  const body = ["GET", "HEAD"].includes(request.method) ? undefined : await request.arrayBuffer();
  return fetch(request.url, { method: request.method, headers: request.headers, body, redirect: "manual" });
}

export async function startAdminStack({ analytics = false, adminVars = {}, cloudflare = {} } = {}) {
  if (!adminBuilt()) throw new Error("the admin Worker is not built: run `bash scripts/build-admin.sh` first");
  // Operators' tokens are the stand-in's ES256 ones, verified against its JWKS as the router does.
  const stack = await startStack({ seed: true });
  const cf = await startCloudflareStandin(cloudflare);
  const supabaseHost = new URL(stack.supabase.url).host;
  // A router whose origin, for certificate validation paths, is Cloudflare's edge (the stand-in).
  const router = await startRouter(stack.routerVars, {
    outboundService: async (request) => {
      const u = new URL(request.url);
      if (u.host === supabaseHost) return forward(request);
      const body = cf.tokenFor(u.hostname, u.pathname);
      return body === null ? new Response("not found", { status: 404 }) : new Response(body, { headers: { "content-type": "text/plain" } });
    },
  });
  cf.setRouterUrl(router.url);

  // Fault injection on the admin Worker's outbound requests: the first rule whose `match(url, method)`
  // holds answers instead of the backend (`respond()`), `times` times.
  const faults = [];
  const outbound = [];
  const ae = analytics
    ? await startAnalyticsStandin(stack.pg, { accountId: "0123456789abcdef0123456789abcdef", token: "ae-test-token", dataset: "tenant_requests" })
    : null;
  const analyticsVars = ae ? { CLOUDFLARE_ACCOUNT_ID: ae.accountId, ANALYTICS_API_TOKEN: ae.token, ANALYTICS_DATASET: ae.dataset } : {};
  const admins = [];
  async function startAdmin(extraVars = {}, name = `tenant-admin-${admins.length + 1}`) {
    const w = await startRouter(
      {
        SUPABASE_URL: stack.supabase.url,
        SUPABASE_SECRET_KEY: stack.supabase.serviceKey,
        SUPABASE_JWT_SECRET: DEFAULT_JWT_SECRET,
        // The asymmetric algorithms only, though the legacy secret is set: an HS256 token is refused.
        JWT_ALGORITHMS: "ES256,RS256",
        CLOUDFLARE_API_URL: cf.url,
        CLOUDFLARE_API_TOKEN: cf.token,
        CLOUDFLARE_ZONE_ID: cf.zoneId,
        BASE_DOMAINS: "localhost",
        // The operator console's page (admin/console): the publishable key supabase-js signs in with,
        // and the CNAME target its DNS instructions name.
        SUPABASE_ANON_KEY: stack.anonKey,
        CNAME_TARGET: "fallback.localhost",
        ...extraVars,
      },
      {
        buildDir: adminBuildDir,
        name,
        outboundService: async (request) => {
          const u = new URL(request.url);
          outbound.push({ method: request.method, url: u.pathname + u.search });
          const i = faults.findIndex((f) => f.match(u, request.method));
          if (i >= 0) {
            const f = faults[i];
            if (--f.times <= 0) faults.splice(i, 1);
            return f.respond();
          }
          // Cloudflare's API base serves custom hostnames (the Cloudflare stand-in) and AE's SQL API.
          if (ae && u.pathname.endsWith("/analytics_engine/sql")) return ae.handle(request);
          return forward(request);
        },
      },
    );
    admins.push(w);
    return w;
  }
  const admin = await startAdmin({ ...analyticsVars, ...adminVars }, "tenant-admin");

  const auth = stack.supabase.auth;
  await stack.pg.query(`update auth.users set raw_app_meta_data = raw_app_meta_data || '{"platform_role":"admin"}' where id = $1`, [SEED.users.carol.id]);
  const tokens = {
    admin: (await auth.sessionFor(SEED.users.carol.id, { aal: "aal2" })).access_token,
    aal1Admin: (await auth.sessionFor(SEED.users.carol.id, { aal: "aal1" })).access_token,
    user: (await auth.sessionFor(SEED.users.alice.id, { aal: "aal2" })).access_token,
    serviceRole: stack.supabase.serviceKey,
  };

  return {
    stack,
    cf,
    router,
    admin,
    analytics: ae,
    analyticsVars,
    startAdmin,
    faults,
    outbound,
    tokens,
    request(method, pathname, { token = tokens.admin, body, key, headers = {} } = {}) {
      const h = { ...headers };
      if (token) h.authorization = `Bearer ${token}`;
      if (key) h["idempotency-key"] = key;
      return admin.request(ADMIN_HOST, pathname, { method, headers: h, body });
    },
    async create(body, key = crypto.randomUUID()) {
      return this.request("POST", "/admin/v1/tenants", { body, key });
    },
    /** The journal once it is finished (succeeded / failed), or whatever it is after `ms`. */
    async settle(id, ms = 15000) {
      const end = Date.now() + ms;
      for (;;) {
        const r = await this.request("GET", `/admin/v1/provisionings/${id}`);
        const j = r.json();
        if (["succeeded", "failed"].includes(j.status) || Date.now() > end) return j;
        await new Promise((res) => setTimeout(res, 50));
      }
    },
    /** Run the Cron Trigger's scheduled handler once (the reconciler). */
    async reconcile() {
      const w = await admin.mf.getWorker("tenant-admin");
      return w.scheduled({ cron: "* * * * *" });
    },
    /** Rows of the tenant in every table that has tenant_id (from the catalog), and its tenants row. */
    async tenantRows(id) {
      const { rows: tables } = await stack.pg.query(
        `select table_schema, table_name from information_schema.columns
          where column_name = 'tenant_id' and table_schema = 'public'
            and table_name in (select table_name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE')`,
      );
      const out = {};
      for (const t of tables) {
        if (["provisionings", "audit_log"].includes(t.table_name)) continue; // the journal and the trail outlive a failed attempt
        const r = await stack.pg.query(`select count(*)::int as n from public.${t.table_name} where tenant_id = $1`, [id]);
        if (r.rows[0].n) out[t.table_name] = r.rows[0].n;
      }
      const r = await stack.pg.query("select count(*)::int as n from public.tenants where id = $1", [id]);
      if (r.rows[0].n) out.tenants = r.rows[0].n;
      return out;
    },
    async stop() {
      await Promise.allSettled([...admins.map((a) => a.dispose()), router.dispose(), cf.stop()]);
      await stack.stop();
    },
  };
}
