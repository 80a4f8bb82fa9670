// Cloudflare API TEST STAND-IN: the custom hostnames of Cloudflare for SaaS
// (POST/GET/PATCH/DELETE /zones/:zone_id/custom_hostnames[/:id]) as documented, for the admin service.
//
//   const cf = await startCloudflareStandin({ token, zoneId, routerUrl, validationDelayMs });
//   cf.url (the API base, as CLOUDFLARE_API_URL), cf.hostnames() (the zone's state), cf.failNext(method, status)
//   cf.tokenFor(hostname) (what the origin serves at /.well-known/pki-validation/...), await cf.stop()
//
// Behaviour kept from the documentation:
//   * a new hostname is `pending`, its certificate `initializing`; validation records (HTTP token and
//     TXT for ssl method http|txt, type dv) appear asynchronously, then `pending_validation`;
//   * errors 1407 (invalid hostname), 1409 (reserved TLD: .test .example .invalid .localhost),
//     1411 (example.com and its subdomains prohibited), 1406 (duplicate hostname);
//   * with method http, the certificate becomes `active` (through pending_issuance, pending_deployment)
//     only once the stand-in has fetched its validation token THROUGH THE ROUTER on the hostname
//     (`routerUrl` with Host: <hostname>, path /.well-known/pki-validation/<file>) and read the body.
//     The stand-in's test hostnames therefore use a TLD the local stack serves: `RESERVED_TLDS` are
//     refused as Cloudflare does, so tests use e.g. `.localtest` names.
import http from "node:http";
import crypto from "node:crypto";

const RESERVED_TLDS = ["test", "example", "invalid", "localhost"];
const HOST_RE = /^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

