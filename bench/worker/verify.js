// Benchmark reference for the router's POST /__router/bench/verify?n=N, in JS with WebCrypto. Keys
// are imported once per isolate, as the router does.
//   POST /verify?n=N        the signature check alone, N times (token decoded once, outside the loop)
//   POST /verify-token?n=N  what the router does N times: split and decode the token, parse header
//                           and claims, allow-list the alg, pick the key by kid, check the signature,
//                           then exp/nbf/iss/aud/role/sub
// with Authorization: Bearer <ES256 or HS256 token>  ->  {"n": N, "alg": "..."}
// Vars: JWK_ES256 (a public JWK, JSON, with its kid), HS256_SECRET, ISSUER, AUDIENCE.
const keys = new Map();

function b64urlToBytes(s) {
  const b64 = s.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((s.length + 3) % 4);
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

async function key(alg, env) {
  let k = keys.get(alg);
  if (k) return k;
  if (alg === "ES256") {
    k = await crypto.subtle.importKey("jwk", JSON.parse(env.JWK_ES256), { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"]);
  } else if (alg === "HS256") {
    k = await crypto.subtle.importKey("raw", new TextEncoder().encode(env.HS256_SECRET), { name: "HMAC", hash: "SHA-256" }, false, ["verify"]);
  } else {
    throw new Error("unsupported alg " + alg);
  }
  keys.set(alg, k);
  return k;
}

const ALLOWED = new Set(["ES256", "HS256"]);
const LEEWAY_S = 30;
const utf8 = new TextDecoder();
const bytes = new TextEncoder();

let kid;
/** The kid of the one published ES256 key, read once (the router also keeps its JWKS parsed). */
function esKid(env) {
  kid ??= JSON.parse(env.JWK_ES256).kid;
  return kid;
}

/** One full verification of `token`: its alg, or throws. Also used by passthrough-verify.js. */
export async function verifyToken(token, env) {
  const parts = token.split(".");
  if (parts.length !== 3) throw new Error("malformed token");
  const [h, p, s] = parts;
  const header = JSON.parse(utf8.decode(b64urlToBytes(h)));
  if (!ALLOWED.has(header.alg)) throw new Error("algorithm not allowed");
  if (header.alg === "ES256" && header.kid !== esKid(env)) throw new Error("unknown kid");
  const k = await key(header.alg, env);
  const params = header.alg === "ES256" ? { name: "ECDSA", hash: "SHA-256" } : { name: "HMAC" };
  const ok = await crypto.subtle.verify(params, k, b64urlToBytes(s), bytes.encode(h + "." + p));
  if (!ok) throw new Error("bad signature");
  const c = JSON.parse(utf8.decode(b64urlToBytes(p)));
  const now = Date.now() / 1000;
  if (typeof c.exp !== "number" || now > c.exp + LEEWAY_S) throw new Error("expired");
  if (typeof c.nbf === "number" && now + LEEWAY_S < c.nbf) throw new Error("not yet valid");
  const aud = Array.isArray(c.aud) ? c.aud : [c.aud];
  if (c.role !== "authenticated" || c.iss !== env.ISSUER || !aud.includes(env.AUDIENCE) || !c.sub) throw new Error("claims");
  return header.alg;
}

export default {
  async fetch(request, env) {
    const u = new URL(request.url);
    const n = Math.min(Number(u.searchParams.get("n") ?? "1") | 0, 100000);
    const token = (request.headers.get("authorization") ?? "").replace(/^Bearer\s+/i, "");
    if (u.pathname === "/verify-token") {
      let alg = "";
      try {
        for (let i = 0; i < n; i++) alg = await verifyToken(token, env);
      } catch (e) {
        return Response.json({ code: "invalid_token", message: String(e) }, { status: 401 });
      }
      return Response.json({ n, alg });
    }
    const [h, p, s] = token.split(".");
    const header = JSON.parse(new TextDecoder().decode(b64urlToBytes(h)));
    const alg = header.alg;
    const k = await key(alg, env);
    const data = new TextEncoder().encode(h + "." + p);
    const sig = b64urlToBytes(s);
    const params = alg === "ES256" ? { name: "ECDSA", hash: "SHA-256" } : { name: "HMAC" };
    let ok = true;
    for (let i = 0; i < n; i++) {
      ok = (await crypto.subtle.verify(params, k, sig, data)) && ok;
    }
    if (!ok) return Response.json({ code: "invalid_token" }, { status: 401 });
    return Response.json({ n, alg });
  },
};
