// Benchmark reference: the same signature-verification loop as the router's
// POST /__router/bench/verify?n=N, in JS with WebCrypto. The key is imported once per isolate.
//   POST /verify?n=N with Authorization: Bearer <ES256 or HS256 token>  ->  {"n": N, "alg": "..."}
// Vars: JWK_ES256 (a public JWK, JSON), HS256_SECRET.
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

export default {
  async fetch(request, env) {
    const u = new URL(request.url);
    const n = Math.min(Number(u.searchParams.get("n") ?? "1") | 0, 100000);
    const token = (request.headers.get("authorization") ?? "").replace(/^Bearer\s+/i, "");
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
