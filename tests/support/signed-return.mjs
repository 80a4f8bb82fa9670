// The signed return's format (src/signed_return.rs), in JS: what tests use to forge, tamper with
// and read tokens, and what a JS service (the admin service's Send Email hook) can use to learn the
// tenant from a `redirect_to`:
//   rt = v1.<kid>.<tenant uuid>.<exp unix s>.<b64url(target)>.<b64url(HMAC-SHA256(secret, "tenant-router/return\n" + everything before the last "."))>
import { createHmac, timingSafeEqual } from "node:crypto";

export const RETURN_PATH = "/__router/auth/return";
const DOMAIN = "tenant-router/return\n";

export function signReturn({ kid, secret }, tenant, target, expS) {
  const signed = `v1.${kid}.${tenant}.${expS}.${Buffer.from(target).toString("base64url")}`;
  const mac = createHmac("sha256", secret).update(DOMAIN + signed).digest("base64url");
  return `${signed}.${mac}`;
}

export function returnUrl(scheme, host, token) {
  return `${scheme}://${host}${RETURN_PATH}?rt=${token}`;
}

/** The fields of a valid token, or null. `keys`: [{kid, secret}]. */
export function verifyReturn(token, keys, nowS = Math.floor(Date.now() / 1000)) {
  const cut = token.lastIndexOf(".");
  if (cut < 0) return null;
  const signed = token.slice(0, cut);
  const parts = signed.split(".");
  if (parts.length !== 5 || parts[0] !== "v1") return null;
  const key = keys.find((k) => k.kid === parts[1]);
  if (!key) return null;
  const want = createHmac("sha256", key.secret).update(DOMAIN + signed).digest();
  const got = Buffer.from(token.slice(cut + 1), "base64url");
  if (got.length !== want.length || !timingSafeEqual(got, want)) return null;
  const exp = Number(parts[3]);
  if (!(nowS < exp)) return null;
  return { kid: parts[1], tenant: parts[2], exp, target: Buffer.from(parts[4], "base64url").toString("utf8") };
}

/** The token of a return URL (`rt`), or null. */
export function tokenOf(url) {
  try {
    const u = new URL(url);
    return u.pathname === RETURN_PATH ? u.searchParams.get("rt") : null;
  } catch {
    return null;
  }
}