export async function startCloudflareStandin({ token = "cf-test-token", zoneId = "zone-test", routerUrl, validationDelayMs = 50 } = {}) {
  const hostnames = new Map(); // id -> record
  const failures = []; // [{ method, status }]
  const timers = new Set();

  const envelope = (result, extra = {}) => ({ success: true, errors: [], messages: [], result, ...extra });
  const error = (code, message) => ({ success: false, errors: [{ code, message }], messages: [], result: null });

  function later(fn, ms = validationDelayMs) {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  }

  function refuse(hostname) {
    if (typeof hostname !== "string" || hostname.length > 253 || !HOST_RE.test(hostname)) return [1407, "Invalid custom hostname."];
    const tld = hostname.split(".").pop();
    if (RESERVED_TLDS.includes(tld)) return [1409, "Custom hostnames with reserved TLDs are not allowed."];
    if (hostname === "example.com" || hostname.endsWith(".example.com")) return [1411, "Custom hostnames containing 'example.com' are not allowed."];
    return null;
  }

  async function validate(rec) {
    if (!routerUrl || rec.ssl.method !== "http" || rec.ssl.status !== "pending_validation") return;
    const v = rec.ssl.validation_records[0];
    const u = new URL(v.http_url);
    try {
      const body = await new Promise((resolve, reject) => {
        const r = new URL(routerUrl);
        const req = http.request({ host: r.hostname, port: r.port, path: u.pathname, headers: { host: rec.hostname } }, (res) => {
          let b = "";
          res.on("data", (d) => (b += d));
          res.on("end", () => resolve(res.statusCode === 200 ? b : null));
        });
        req.on("error", reject);
        req.end();
      });
      rec.validation_fetches = (rec.validation_fetches ?? 0) + 1;
      if (body !== null && body.trim() === v.http_body && hostnames.has(rec.id)) {
        rec.ssl.status = "pending_issuance";
        later(() => {
          rec.ssl.status = "pending_deployment";
          later(() => {
            rec.ssl.status = "active";
            rec.status = "active";
            rec.ssl.validation_records = [];
          });
        });
        return;
      }
    } catch {
      /* the hostname does not reach the router yet: Cloudflare retries */
    }
    later(() => validate(rec), validationDelayMs * 4);
  }

  function create(body) {
    const hostname = typeof body?.hostname === "string" ? body.hostname.toLowerCase() : body?.hostname;
    const bad = refuse(hostname);
    if (bad) return [400, error(...bad)];
    const method = body?.ssl?.method ?? "http";
    if (!["http", "txt"].includes(method) || (body?.ssl?.type ?? "dv") !== "dv") return [400, error(1400, "Invalid ssl settings.")];
    if ([...hostnames.values()].some((h) => h.hostname === hostname)) return [409, error(1406, "Duplicate custom hostname found.")];
    const id = crypto.randomUUID();
    const rec = {
      id,
      hostname,
      status: "pending",
      ssl: { id: crypto.randomUUID(), type: "dv", method, status: "initializing", settings: body?.ssl?.settings ?? {}, validation_records: [] },
      ownership_verification: { type: "txt", name: `_cf-custom-hostname.${hostname}`, value: crypto.randomUUID() },
      created_at: new Date().toISOString(),
    };
    hostnames.set(id, rec);
    // Validation records appear asynchronously, as Cloudflare documents.
    later(() => {
      if (!hostnames.has(id)) return;
      const file = crypto.randomBytes(8).toString("hex");
      const tokenBody = crypto.randomBytes(24).toString("base64url");
      rec.ssl.status = "pending_validation";
      rec.ssl.validation_records = [
        method === "http"
          ? { http_url: `http://${hostname}/.well-known/pki-validation/${file}.txt`, http_body: tokenBody }
          : { txt_name: `_acme-challenge.${hostname}`, txt_value: tokenBody },
      ];
      validate(rec);
    });
    return [200, envelope(rec)];
  }

  const server = http.createServer(async (req, res) => {
    const send = (status, body) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    try {
      if (req.headers.authorization !== `Bearer ${token}`) return send(403, error(10000, "Authentication error"));
      const u = new URL(req.url, "http://cf");
      const m = /^\/zones\/([^/]+)\/custom_hostnames(?:\/([^/]+))?$/.exec(u.pathname);
      if (!m) return send(404, error(7003, "Could not route to this path."));
      if (m[1] !== zoneId) return send(404, error(1001, "Invalid zone identifier."));
      const i = failures.findIndex((f) => f.method === req.method);
      if (i >= 0) {
        const [f] = failures.splice(i, 1);
        return send(f.status, error(f.code ?? 1000, f.message ?? "Injected failure (test stand-in)"));
      }
      let raw = "";
      for await (const c of req) raw += c;
      const body = raw ? JSON.parse(raw) : null;
      const id = m[2];
      if (!id && req.method === "POST") return send(...create(body));
      if (!id && req.method === "GET") {
        const want = u.searchParams.get("hostname");
        const list = [...hostnames.values()].filter((h) => !want || h.hostname === want);
        return send(200, envelope(list, { result_info: { page: 1, per_page: 20, count: list.length, total_count: list.length } }));
      }
      const rec = id && hostnames.get(id);
      if (!rec) return send(404, error(1436, "The custom hostname was not found."));
      if (req.method === "GET") return send(200, envelope(rec));
      if (req.method === "DELETE") {
        hostnames.delete(id);
        return send(200, envelope({ id }));
      }
      if (req.method === "PATCH") {
        if (body?.ssl?.method) rec.ssl.method = body.ssl.method;
        return send(200, envelope(rec));
      }
      return send(405, error(10405, "Method not allowed"));
    } catch (e) {
      return send(400, error(1000, String(e?.message ?? e)));
    }
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${server.address().port}`;
  return {
    url,
    token,
    zoneId,
    setRouterUrl(u) {
      routerUrl = u;
    },
    hostnames: () => [...hostnames.values()],
    /** The next request with this method answers `status` (a Cloudflare error envelope). */
    failNext(method, status = 500, code, message) {
      failures.push({ method, status, code, message });
    },
    /** The body the origin serves for a validation path (what Cloudflare's edge answers for it). */
    tokenFor(hostname, pathname) {
      for (const h of hostnames.values()) {
        const v = h.hostname === hostname ? h.ssl.validation_records.find((r) => r.http_url && new URL(r.http_url).pathname === pathname) : null;
        if (v) return v.http_body;
      }
      return null;
    },
    async stop() {
      for (const t of timers) clearTimeout(t);
      await new Promise((r) => server.close(r));
    },
  };
}
