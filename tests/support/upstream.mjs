// Test stand-in for a Supabase project, on 127.0.0.1 (random port).
//
// It records every request it receives (method, path, query, headers, body bytes) and answers:
//   GET  /auth/v1/.well-known/jwks.json   the project's JWKS (ES256 P-256 key, and an RS256 key)
//   POST /rest/v1/rpc/resolve_tenant      from an in-memory list of routing records, like PostgREST
//                                         runs `public.resolve_tenant(p_slug, p_domain)`: the record or null
//   GET  /realtime/v1/websocket (Upgrade) 101 with a correct Sec-WebSocket-Accept, then echoes frames
//   .../__slow                            waits `slowMs` before sending any header (provokes 504)
//   .../__close                           destroys the socket without an answer (provokes 502)
//   .../__location                        302 with a Location on the upstream's own URL
//   anything else                         200 JSON echo of what arrived, with `Access-Control-Allow-Origin: *`
// Behaviour can be changed per test: `up.directory` ('ok' | 'error' | 'close'), `up.directoryDelayMs`,
// `up.slowMs`, `up.route(pathname, handler)` for a one-off answer.
//
// Token minting (node:crypto, no JWT library): signHS256, signES256 (the JWKS key), signRS256 (the
// JWKS RSA key), signForeignES256 (a P-256 key that is NOT in the JWKS), and claims helpers.

import http from "node:http";
import crypto from "node:crypto";

// ---------------------------------------------------------------- keys and tokens

export const ES_KID = "es256-test-key-1";
export const RS_KID = "rs256-test-key-1";

const esKeys = crypto.generateKeyPairSync("ec", { namedCurve: "P-256" });
const rsKeys = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
const foreignKeys = crypto.generateKeyPairSync("ec", { namedCurve: "P-256" });

/** The JWKS the stand-in serves (public keys only). */
export function jwks({ rs256 = true } = {}) {
  const es = { ...esKeys.publicKey.export({ format: "jwk" }), kid: ES_KID, alg: "ES256", use: "sig", key_ops: ["verify"] };
  const keys = [es];
  if (rs256) {
    keys.push({ ...rsKeys.publicKey.export({ format: "jwk" }), kid: RS_KID, alg: "RS256", use: "sig", key_ops: ["verify"] });
  }
  return { keys };
}

/** The ES256 public key as PEM/SPKI (for alg-confusion tokens). */
export const esPublicKeyPem = esKeys.publicKey.export({ format: "pem", type: "spki" });
export const rsPublicKeyPem = rsKeys.publicKey.export({ format: "pem", type: "spki" });
export const esPublicJwk = esKeys.publicKey.export({ format: "jwk" });

export function b64url(input) {
  return Buffer.from(input).toString("base64url");
}

function encodeParts(header, claims) {
  return `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
}

/** HS256 JWT signed with `secret` (string or Buffer). */
export function signHS256(claims, secret, { kid, header = {} } = {}) {
  const h = { alg: "HS256", typ: "JWT", ...(kid ? { kid } : {}), ...header };
  const input = encodeParts(h, claims);
  const sig = crypto.createHmac("sha256", secret).update(input).digest("base64url");
  return `${input}.${sig}`;
}

function signEcdsa(claims, privateKey, kid, header) {
  const h = { alg: "ES256", typ: "JWT", ...(kid ? { kid } : {}), ...header };
  const input = encodeParts(h, claims);
  // JWS wants the raw r||s form (ieee-p1363), not DER.
  const sig = crypto.sign("sha256", Buffer.from(input), { key: privateKey, dsaEncoding: "ieee-p1363" });
  return `${input}.${sig.toString("base64url")}`;
}

/** ES256 JWT signed with the key the stand-in's JWKS publishes. */
export function signES256(claims, { kid = ES_KID, header = {} } = {}) {
  return signEcdsa(claims, esKeys.privateKey, kid, header);
}

/** ES256 JWT signed with a key that is not in the JWKS (by default claiming the JWKS key's kid). */
export function signForeignES256(claims, { kid = ES_KID, header = {} } = {}) {
  return signEcdsa(claims, foreignKeys.privateKey, kid, header);
}

/** A new P-256 signing key as `{ jwk, sign(claims) }`, for key-rotation tests: publish `jwk` in a JWKS. */
export function newEs256Key(kid) {
  const k = crypto.generateKeyPairSync("ec", { namedCurve: "P-256" });
  return {
    jwk: { ...k.publicKey.export({ format: "jwk" }), kid, alg: "ES256", use: "sig", key_ops: ["verify"] },
    sign: (claims) => signEcdsa(claims, k.privateKey, kid, {}),
  };
}

/** RS256 JWT signed with the key the stand-in's JWKS publishes. */
export function signRS256(claims, { kid = RS_KID, header = {} } = {}) {
  const h = { alg: "RS256", typ: "JWT", ...(kid ? { kid } : {}), ...header };
  const input = encodeParts(h, claims);
  const sig = crypto.sign("sha256", Buffer.from(input), rsKeys.privateKey);
  return `${input}.${sig.toString("base64url")}`;
}

/** An unsigned `alg: none` token. */
export function signNone(claims) {
  return `${encodeParts({ alg: "none", typ: "JWT" }, claims)}.`;
}

const now = () => Math.floor(Date.now() / 1000);

/** Claims of a Supabase Auth access token for `supabaseUrl`. */
export function userClaims(supabaseUrl, overrides = {}) {
  const t = now();
  return {
    iss: `${supabaseUrl}/auth/v1`,
    aud: "authenticated",
    sub: crypto.randomUUID(),
    exp: t + 3600,
    iat: t,
    role: "authenticated",
    aal: "aal1",
    session_id: crypto.randomUUID(),
    email: "user@example.com",
    phone: "",
    is_anonymous: false,
    app_metadata: { provider: "email", providers: ["email"] },
    user_metadata: {},
    ...overrides,
  };
}

/** Claims of the legacy anon key (HS256, `role: anon`, `iss: supabase`, no `aud`). */
export function anonKeyClaims(overrides = {}) {
  const t = now();
  return { iss: "supabase", ref: "testproject", role: "anon", iat: t - 10, exp: t + 10 * 365 * 86400, ...overrides };
}

/** Claims of the legacy service_role key. */
export function serviceRoleClaims(overrides = {}) {
  return anonKeyClaims({ role: "service_role", ...overrides });
}

// ---------------------------------------------------------------- WebSocket bits

export function wsAccept(key) {
  return crypto.createHash("sha1").update(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest("base64");
}

/** Encode a WebSocket frame (text by default); masked when `mask` (client to server). */
export function wsFrame(payload, { opcode = 1, mask = false } = {}) {
  const data = Buffer.from(payload);
  const len = data.length;
  let header;
  if (len < 126) {
    header = Buffer.from([0x80 | opcode, (mask ? 0x80 : 0) | len]);
  } else if (len < 65536) {
    header = Buffer.alloc(4);
    header[0] = 0x80 | opcode;
    header[1] = (mask ? 0x80 : 0) | 126;
    header.writeUInt16BE(len, 2);
  } else {
    header = Buffer.alloc(10);
    header[0] = 0x80 | opcode;
    header[1] = (mask ? 0x80 : 0) | 127;
    header.writeBigUInt64BE(BigInt(len), 2);
  }
  if (!mask) return Buffer.concat([header, data]);
  const key = crypto.randomBytes(4);
  const masked = Buffer.alloc(len);
  for (let i = 0; i < len; i++) masked[i] = data[i] ^ key[i % 4];
  return Buffer.concat([header, key, masked]);
}

/** Parse one frame from `buf`; returns { opcode, payload, rest } or null when incomplete. */
export function wsParse(buf) {
  if (buf.length < 2) return null;
  const opcode = buf[0] & 0x0f;
  const masked = (buf[1] & 0x80) !== 0;
  let len = buf[1] & 0x7f;
  let off = 2;
  if (len === 126) {
    if (buf.length < 4) return null;
    len = buf.readUInt16BE(2);
    off = 4;
  } else if (len === 127) {
    if (buf.length < 10) return null;
    len = Number(buf.readBigUInt64BE(2));
    off = 10;
  }
  let key = null;
  if (masked) {
    if (buf.length < off + 4) return null;
    key = buf.subarray(off, off + 4);
    off += 4;
  }
  if (buf.length < off + len) return null;
  const payload = Buffer.from(buf.subarray(off, off + len));
  if (key) for (let i = 0; i < len; i++) payload[i] ^= key[i % 4];
  return { opcode, masked, payload, rest: buf.subarray(off + len) };
}

// ---------------------------------------------------------------- the server

/**
 * Start the stand-in. `tenants` is the list of routing records the RPC answers from.
 * Returns { url, port, requests, tenants, ... , dispose() }.
 */
export async function startUpstream({ tenants = [], rs256 = true } = {}) {
  const up = {
    requests: [],
    tenants,
    /** 'ok' answers from `tenants`; 'error' answers 503 like a failing PostgREST; 'close' drops the socket. */
    directory: "ok",
    directoryDelayMs: 0,
    slowMs: 2000,
    jwksServed: 0,
    routes: new Map(),
    upgrades: [],
    /** A one-off answer for a pathname: handler(rec, res) (res is node's ServerResponse). */
    route(pathname, handler) {
      this.routes.set(pathname, handler);
    },
    /** Requests whose path starts with `prefix` (router probes excluded). */
    seen(prefix = "/") {
      return this.requests.filter((r) => r.path.startsWith(prefix));
    },
    rpcCalls() {
      return this.requests.filter((r) => r.path === "/rest/v1/rpc/resolve_tenant");
    },
    /** Requests other than directory lookups and JWKS fetches. */
    forwarded() {
      return this.requests.filter(
        (r) => r.path !== "/rest/v1/rpc/resolve_tenant" && r.path !== "/auth/v1/.well-known/jwks.json",
      );
    },
    last() {
      const f = this.forwarded();
      return f[f.length - 1];
    },
    reset() {
      this.requests.length = 0;
      this.upgrades.length = 0;
      this.jwksServed = 0;
    },
  };

  const sockets = new Set();

  function record(req, body) {
    const u = new URL(req.url, "http://upstream.invalid");
    const rec = {
      method: req.method,
      url: req.url,
      path: u.pathname,
      query: u.search,
      searchParams: u.searchParams,
      headers: { ...req.headers },
      rawHeaders: req.rawHeaders.slice(),
      body,
      at: Date.now(),
    };
    up.requests.push(rec);
    return rec;
  }

  function sendJson(res, status, value, extra = {}) {
    const text = JSON.stringify(value);
    res.writeHead(status, {
      "content-type": "application/json; charset=utf-8",
      "content-length": Buffer.byteLength(text),
      ...extra,
    });
    res.end(text);
  }

  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const rec = record(req, Buffer.concat(chunks));
      handle(rec, req, res).catch((e) => {
        try {
          sendJson(res, 500, { message: String(e) });
        } catch {}
      });
    });
  });

  async function handle(rec, req, res) {
    const custom = up.routes.get(rec.path);
    if (custom) return custom(rec, res, req);

    if (rec.path === "/auth/v1/.well-known/jwks.json") {
      up.jwksServed++;
      return sendJson(res, 200, jwks({ rs256 }), { "cache-control": "public, max-age=600" });
    }

    if (rec.path === "/rest/v1/rpc/resolve_tenant") {
      if (up.directoryDelayMs) await new Promise((r) => setTimeout(r, up.directoryDelayMs));
      if (up.directory === "close") return req.socket.destroy();
      if (up.directory === "error") {
        return sendJson(res, 503, { code: "PGRST000", message: "Could not connect with the database", details: null, hint: null });
      }
      let args;
      try {
        args = JSON.parse(rec.body.toString("utf8") || "{}");
      } catch {
        return sendJson(res, 400, { code: "PGRST102", message: "Empty or invalid json", details: null, hint: null });
      }
      let found = null;
      if (typeof args.p_slug === "string") found = up.tenants.find((t) => t.slug === args.p_slug) ?? null;
      // Any of a tenant's hostnames, as resolve_tenant matches tenant_domains (sql 018).
      else if (typeof args.p_domain === "string") found = up.tenants.find((t) => t.custom_domain === args.p_domain || (t.domains ?? []).includes(args.p_domain)) ?? null;
      // PostgREST answers a scalar json function with the bare value (`null` when the function returns null).
      return sendJson(res, 200, found);
    }

    if (rec.path.endsWith("/__slow")) {
      await new Promise((r) => setTimeout(r, up.slowMs));
      if (res.destroyed) return;
      return sendJson(res, 200, { slow: true });
    }

    if (rec.path.endsWith("/__close")) {
      return req.socket.destroy();
    }

    if (rec.path.endsWith("/__location")) {
      res.writeHead(302, { location: `${up.url}/auth/v1/callback?code=abc&next=%2Fhome`, "content-length": 0 });
      return res.end();
    }

    if (rec.path.endsWith("/__binary")) {
      // Echo the exact body bytes back, as octets.
      res.writeHead(200, { "content-type": "application/octet-stream", "content-length": rec.body.length });
      return res.end(rec.body);
    }

    return sendJson(
      res,
      200,
      {
        method: rec.method,
        path: rec.path,
        query: rec.query,
        headers: rec.headers,
        body_base64: rec.body.toString("base64"),
      },
      { "access-control-allow-origin": "*", "x-upstream": "stand-in" },
    );
  }

  server.on("upgrade", (req, socket, head) => {
    sockets.add(socket);
    const rec = record(req, Buffer.alloc(0));
    rec.upgrade = true;
    up.upgrades.push(rec);
    const key = req.headers["sec-websocket-key"];
    if (!key || (req.headers.upgrade || "").toLowerCase() !== "websocket") {
      socket.end("HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n");
      return;
    }
    socket.write(
      "HTTP/1.1 101 Switching Protocols\r\n" +
        "Upgrade: websocket\r\n" +
        "Connection: Upgrade\r\n" +
        `Sec-WebSocket-Accept: ${wsAccept(key)}\r\n` +
        "\r\n",
    );
    let buf = Buffer.from(head || []);
    const pump = () => {
      for (;;) {
        const f = wsParse(buf);
        if (!f) return;
        buf = f.rest;
        if (f.opcode === 8) {
          socket.end(wsFrame(f.payload, { opcode: 8 }));
          return;
        }
        if (f.opcode === 9) {
          socket.write(wsFrame(f.payload, { opcode: 10 }));
          continue;
        }
        socket.write(wsFrame(Buffer.concat([Buffer.from("echo:"), f.payload]), { opcode: f.opcode || 1 }));
      }
    };
    socket.on("data", (d) => {
      buf = Buffer.concat([buf, d]);
      pump();
    });
    socket.on("error", () => {});
    socket.on("close", () => sockets.delete(socket));
    pump();
  });

  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  server.keepAliveTimeout = 5000;

  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  up.port = server.address().port;
  up.url = `http://127.0.0.1:${up.port}`;
  up.dispose = async () => {
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => server.close(() => resolve()));
  };
  return up;
}

