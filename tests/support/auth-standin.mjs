// TEST STAND-IN for Supabase Auth (GoTrue). Not Supabase Auth, and never deployed: Supabase's hosted
// services cannot run on the test machines (no Docker), so this implements, as Supabase Auth documents
// them, exactly the endpoints the end-to-end suite and `make dev` use:
//
//   POST /auth/v1/signup                         email + password + data; autoconfirm: returns a session.
//                                                (supabase/config.toml ships confirmations on; the
//                                                stand-in keeps auto-confirm, the mode in which a sign-up
//                                                proves nothing, which the database must withstand)
//   POST /auth/v1/token?grant_type=password      email + password -> session
//   POST /auth/v1/token?grant_type=refresh_token refresh_token -> new session (the old refresh token is
//                                                rotated: it cannot be used again)
//   POST /auth/v1/otp                            email [+ create_user, data]: mails a one-time code (an
//                                                unknown address is signed up first, unless create_user
//                                                is false: 422 otp_disabled)
//   POST /auth/v1/verify                         email + token + type (email, magiclink, signup, invite,
//                                                recovery, email_change): the code or token_hash ->
//                                                confirmed address + session, amr otp
//   POST /auth/v1/invite[?redirect_to]           (service_role) email + data: an invited, unconfirmed
//                                                user, and a code mailed to them (its link on
//                                                redirect_to when the allow list takes it)
//   GET  /auth/v1/user                           the user of the bearer token
//   POST /auth/v1/admin/users                    (service_role) email + password [+ email_confirm,
//                                                app_metadata, user_metadata]: GoTrue's adminUserCreate,
//                                                no mail sent; 422 email_exists for a taken address
//   PUT  /auth/v1/user                           password and/or email change (internal/api/user.go): a
//                                                new address gets an `email_change` link (with
//                                                `secureEmailChange`, the current one too); it becomes
//                                                the account's at /verify
//   GET  /auth/v1/authorize?provider&redirect_to[&code_challenge&code_challenge_method]
//                                                OAuth (internal/api/external.go): a flow state whose id
//                                                is the `state`, 302 to the provider's authorize URL
//   GET|POST /auth/v1/callback?code&state        the provider's answer: the code exchanged at its token
//                                                endpoint, its user info read, the user created, linked
//                                                (same verified email) or found (same identity); 302 to
//                                                the flow's redirect_to with `?code=` (PKCE) or the
//                                                session in the fragment (implicit); any failure 302s
//                                                there with `error`, `error_code`, `error_description`
//   POST /auth/v1/token?grant_type=pkce          auth_code + code_verifier -> session, once
//   DELETE /auth/v1/admin/users/:id              (service_role) deletes the user and ends their
//                                                sessions: 200 {}, or 404 user_not_found
//   POST /auth/v1/logout[?scope=global|local|others]  revokes sessions, 204
//   POST /auth/v1/factors                        (bearer) factor_type totp [+ friendly_name, issuer]: an
//                                                unverified TOTP factor {id, type, friendly_name, totp:
//                                                {qr_code, secret, uri}} (RFC 6238: SHA-1, 6 digits, 30 s)
//   POST /auth/v1/factors/:id/challenge          (bearer) -> {id, type, expires_at} (5 minutes)
//   POST /auth/v1/factors/:id/verify             (bearer) challenge_id + code (one step of skew either
//                                                side): the factor verified, the SAME session stepped up
//                                                to aal2 (totp first in amr) -> a new session; a wrong
//                                                code 422 mfa_verification_failed
//   DELETE /auth/v1/factors/:id                  (bearer) unenrolls -> {id}
//                                                The user object lists its factors (`factors`), as
//                                                GoTrue's does, so supabase-js's mfa.listFactors and
//                                                getAuthenticatorAssuranceLevel read them.
//   GET  /auth/v1/.well-known/jwks.json          the public signing key(s)
//
// Users live in the REAL `auth.users` table of the test Postgres, so the sign-up triggers of sql/006
// fire. Passwords are hashed with bcrypt by pgcrypto's `extensions.crypt(pw, gen_salt('bf'))`, as the
// seed does (GoTrue also stores bcrypt), and checked with `crypt(pw, hash) = hash`. Writes to auth.users
// and the access token hook run with `SET LOCAL ROLE supabase_auth_admin`, the role Supabase Auth uses.
// Sessions and refresh tokens are kept in memory; a session keeps its `amr` across refreshes, as Supabase
// Auth's do (internal/models/sessions.go). Mail is not sent: one-time codes land in a TEST MAILBOX
// (`auth.mailbox(email)`), which a test reads as the address's owner would read their inbox.
//
// Access tokens carry Supabase's claim set (iss `<publicUrl>/auth/v1`, aud authenticated, exp, iat, sub,
// email, phone, app_metadata, user_metadata, role authenticated, aal (aal1; aal2 from sessionFor(id, { aal: "aal2" })), amr, session_id,
// is_anonymous), passed through the custom access token hook of sql/007
// (`select public.custom_access_token_hook($1::jsonb)`, which adds tenant_ids / tenant_roles), then
// signed ES256 with a `kid` (default) or HS256 with the legacy JWT secret (`alg: "HS256"`).
// Errors are GoTrue's (pre-2024 API version) shape `{code: <status>, error_code, msg}`.
//
//   const auth = createAuthStandin({ pool, publicUrl, jwtSecret, alg: "ES256" });
//   auth.handle(req, res, bodyBuffer)      // a request handler (mounted by supabase-standin.mjs)
//   auth.jwks(), auth.verify(token)        // keys, and verification as the REST stand-in needs it
//   auth.hookEnabled = false               // mint tokens WITHOUT running the hook (no tenant_ids)
//   await auth.mintFor(userId, { hook })   // a token for a user, for tests
//   auth.mailbox(email)                    // the codes mailed to that address, newest last
//   auth.sendEmailHook = { uri, secrets, timeoutMs?, attempts?, backoffMs? }  // mail through a Send Email hook instead (GoTrue's call:
//                                          // standard-webhooks signed, retried with a new webhook-id)
//   auth.hookCalls                         // every hook attempt: { id, status, body | error }
//   auth.externalProviders.github = { url, clientId, secret }   // GoTrue's [auth.external.github] with
//                                          // `url` (GitHub Enterprise): tests/support/oauth-provider-standin.mjs
//   auth.callbackUrl                       // the OAuth redirect_uri to register at the provider

import crypto from "node:crypto";

export const AUTH_KID = "standin-es256-1";

const ACCESS_TTL_S = 3600;

function b64url(buf) {
  return Buffer.from(buf).toString("base64url");
}

/** `extra`: more header fields (e.g. `crit`), for tests of what a verifier must refuse. */
export function signJwt(claims, { alg, key, kid, extra = {} }) {
  const header = { alg, typ: "JWT", ...(kid ? { kid } : {}), ...extra };
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  let sig;
  if (alg === "HS256") sig = crypto.createHmac("sha256", key).update(input).digest();
  else if (alg === "ES256") sig = crypto.sign("sha256", Buffer.from(input), { key, dsaEncoding: "ieee-p1363" });
  else if (alg === "RS256") sig = crypto.sign("sha256", Buffer.from(input), key);
  else throw new Error(`unsupported alg ${alg}`);
  return `${input}.${b64url(sig)}`;
}

/** Decode without verifying: { header, claims, signingInput, signature } or null. */
export function decodeJwt(token) {
  if (typeof token !== "string") return null;
  const parts = token.split(".");
  if (parts.length !== 3) return null;
  try {
    const header = JSON.parse(Buffer.from(parts[0], "base64url").toString("utf8"));
    const claims = JSON.parse(Buffer.from(parts[1], "base64url").toString("utf8"));
    if (!header || typeof header !== "object" || !claims || typeof claims !== "object") return null;
    return { header, claims, signingInput: `${parts[0]}.${parts[1]}`, signature: Buffer.from(parts[2], "base64url") };
  } catch {
    return null;
  }
}

/**
 * Verify a JWT: HS256 with `secret`, ES256 with one of `publicKeys` (kid -> KeyObject). Checks exp
 * (no leeway) and nbf. Returns { ok: true, claims } or { ok: false, reason }.
 */
export function verifyJwt(token, { secret, publicKeys = new Map(), now = Math.floor(Date.now() / 1000) }) {
  const d = decodeJwt(token);
  if (!d) return { ok: false, reason: "malformed token" };
  const { header, claims, signingInput, signature } = d;
  let good = false;
  if (header.alg === "HS256" && secret) {
    const expect = crypto.createHmac("sha256", secret).update(signingInput).digest();
    good = expect.length === signature.length && crypto.timingSafeEqual(expect, signature);
  } else if (header.alg === "ES256") {
    const key = publicKeys.get(header.kid);
    if (!key) return { ok: false, reason: `no key for kid ${JSON.stringify(header.kid)}` };
    try {
      good = crypto.verify("sha256", Buffer.from(signingInput), { key, dsaEncoding: "ieee-p1363" }, signature);
    } catch {
      good = false;
    }
  } else {
    return { ok: false, reason: `algorithm ${JSON.stringify(header.alg)} not allowed` };
  }
  if (!good) return { ok: false, reason: "signature invalid" };
  if (claims.exp !== undefined && (typeof claims.exp !== "number" || claims.exp <= now)) {
    return { ok: false, reason: "token is expired", expired: true };
  }
  if (typeof claims.nbf === "number" && claims.nbf > now) return { ok: false, reason: "token is not valid yet" };
  return { ok: true, claims };
}

class AuthError extends Error {
  constructor(status, errorCode, msg, extra = {}) {
    super(msg);
    this.status = status;
    this.errorCode = errorCode;
    this.extra = extra;
  }
}

/** gobwas/glob as GoTrue compiles allow-list entries (separators "." and "/"): `**` any run, `*` any
 * run without a separator, `?` one non-separator character. */
export function globMatch(glob, s) {
  let re = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === "*" && glob[i + 1] === "*") {
      re += ".*";
      i++;
    } else if (c === "*") re += "[^./]*";
    else if (c === "?") re += "[^./]";
    else re += c.replace(/[\\^$.|+()[\]{}]/g, "\\$&");
  }
  return new RegExp(`^${re}$`).test(s);
}

function sendJson(res, status, body, headers = {}) {
  const text = body === undefined ? "" : JSON.stringify(body);
  res.writeHead(status, {
    ...(body === undefined ? {} : { "content-type": "application/json" }),
    "content-length": Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

function sendAuthError(res, e) {
  sendJson(res, e.status, { code: e.status, error_code: e.errorCode, msg: e.message, ...e.extra });
}

function bearerOf(req) {
  const h = req.headers.authorization;
  if (typeof h !== "string") return null;
  const m = /^Bearer\s+(.+)$/i.exec(h.trim());
  return m ? m[1].trim() : null;
}

const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

function iso(d) {
  return d == null ? null : new Date(d).toISOString();
}

/** auth.users row -> the user object GoTrue returns. `external`: the user's OAuth identities. */
function userJson(u, external = []) {
  const identityId = u.id;
  const email = (u.raw_app_meta_data?.providers ?? ["email"]).includes("email") || external.length === 0
    ? [{
        identity_id: identityId,
        id: u.id,
        user_id: u.id,
        identity_data: { email: u.email, email_verified: u.email_confirmed_at != null, phone_verified: false, sub: u.id },
        provider: "email",
        last_sign_in_at: iso(u.last_sign_in_at),
        created_at: iso(u.created_at),
        updated_at: iso(u.updated_at),
        email: u.email,
      }]
    : [];
  return {
    id: u.id,
    aud: u.aud ?? "authenticated",
    role: u.role ?? "authenticated",
    email: u.email ?? "",
    email_confirmed_at: iso(u.email_confirmed_at),
    phone: u.phone ?? "",
    confirmed_at: iso(u.confirmed_at),
    last_sign_in_at: iso(u.last_sign_in_at),
    app_metadata: u.raw_app_meta_data ?? {},
    user_metadata: u.raw_user_meta_data ?? {},
    ...(u.email_change ? { new_email: u.email_change } : {}),
    identities: [...email, ...external],
    created_at: iso(u.created_at),
    updated_at: iso(u.updated_at),
    is_anonymous: u.is_anonymous ?? false,
  };
}

const B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

function base32(buf) {
  let bits = 0;
  let value = 0;
  let out = "";
  for (const byte of buf) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += B32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += B32[(value << (5 - bits)) & 31];
  return out;
}

function unbase32(text) {
  let bits = 0;
  let value = 0;
  const out = [];
  for (const c of text.replace(/=+$/, "").toUpperCase()) {
    const v = B32.indexOf(c);
    if (v < 0) throw new Error("not base32");
    value = (value << 5) | v;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 255);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** RFC 6238 TOTP (HMAC-SHA-1, 6 digits, 30 s steps) of a base32 secret at `ms`: what an authenticator app shows. */
export function totpCode(secret, ms = Date.now()) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(ms / 30_000)));
  const mac = crypto.createHmac("sha1", unbase32(secret)).update(counter).digest();
  const o = mac[mac.length - 1] & 15;
  const n = (mac.readUInt32BE(o) & 0x7fffffff) % 1_000_000;
  return String(n).padStart(6, "0");
}

/**
 * opts: { pool (pg.Pool as a superuser, e.g. postgres), publicUrl (the base URL clients and the router
 * use for this project), jwtSecret (legacy HS256 secret), alg: "ES256" | "HS256" }.
 */
export function createAuthStandin({ pool, publicUrl, jwtSecret, alg = "ES256" }) {
  if (!pool) throw new Error("auth stand-in: pool is required");
  if (!jwtSecret) throw new Error("auth stand-in: jwtSecret is required");
  const keys = crypto.generateKeyPairSync("ec", { namedCurve: "P-256" });
  const publicKeys = new Map([[AUTH_KID, keys.publicKey]]);
  /** refresh token -> { sessionId, userId, used } */
  const refreshTokens = new Map();
  /** session id -> { userId, revoked, amr } */
  const sessions = new Map();
  /** user id -> [{ id, friendly_name, factor_type, status, secret, created_at, updated_at }] */
  const factors = new Map();
  /** challenge id -> { factorId, userId, expiresAt, used } */
  const challenges = new Map();
  /** address -> [{ type, token, at }], the test mailbox */
  const mail = new Map();
  const OTP_TTL_MS = 3600_000;
  /** "provider\0provider_id" -> identity: GoTrue's auth.identities (the SQL stand-in has no such table). */
  const identities = new Map();
  /** flow state id (the OAuth `state`) -> GoTrue's auth.flow_state row. */
  const flowStates = new Map();
  const FLOW_STATE_TTL_MS = 300_000; // GoTrue's default (and minimum) FlowStateExpiryDuration
  const identitiesOf = (userId) => [...identities.values()].filter((i) => i.user_id === userId);

  const state = {
    alg,
    publicUrl,
    hookEnabled: true,
    /** GoTrue's SITE_URL and URI_ALLOW_LIST (globs): where emailed links may send the user. */
    siteUrl: "http://127.0.0.1:3000",
    allowList: [],
    /** GoTrue's [auth.hook.send_email]: { uri, secrets ("v1,whsec_…|…"), timeoutMs?, attempts? } or null (the mailbox). */
    sendEmailHook: null,
    hookCalls: [],
    /** GoTrue's MAILER_AUTOCONFIRM off: a sign-up gets a confirmation mail and no session. */
    confirmSignups: false,
    /** GoTrue's MAILER_SECURE_EMAIL_CHANGE_ENABLED (default on): an email change is confirmed from both addresses. */
    secureEmailChange: true,
    /** GoTrue's DISABLE_SIGNUP, as far as the stand-in honours it: an OAuth sign-in creates no new user. */
    disableSignup: false,
    /** GoTrue's [auth.external.<name>]: { url, clientId, secret } (only `github`, with its Enterprise `url`). */
    externalProviders: {},
    /** GoTrue's OAuth callback (API_EXTERNAL_URL + /callback): the redirect_uri registered at a provider. */
    get callbackUrl() {
      return `${state.publicUrl}/auth/v1/callback`;
    },
    get issuer() {
      return `${state.publicUrl}/auth/v1`;
    },
  };

  /** The user object with its identities and MFA factors (GoTrue lists factors, without secrets, when there are any). */
  function userOut(u) {
    const out = userJson(u, identitiesOf(u.id));
    const fs = factors.get(u.id) ?? [];
    if (fs.length) out.factors = fs.map(({ id, friendly_name, factor_type, status, created_at, updated_at }) => ({ id, friendly_name, factor_type, status, created_at, updated_at }));
    return out;
  }

  async function enrollFactor(req, body) {
    const { user } = await currentUser(req);
    if (body.factor_type !== "totp") throw new AuthError(422, "validation_failed", "factor_type needs to be totp (phone and webauthn are not in this test stand-in)");
    const mine = factors.get(user.id) ?? [];
    const friendly = typeof body.friendly_name === "string" ? body.friendly_name : "";
    if (friendly && mine.some((f) => f.friendly_name === friendly)) {
      throw new AuthError(422, "mfa_factor_name_conflict", `A factor with the friendly name "${friendly}" for this user already exists`);
    }
    const now = new Date().toISOString();
    const f = { id: crypto.randomUUID(), friendly_name: friendly, factor_type: "totp", status: "unverified", secret: base32(crypto.randomBytes(20)), created_at: now, updated_at: now };
    factors.set(user.id, [...mine, f]);
    const issuer = typeof body.issuer === "string" && body.issuer ? body.issuer : new URL(state.publicUrl).host;
    const uri = `otpauth://totp/${encodeURIComponent(issuer)}:${encodeURIComponent(user.email ?? "")}?issuer=${encodeURIComponent(issuer)}&secret=${f.secret}`;
    // GoTrue renders the URI as an SVG QR code; the stand-in's is a labelled SVG (no QR encoder here).
    const qr = `<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><title>${uri.replace(/[<&>"]/g, "")}</title></svg>`;
    return { id: f.id, type: "totp", friendly_name: friendly, totp: { qr_code: qr, secret: f.secret, uri } };
  }

  async function factorOf(req, id) {
    const { user, claims } = await currentUser(req);
    const f = (factors.get(user.id) ?? []).find((x) => x.id === id);
    if (!f) throw new AuthError(404, "mfa_factor_not_found", "Factor not found");
    return { user, claims, f };
  }

  async function challengeFactor(req, id) {
    const { user, f } = await factorOf(req, id);
    const c = { id: crypto.randomUUID(), factorId: f.id, userId: user.id, expiresAt: Date.now() + 300_000, used: false };
    challenges.set(c.id, c);
    return { id: c.id, type: "totp", expires_at: Math.floor(c.expiresAt / 1000) };
  }

  async function verifyFactor(req, id, body) {
    const { user, claims, f } = await factorOf(req, id);
    const c = challenges.get(body.challenge_id);
    if (!c || c.factorId !== f.id || c.userId !== user.id) throw new AuthError(404, "mfa_challenge_not_found", "MFA factor with the provided challenge ID not found");
    if (c.used || Date.now() > c.expiresAt) throw new AuthError(422, "mfa_challenge_expired", `MFA challenge ${c.id} has expired, verify against another challenge or create a new challenge.`);
    const code = typeof body.code === "string" ? body.code.trim() : "";
    const now = Date.now();
    if (![-30_000, 0, 30_000].some((d) => totpCode(f.secret, now + d) === code)) {
      throw new AuthError(422, "mfa_verification_failed", "Invalid TOTP code entered");
    }
    c.used = true;
    f.status = "verified";
    f.updated_at = new Date().toISOString();
    const session = sessions.get(claims.session_id);
    if (!session || session.revoked) throw new AuthError(403, "session_not_found", "Session from session_id claim in JWT does not exist");
    session.aal = "aal2";
    session.amr = [{ method: "totp", timestamp: Math.floor(now / 1000) }, ...session.amr.filter((m) => m.method !== "totp")];
    const access_token = await mintAccessToken(user, claims.session_id, { amr: session.amr, aal: "aal2" });
    const refresh_token = crypto.randomBytes(9).toString("base64url").slice(0, 12);
    refreshTokens.set(refresh_token, { sessionId: claims.session_id, userId: user.id, used: false });
    const t = Math.floor(now / 1000);
    return { access_token, token_type: "bearer", expires_in: ACCESS_TTL_S, expires_at: t + ACCESS_TTL_S, refresh_token, user: userOut(user) };
  }

  async function unenrollFactor(req, id) {
    const { user, f } = await factorOf(req, id);
    factors.set(user.id, (factors.get(user.id) ?? []).filter((x) => x !== f));
    return { id: f.id };
  }

  async function tx(fn) {
    const client = await pool.connect();
    try {
      await client.query("begin");
      const out = await fn(client);
      await client.query("commit");
      return out;
    } catch (e) {
      await client.query("rollback").catch(() => {});
      throw e;
    } finally {
      client.release();
    }
  }

  async function loadUser(client, id) {
    const r = await client.query("select * from auth.users where id = $1", [id]);
    return r.rows[0] ?? null;
  }

  /** The user `id` outside any transaction (the pool lends and takes back a client). */
  function userById(id) {
    return loadUser(pool, id);
  }

  async function mintSession(user, { hook = state.hookEnabled, method = "password", aal = "aal1" } = {}) {
    const sessionId = crypto.randomUUID();
    const amr = [{ method, timestamp: Math.floor(Date.now() / 1000) }];
    // A session stepped up with a second factor, as after POST /factors/:id/verify: aal2, totp first in amr.
    if (aal === "aal2") amr.unshift({ method: "totp", timestamp: Math.floor(Date.now() / 1000) });
    sessions.set(sessionId, { userId: user.id, revoked: false, amr, aal });
    const access_token = await mintAccessToken(user, sessionId, { hook, amr, aal });
    const refresh_token = crypto.randomBytes(9).toString("base64url").slice(0, 12);
    refreshTokens.set(refresh_token, { sessionId, userId: user.id, used: false });
    const now = Math.floor(Date.now() / 1000);
    return {
      access_token,
      token_type: "bearer",
      expires_in: ACCESS_TTL_S,
      expires_at: now + ACCESS_TTL_S,
      refresh_token,
      user: userOut(user),
    };
  }

  async function mintAccessToken(user, sessionId, { hook = state.hookEnabled, amr, aal = "aal1" } = {}) {
    const now = Math.floor(Date.now() / 1000);
    const method = amr[amr.length - 1].method;
    let claims = {
      iss: state.issuer,
      sub: user.id,
      aud: "authenticated",
      exp: now + ACCESS_TTL_S,
      iat: now,
      email: user.email ?? "",
      phone: user.phone ?? "",
      app_metadata: user.raw_app_meta_data ?? {},
      user_metadata: user.raw_user_meta_data ?? {},
      role: user.role || "authenticated",
      aal,
      amr,
      session_id: sessionId,
      is_anonymous: user.is_anonymous ?? false,
    };
    if (hook) {
      // As Supabase Auth calls a Postgres hook: as supabase_auth_admin, with the event as jsonb.
      const out = await tx(async (c) => {
        await c.query("set local role supabase_auth_admin");
        const r = await c.query("select public.custom_access_token_hook($1::jsonb) as out", [
          JSON.stringify({ user_id: user.id, claims, authentication_method: method }),
        ]);
        return r.rows[0].out;
      });
      if (!out || typeof out !== "object" || !out.claims || typeof out.claims !== "object") {
        throw new AuthError(500, "unexpected_failure", "Error running hook URI: pg-functions://postgres/public/custom_access_token_hook");
      }
      claims = out.claims;
    }
    if (state.alg === "HS256") return signJwt(claims, { alg: "HS256", key: jwtSecret });
    return signJwt(claims, { alg: "ES256", key: keys.privateKey, kid: AUTH_KID });
  }

  /** Verify one of this project's user tokens (what GoTrue does for /user and /logout). */
  function verifyUserToken(token) {
    const v = verifyJwt(token, { secret: jwtSecret, publicKeys });
    if (!v.ok) throw new AuthError(403, "bad_jwt", `invalid JWT: unable to parse or verify signature, ${v.reason}`);
    const c = v.claims;
    if (typeof c.sub !== "string" || !c.sub) throw new AuthError(403, "bad_jwt", "invalid claim: missing sub claim");
    return c;
  }

  async function signup(body, redirectTo) {
    const email = typeof body.email === "string" ? body.email.trim().toLowerCase() : "";
    const password = typeof body.password === "string" ? body.password : "";
    if (!email && !body.phone) throw new AuthError(400, "validation_failed", "To signup, please provide your email");
    if (!EMAIL_RE.test(email)) throw new AuthError(400, "validation_failed", "Unable to validate email address: invalid format");
    if (!password) throw new AuthError(422, "validation_failed", "Signup requires a valid password");
    if (password.length < 6) {
      throw new AuthError(422, "weak_password", "Password should be at least 6 characters.", {
        weak_password: { reasons: ["length"] },
      });
    }
    const data = body.data && typeof body.data === "object" && !Array.isArray(body.data) ? body.data : {};
    const user = await tx(async (c) => {
      const exists = await c.query("select 1 from auth.users where lower(email) = $1", [email]);
      if (exists.rowCount) throw new AuthError(422, "user_already_exists", "User already registered");
      // bcrypt through pgcrypto (as the superuser: supabase_auth_admin has no usage on `extensions`).
      const h = await c.query("select extensions.crypt($1, extensions.gen_salt('bf', 10)) as h", [password]);
      await c.query("set local role supabase_auth_admin");
      const id = crypto.randomUUID();
      const ins = await c.query(
        `insert into auth.users (instance_id, id, aud, role, email, encrypted_password, email_confirmed_at,
           confirmation_token, recovery_token, email_change_token_new, email_change, last_sign_in_at,
           raw_app_meta_data, raw_user_meta_data, created_at, updated_at, is_anonymous)
         values ('00000000-0000-0000-0000-000000000000', $1, 'authenticated', 'authenticated', $2, $3,
           case when $6 then null else now() end, '', '', '', '', now(), $4::jsonb, $5::jsonb, now(), now(), false)
         returning *`,
        [id, email, h.rows[0].h, JSON.stringify({ provider: "email", providers: ["email"] }), JSON.stringify(data), state.confirmSignups],
      );
      return ins.rows[0];
    });
    if (state.confirmSignups) {
      await sendCode(email, "signup", redirectTarget(redirectTo));
      return userOut(user);
    }
    return mintSession(user);
  }

  async function passwordGrant(body) {
    const email = typeof body.email === "string" ? body.email.trim().toLowerCase() : "";
    const password = typeof body.password === "string" ? body.password : "";
    if (!email && !body.phone) throw new AuthError(400, "validation_failed", "missing email or phone");
    if (!password) throw new AuthError(400, "validation_failed", "missing password");
    const user = await tx(async (c) => {
      const r = await c.query(
        `select u.*, (u.encrypted_password is not null and u.encrypted_password <> ''
                      and extensions.crypt($2, u.encrypted_password) = u.encrypted_password) as password_ok
         from auth.users u where lower(u.email) = $1 and u.deleted_at is null`,
        [email, password],
      );
      const u = r.rows[0];
      if (!u || !u.password_ok) throw new AuthError(400, "invalid_credentials", "Invalid login credentials");
      if (u.banned_until && new Date(u.banned_until) > new Date()) throw new AuthError(400, "user_banned", "User is banned");
      if (!u.email_confirmed_at) throw new AuthError(400, "email_not_confirmed", "Email not confirmed");
      await c.query("set local role supabase_auth_admin");
      const up = await c.query("update auth.users set last_sign_in_at = now() where id = $1 returning *", [u.id]);
      return up.rows[0];
    });
    return mintSession(user);
  }

  // GoTrue's `utilities.GetReferrer` + `IsRedirectURLValid`: a redirect_to on the Site URL's host or
  // matching an allow-list glob (gobwas/glob, separators "." and "/") is used; anything else is
  // refused and the Site URL used instead.
  function redirectTarget(requested) {
    if (!requested) return state.siteUrl;
    let ref, base;
    try {
      ref = new URL(requested);
      base = new URL(state.siteUrl);
    } catch {
      return state.siteUrl;
    }
    if (ref.hostname === base.hostname) return requested;
    return state.allowList.some((g) => globMatch(g, requested)) ? requested : state.siteUrl;
  }

  // The link GoTrue's default templates render, as `{{ .RedirectTo }}&token_hash={{ .TokenHash }}&type=…`
  // (the router's documented template; docs/auth-domains.md). With a Send Email hook configured
  // (`auth.sendEmailHook`), the code is issued the same way but mailed by the hook, not the mailbox.
  async function sendCode(email, type, redirectTo = state.siteUrl) {
    const token = String(crypto.randomInt(0, 1_000_000)).padStart(6, "0");
    // crypto.GenerateTokenHash in supabase/auth: hex(sha224(email + otp)).
    const tokenHash = crypto.createHash("sha224").update(email + token).digest("hex");
    const sep = redirectTo.includes("?") ? "&" : "?";
    const link = `${redirectTo}${sep}token_hash=${tokenHash}&type=${type}`;
    const entry = { type, token, tokenHash, redirectTo, link, at: Date.now(), viaHook: Boolean(state.sendEmailHook) };
    if (!mail.has(email)) mail.set(email, []);
    mail.get(email).push(entry);
    if (state.sendEmailHook) {
      try {
        await callSendEmailHook(email, { token, token_hash: tokenHash, redirect_to: redirectTo, email_action_type: type });
      } catch (e) {
        entry.used = true; // never mailed: not usable either
        throw e;
      }
    }
    return token;
  }

  // GoTrue's HTTP hook call (internal/hooks/v0hooks, internal/api/hooks.go): the payload
  // {user, email_data}, signed with standard webhooks by every configured secret, a fresh
  // `webhook-id` per attempt, up to three attempts when the hook times out or answers 429/503;
  // any other non-2xx fails the request. Attempts are `backoffMs` apart (GoTrue: 2 s).
  async function callSendEmailHook(email, emailData) {
    const { uri, secrets, timeoutMs = 5000, attempts = 3, backoffMs = 2000 } = state.sendEmailHook;
    const r = await pool.query("select * from auth.users where lower(email) = $1", [email]);
    const user = r.rows[0] ? userOut(r.rows[0]) : { email };
    const body = JSON.stringify({ user, email_data: { site_url: state.siteUrl, token_new: "", token_hash_new: "", ...emailData } });
    const keys = String(secrets).split("|").map((x) => x.trim()).filter(Boolean)
      .map((x) => Buffer.from(x.replace(/^v1,whsec_/, ""), "base64"));
    let last = "no attempt";
    for (let i = 0; i < attempts; i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, backoffMs));
      const id = `msg_${crypto.randomUUID()}`;
      const ts = Math.floor(Date.now() / 1000);
      const signature = keys.map((k) => `v1,${crypto.createHmac("sha256", k).update(`${id}.${ts}.${body}`).digest("base64")}`).join(" ");
      try {
        const res = await fetch(uri, {
          method: "POST",
          headers: { "content-type": "application/json", "webhook-id": id, "webhook-timestamp": String(ts), "webhook-signature": signature },
          body,
          signal: AbortSignal.timeout(timeoutMs),
        });
        const text = await res.text();
        state.hookCalls.push({ id, status: res.status, body: text });
        if (res.ok) return;
        last = `${res.status} ${text}`;
        if (![429, 503].includes(res.status)) break;
      } catch (e) {
        state.hookCalls.push({ id, status: null, error: String(e?.name ?? e) });
        last = String(e?.name ?? e);
      }
    }
    throw new AuthError(500, "hook_timeout_after_retry", `Error sending email: the send email hook failed (${last})`);
  }

  function emailOf(body) {
    const email = typeof body.email === "string" ? body.email.trim().toLowerCase() : "";
    if (!EMAIL_RE.test(email)) throw new AuthError(400, "validation_failed", "Unable to validate email address: invalid format");
    return email;
  }

  async function insertUser(c, email, data, { invited = false } = {}) {
    await c.query("set local role supabase_auth_admin");
    const ins = await c.query(
      `insert into auth.users (instance_id, id, aud, role, email, invited_at, confirmation_token, recovery_token,
         email_change_token_new, email_change, raw_app_meta_data, raw_user_meta_data, created_at, updated_at, is_anonymous)
       values ('00000000-0000-0000-0000-000000000000', $1, 'authenticated', 'authenticated', $2,
         case when $3 then now() end, '', '', '', '', $4::jsonb, $5::jsonb, now(), now(), false)
       returning *`,
      [crypto.randomUUID(), email, invited, JSON.stringify({ provider: "email", providers: ["email"] }), JSON.stringify(data)],
    );
    return ins.rows[0];
  }

  // POST /otp (GoTrue's MagicLink/Otp handlers): an existing user gets a code; an unknown address is
  // signed up (unconfirmed) first unless create_user is false.
  async function otp(body, redirectTo) {
    const email = emailOf(body);
    const createUser = body.create_user !== false;
    const data = body.data && typeof body.data === "object" && !Array.isArray(body.data) ? body.data : {};
    await tx(async (c) => {
      const r = await c.query("select id from auth.users where lower(email) = $1", [email]);
      if (!r.rowCount) {
        if (!createUser) throw new AuthError(422, "otp_disabled", "Signups not allowed for otp");
        await insertUser(c, email, data);
      }
    });
    await sendCode(email, "magiclink", redirectTarget(redirectTo));
    return {};
  }

  // POST /recover: a recovery link for a known address; silence for an unknown one (no enumeration).
  async function recover(body, redirectTo) {
    const email = emailOf(body);
    const r = await tx((c) => c.query("select id from auth.users where lower(email) = $1", [email]));
    if (r.rowCount) await sendCode(email, "recovery", redirectTarget(redirectTo));
    return {};
  }

  // POST /verify with email + token: the newest unexpired code of the address, used once.
  // With token_hash instead (verify.go `verifyPost`: the hash alone finds the user, no email, no PKCE
  // verifier, so any device can open the link); the type must be the one the link was sent for
  // (`email` stands for signup and magiclink alike).
  async function verify(body) {
    const type = typeof body.type === "string" ? body.type : "";
    if (!["email", "magiclink", "signup", "invite", "recovery", "email_change"].includes(type)) {
      throw new AuthError(400, "validation_failed", "Verify requires a verification type");
    }
    let email, box, i;
    if (typeof body.token_hash === "string" && body.token_hash) {
      const fits = (m) => m.type === type || (type === "email" && ["signup", "magiclink"].includes(m.type));
      for (const [addr, msgs] of mail) {
        const j = msgs.findIndex((m) => m.tokenHash === body.token_hash && fits(m) && Date.now() - m.at < OTP_TTL_MS && !m.used);
        if (j >= 0) [email, box, i] = [addr, msgs, j];
      }
      if (!box) throw new AuthError(403, "otp_expired", "Email link is invalid or has expired");
    } else {
      email = emailOf(body);
      box = mail.get(email) ?? [];
      i = box.findIndex((m) => m.token === String(body.token ?? "") && Date.now() - m.at < OTP_TTL_MS && !m.used);
    }
    if (i < 0) throw new AuthError(403, "otp_expired", "Token has expired or is invalid");
    box[i].used = true;
    if (box[i].change) return verifyEmailChange(box[i]);
    const user = await tx(async (c) => {
      await c.query("set local role supabase_auth_admin");
      const r = await c.query(
        `update auth.users set email_confirmed_at = coalesce(email_confirmed_at, now()), last_sign_in_at = now()
         where lower(email) = $1 returning *`,
        [email],
      );
      if (!r.rowCount) throw new AuthError(403, "otp_expired", "Token has expired or is invalid");
      return r.rows[0];
    });
    // Implicit flow: Supabase Auth records every verification as amr `otp` (internal/api/verify.go).
    return mintSession(user, { method: "otp" });
  }

  // POST /invite (admin): only with the service_role key, as Supabase Auth requires.
  // PUT /user (internal/api/user.go UserUpdate): a new password (bcrypt, as at sign-up) and/or a new
  // address. The address is not changed here: an `email_change` link goes to the new address (and, with
  // secureEmailChange, another to the current one), and /verify makes the change.
  async function updateUser(req, body, redirectTo) {
    const { user } = await currentUser(req);
    if (typeof body.password === "string") {
      if (body.password.length < 6) {
        throw new AuthError(422, "weak_password", "Password should be at least 6 characters.", { weak_password: { reasons: ["length"] } });
      }
      await tx(async (c) => {
        const h = await c.query("select extensions.crypt($1, extensions.gen_salt('bf', 10)) as h", [body.password]);
        await c.query("set local role supabase_auth_admin");
        await c.query("update auth.users set encrypted_password = $2, updated_at = now() where id = $1", [user.id, h.rows[0].h]);
      });
    }
    if (body.email !== undefined) {
      const email = emailOf(body);
      if (email !== (user.email ?? "").toLowerCase()) {
        await tx(async (c) => {
          const r = await c.query("select 1 from auth.users where lower(email) = $1 and id <> $2", [email, user.id]);
          if (r.rowCount) throw new AuthError(422, "email_exists", "A user with this email address has already been registered");
        });
        await sendEmailChange(user, email, redirectTarget(redirectTo));
      }
    }
    return userOut(await userById(user.id));
  }

  // GoTrue's email change mail (internal/api/mail.go): a token for the new address, and with the secure
  // change one for the current address; with a Send Email hook ONE call carries both (`token_hash` for
  // the new address, `token_hash_new` for the current one), as the admin's hook expects.
  async function sendEmailChange(user, newEmail, redirectTo) {
    const current = (user.email ?? "").toLowerCase();
    const changeId = crypto.randomUUID();
    const issue = (addr, part) => {
      const token = String(crypto.randomInt(0, 1_000_000)).padStart(6, "0");
      const tokenHash = crypto.createHash("sha224").update(addr + token).digest("hex");
      const sep = redirectTo.includes("?") ? "&" : "?";
      const entry = {
        type: "email_change", token, tokenHash, redirectTo, link: `${redirectTo}${sep}token_hash=${tokenHash}&type=email_change`,
        at: Date.now(), viaHook: Boolean(state.sendEmailHook), change: { userId: user.id, newEmail, part, changeId },
      };
      if (!mail.has(addr)) mail.set(addr, []);
      mail.get(addr).push(entry);
      return entry;
    };
    // A new request replaces any pending change (GoTrue overwrites the tokens).
    for (const box of mail.values()) for (const m of box) if (m.change?.userId === user.id) m.used = true;
    const toNew = issue(newEmail, "new");
    const toCurrent = state.secureEmailChange && current ? issue(current, "current") : null;
    await tx(async (c) => {
      await c.query("set local role supabase_auth_admin");
      await c.query(
        `update auth.users set email_change = $2, email_change_token_new = $3, email_change_token_current = $4,
           email_change_confirm_status = 0, email_change_sent_at = now() where id = $1`,
        [user.id, newEmail, toNew.tokenHash, toCurrent?.tokenHash ?? ""],
      );
    });
    if (state.sendEmailHook) {
      try {
        await callSendEmailHook(current, {
          token: toNew.token, token_hash: toNew.tokenHash, token_new: toCurrent?.token ?? "", token_hash_new: toCurrent?.tokenHash ?? "",
          redirect_to: redirectTo, email_action_type: "email_change",
        });
      } catch (e) {
        toNew.used = true;
        if (toCurrent) toCurrent.used = true;
        throw e;
      }
    }
  }

  // /verify of an email_change link: that address's half is confirmed; with both halves (one without
  // the secure change) the new address becomes the account's (emailChangeVerify in verify.go).
  async function verifyEmailChange(entry) {
    const { userId, newEmail } = entry.change;
    const parts = [...mail.values()].flat().filter((m) => m.change?.changeId === entry.change.changeId);
    if (parts.some((m) => !m.used)) {
      await tx(async (c) => {
        await c.query("set local role supabase_auth_admin");
        await c.query("update auth.users set email_change_confirm_status = 1 where id = $1", [userId]);
      });
      return { msg: "Confirmation link accepted. Please proceed to confirm link sent to the other email", code: 200 };
    }
    const user = await tx(async (c) => {
      await c.query("set local role supabase_auth_admin");
      const r = await c.query(
        `update auth.users set email = email_change, email_change = '', email_change_token_new = '', email_change_token_current = '',
           email_change_confirm_status = 0, email_confirmed_at = coalesce(email_confirmed_at, now()), last_sign_in_at = now(), updated_at = now()
         where id = $1 and email_change = $2 returning *`,
        [userId, newEmail],
      );
      if (!r.rowCount) throw new AuthError(403, "otp_expired", "Email link is invalid or has expired");
      return r.rows[0];
    });
    return mintSession(user, { method: "otp" });
  }

  // ---- OAuth (internal/api/external.go, external_oauth.go, provider/github.go, token.go PKCE) ----

  /** GoTrue's oauthErrorMap: the `error` of a redirect for an HTTP status. */
  const OAUTH_ERROR = { 400: "invalid_request", 401: "unauthorized_client", 403: "access_denied", 404: "invalid_request", 422: "invalid_request", 500: "server_error", 503: "temporarily_unavailable" };

  function providerConfig(name) {
    const n = String(name ?? "").toLowerCase();
    const cfg = state.externalProviders[n];
    if (n !== "github" || !cfg) {
      throw new AuthError(400, "validation_failed", `Unsupported provider: Provider ${n} could not be found`);
    }
    // provider/github.go with an Enterprise url: auth on <url>/login/oauth, the API on <url>/api/v3.
    return { name: n, ...cfg, authUrl: `${cfg.url}/login/oauth/authorize`, tokenUrl: `${cfg.url}/login/oauth/access_token`, apiUrl: `${cfg.url}/api/v3` };
  }

  // GET /authorize: validatePKCEParams, a flow state for both flows (its id is the `state`), then 302.
  function authorize(url, redirectTo) {
    const q = url.searchParams;
    const p = providerConfig(q.get("provider"));
    const challenge = q.get("code_challenge") ?? "";
    const method = q.get("code_challenge_method") ?? "";
    if ((challenge === "") !== (method === "")) {
      throw new AuthError(400, "validation_failed", "PKCE flow requires code_challenge_method and code_challenge");
    }
    if (challenge && !/^[A-Za-z0-9._~-]{43,128}$/.test(challenge)) {
      throw new AuthError(400, "validation_failed", "code challenge has to be between 43 and 128 characters and only contain alphanumeric characters, '-', '.', '_' and '~'");
    }
    if (challenge && !["s256", "plain"].includes(method.toLowerCase())) {
      throw new AuthError(400, "validation_failed", "Invalid code_challenge_method");
    }
    const id = crypto.randomUUID();
    flowStates.set(id, {
      id, provider: p.name, challenge: challenge || null, challengeMethod: method.toLowerCase() || null,
      referrer: redirectTarget(redirectTo), createdAt: Date.now(), userId: null, authCode: null, providerToken: null,
    });
    const scopes = ["user:email", ...(q.get("scopes") ? q.get("scopes").split(",") : [])];
    const to = new URL(p.authUrl);
    to.search = new URLSearchParams({ client_id: p.clientId, redirect_uri: state.callbackUrl, response_type: "code", scope: scopes.join(" "), state: id }).toString();
    return to.toString();
  }

  // GET|POST /callback: every failure is a redirect to the flow's referrer (or the Site URL) with the
  // error in the query and the fragment (redirectErrors), never a page of its own.
  async function callback(req, url, body) {
    const q = req.method === "POST" && /x-www-form-urlencoded/.test(req.headers["content-type"] ?? "")
      ? new URLSearchParams(body.toString("utf8"))
      : url.searchParams;
    let target = state.siteUrl;
    try {
      const stateId = q.get("state") ?? "";
      if (!stateId) throw new AuthError(400, "bad_oauth_callback", "OAuth state parameter missing");
      if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(stateId)) {
        throw new AuthError(400, "bad_oauth_state", "OAuth state parameter is invalid");
      }
      const flow = flowStates.get(stateId.toLowerCase());
      if (!flow) throw new AuthError(400, "bad_oauth_state", "OAuth state not found or expired");
      target = flow.referrer;
      if (Date.now() - flow.createdAt > FLOW_STATE_TTL_MS) throw new AuthError(400, "bad_oauth_state", "OAuth state has expired");
      if (flow.challenge && flow.userId) throw new AuthError(400, "flow_state_already_used", "State has already been used");
      if (q.get("error")) throw Object.assign(new AuthError(400, "", q.get("error_description") ?? ""), { oauthError: q.get("error") });
      const code = q.get("code") ?? "";
      if (!code) throw new AuthError(400, "bad_oauth_callback", "OAuth callback with missing authorization code missing");
      const p = providerConfig(flow.provider);
      const { token, data } = await providerUser(p, code);
      const user = await externalAccount(p.name, data);
      if (flow.challenge) {
        flow.userId = user.id;
        flow.authCode = crypto.randomUUID();
        flow.providerToken = token;
        flow.codeIssuedAt = Date.now();
        const to = new URL(target);
        to.searchParams.set("code", flow.authCode);
        return to.toString();
      }
      flowStates.delete(flow.id);
      const s = await mintSession(user, { method: "oauth" });
      const frag = new URLSearchParams({
        access_token: s.access_token, expires_at: String(s.expires_at), expires_in: String(s.expires_in),
        provider_token: token, refresh_token: s.refresh_token, token_type: "bearer",
      });
      const to = new URL(target);
      to.hash = frag.toString();
      return to.toString();
    } catch (e) {
      if (!(e instanceof AuthError)) throw e;
      const to = new URL(target);
      const error = e.oauthError ?? (["signup_disabled", "user_banned", "provider_email_needs_verification"].includes(e.errorCode) ? "access_denied" : OAUTH_ERROR[e.status] ?? "server_error");
      to.searchParams.set("error", error);
      to.searchParams.set("error_description", e.message);
      if (e.errorCode) to.searchParams.set("error_code", e.errorCode);
      const h = new URLSearchParams({ error, error_description: e.message, ...(e.errorCode ? { error_code: e.errorCode } : {}), sb: "" });
      to.hash = h.toString();
      return to.toString();
    }
  }

  // golang.org/x/oauth2 Exchange (client credentials in Basic auth, a form body) and the github
  // provider's GetUserData (/user, then /user/emails; the primary address is the account's).
  async function providerUser(p, code) {
    const form = new URLSearchParams({ grant_type: "authorization_code", code, redirect_uri: state.callbackUrl });
    const basic = Buffer.from(`${encodeURIComponent(p.clientId)}:${encodeURIComponent(p.secret)}`).toString("base64");
    const tr = await fetch(p.tokenUrl, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", authorization: `Basic ${basic}` },
      body: form.toString(),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await tr.text();
    const t = /json/.test(tr.headers.get("content-type") ?? "") ? JSON.parse(text) : Object.fromEntries(new URLSearchParams(text));
    if (!tr.ok || t.error || !t.access_token) {
      throw new AuthError(500, "unexpected_failure", `Unable to exchange external code: ${code.slice(0, 4)}`);
    }
    const get = async (path) => {
      const r = await fetch(`${p.apiUrl}${path}`, { headers: { authorization: `Bearer ${t.access_token}`, accept: "application/json" }, signal: AbortSignal.timeout(10_000) });
      if (!r.ok) throw new AuthError(500, "unexpected_failure", "Error getting user profile from external provider");
      return r.json();
    };
    const u = await get("/user");
    const emails = (await get("/user/emails")).filter((e) => e && typeof e.email === "string" && e.email);
    if (emails.length === 0) throw new AuthError(500, "unexpected_failure", "Error getting user email from external provider");
    const primary = emails.find((e) => e.primary) ?? emails.at(-1);
    const data = {
      iss: p.apiUrl, sub: String(u.id), name: u.name ?? "", preferred_username: u.login ?? "", avatar_url: u.avatar_url ?? "",
      full_name: u.name ?? "", provider_id: String(u.id), user_name: u.login ?? "",
      email: primary.email.toLowerCase(), email_verified: Boolean(primary.verified), phone_verified: false,
    };
    return { token: t.access_token, data, verifiedEmails: emails.filter((e) => e.verified).map((e) => e.email.toLowerCase()) };
  }

  // createAccountFromExternalIdentity with models.DetermineAccountLinking: the same identity signs its
  // user in (AccountExists); else a user with that verified email gets the identity (LinkAccount); else
  // a new user whose app_metadata.provider is the provider (CreateAccount). An unverified address makes
  // an unconfirmed user, is mailed a confirmation, and the sign-in is refused.
  async function externalAccount(provider, data) {
    const key = `${provider}\0${data.sub}`;
    const now = new Date().toISOString();
    const user = await tx(async (c) => {
      const known = identities.get(key);
      let u;
      if (known) {
        u = await loadUser(c, known.user_id);
        if (!u) identities.delete(key);
      }
      if (u) {
        Object.assign(known, { identity_data: data, last_sign_in_at: now, updated_at: now });
      } else {
        const byEmail = data.email_verified
          ? (await c.query("select * from auth.users where lower(email) = $1 and deleted_at is null", [data.email])).rows[0]
          : null;
        await c.query("set local role supabase_auth_admin");
        if (byEmail) {
          u = byEmail;
        } else {
          if (state.disableSignup) throw new AuthError(422, "signup_disabled", "Signups not allowed for this instance");
          const ins = await c.query(
            `insert into auth.users (instance_id, id, aud, role, email, email_confirmed_at, confirmation_token, recovery_token,
               email_change_token_new, email_change, raw_app_meta_data, raw_user_meta_data, created_at, updated_at, is_anonymous)
             values ('00000000-0000-0000-0000-000000000000', $1, 'authenticated', 'authenticated', $2,
               case when $3 then now() end, '', '', '', '', $4::jsonb, $5::jsonb, now(), now(), false)
             returning *`,
            [crypto.randomUUID(), data.email, data.email_verified, JSON.stringify({ provider, providers: [provider] }), JSON.stringify(data)],
          );
          u = ins.rows[0];
        }
        identities.set(key, {
          identity_id: crypto.randomUUID(), id: data.sub, user_id: u.id, identity_data: data, provider,
          last_sign_in_at: now, created_at: now, updated_at: now, email: data.email,
        });
      }
      await c.query("set local role supabase_auth_admin");
      // UpdateUserMetaData (merge) and UpdateAppMetaDataProviders (every identity's provider).
      const providers = [...new Set([...(u.raw_app_meta_data?.providers ?? []), provider])];
      const up = await c.query(
        `update auth.users set raw_user_meta_data = coalesce(raw_user_meta_data, '{}'::jsonb) || $2::jsonb,
           raw_app_meta_data = coalesce(raw_app_meta_data, '{}'::jsonb) || jsonb_build_object('providers', $3::jsonb),
           last_sign_in_at = case when email_confirmed_at is not null then now() else last_sign_in_at end, updated_at = now()
         where id = $1 returning *`,
        [u.id, JSON.stringify(data), JSON.stringify(providers)],
      );
      return up.rows[0];
    });
    if (!user.email_confirmed_at) {
      await sendCode(user.email, "signup", state.siteUrl);
      throw new AuthError(422, "provider_email_needs_verification", `Unverified email with ${provider}. A confirmation email has been sent to your ${provider} email`);
    }
    return user;
  }

  // POST /token?grant_type=pkce (token.go PKCE): the flow's auth code and the verifier of its challenge.
  async function pkceGrant(body) {
    const authCode = typeof body.auth_code === "string" ? body.auth_code : "";
    const verifier = typeof body.code_verifier === "string" ? body.code_verifier : "";
    if (!authCode || !verifier) {
      throw new AuthError(400, "validation_failed", "invalid request: both auth code and code verifier should be non-empty");
    }
    const flow = [...flowStates.values()].find((f) => f.authCode === authCode && f.userId);
    if (!flow) throw new AuthError(404, "flow_state_not_found", "invalid flow state, no valid flow state found");
    if (Date.now() - flow.createdAt > FLOW_STATE_TTL_MS) throw new AuthError(422, "flow_state_expired", "invalid flow state, flow state has expired");
    const derived = flow.challengeMethod === "s256" ? crypto.createHash("sha256").update(verifier).digest("base64url") : verifier;
    const a = Buffer.from(derived);
    const b = Buffer.from(flow.challenge);
    if (a.length !== b.length || !crypto.timingSafeEqual(a, b)) {
      throw new AuthError(400, "bad_code_verifier", "code challenge does not match previously saved code verifier");
    }
    flowStates.delete(flow.id);
    const user = await userById(flow.userId);
    if (!user) throw new AuthError(404, "user_not_found", "User not found");
    return { ...(await mintSession(user, { method: "oauth" })), provider_token: flow.providerToken };
  }

  async function invite(req, body, redirectTo) {
    const token = bearerOf(req);
    const v = token ? verifyJwt(token, { secret: jwtSecret, publicKeys }) : { ok: false };
    if (!v.ok || v.claims.role !== "service_role") throw new AuthError(403, "not_admin", "User not allowed");
    const email = emailOf(body);
    const data = body.data && typeof body.data === "object" && !Array.isArray(body.data) ? body.data : {};
    const user = await tx(async (c) => {
      const r = await c.query("select 1 from auth.users where lower(email) = $1", [email]);
      if (r.rowCount) throw new AuthError(422, "email_exists", "A user with this email address has already been registered");
      return insertUser(c, email, data, { invited: true });
    });
    await sendCode(email, "invite", redirectTarget(redirectTo));
    return userOut(user);
  }

  // POST /admin/users (admin): GoTrue's adminUserCreate (internal/api/admin.go): the user made as
  // asked, confirmed only with email_confirm, app_metadata merged over the provider fields; no mail.
  async function adminCreateUser(req, body) {
    const token = bearerOf(req);
    const v = token ? verifyJwt(token, { secret: jwtSecret, publicKeys }) : { ok: false };
    if (!v.ok || v.claims.role !== "service_role") throw new AuthError(403, "not_admin", "User not allowed");
    const email = emailOf(body);
    const password = typeof body.password === "string" ? body.password : "";
    if (password && password.length < 6) {
      throw new AuthError(422, "weak_password", "Password should be at least 6 characters.", { weak_password: { reasons: ["length"] } });
    }
    const obj = (x) => (x && typeof x === "object" && !Array.isArray(x) ? x : {});
    const appMeta = { ...obj(body.app_metadata), provider: "email", providers: ["email"] };
    const user = await tx(async (c) => {
      const r = await c.query("select 1 from auth.users where lower(email) = $1", [email]);
      if (r.rowCount) throw new AuthError(422, "email_exists", "A user with this email address has already been registered");
      const h = password ? (await c.query("select extensions.crypt($1, extensions.gen_salt('bf', 10)) as h", [password])).rows[0].h : "";
      await c.query("set local role supabase_auth_admin");
      const ins = await c.query(
        `insert into auth.users (instance_id, id, aud, role, email, encrypted_password, email_confirmed_at,
           confirmation_token, recovery_token, email_change_token_new, email_change,
           raw_app_meta_data, raw_user_meta_data, created_at, updated_at, is_anonymous)
         values ('00000000-0000-0000-0000-000000000000', $1, 'authenticated', 'authenticated', $2, $3,
           case when $6 then now() end, '', '', '', '', $4::jsonb, $5::jsonb, now(), now(), false)
         returning *`,
        [crypto.randomUUID(), email, h, JSON.stringify(appMeta), JSON.stringify(obj(body.user_metadata)), body.email_confirm === true],
      );
      return ins.rows[0];
    });
    return userOut(user);
  }

  // DELETE /admin/users/:id (admin): GoTrue's hard delete (internal/api/admin.go, adminUserDelete).
  async function adminDeleteUser(req, id) {
    const token = bearerOf(req);
    const v = token ? verifyJwt(token, { secret: jwtSecret, publicKeys }) : { ok: false };
    if (!v.ok || v.claims.role !== "service_role") throw new AuthError(403, "not_admin", "User not allowed");
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) throw new AuthError(404, "user_not_found", "User not found");
    const n = await tx(async (c) => (await c.query("delete from auth.users where id = $1", [id])).rowCount);
    if (!n) throw new AuthError(404, "user_not_found", "User not found");
    for (const s of sessions.values()) if (s.userId === id) s.revoked = true;
    return {};
  }

  async function refreshGrant(body) {
    const rt = typeof body.refresh_token === "string" ? body.refresh_token : "";
    if (!rt) throw new AuthError(400, "validation_failed", "refresh_token required");
    const entry = refreshTokens.get(rt);
    if (!entry) throw new AuthError(400, "refresh_token_not_found", "Invalid Refresh Token: Refresh Token Not Found");
    const session = sessions.get(entry.sessionId);
    if (!session || session.revoked) throw new AuthError(400, "session_not_found", "Session from session_id claim in JWT does not exist");
    if (entry.used) throw new AuthError(400, "refresh_token_already_used", "Invalid Refresh Token: Already Used");
    entry.used = true;
    const user = await userById(entry.userId);
    if (!user) throw new AuthError(400, "user_not_found", "User not found");
    const access_token = await mintAccessToken(user, entry.sessionId, { amr: session.amr, aal: session.aal });
    const refresh_token = crypto.randomBytes(9).toString("base64url").slice(0, 12);
    refreshTokens.set(refresh_token, { sessionId: entry.sessionId, userId: user.id, used: false });
    const now = Math.floor(Date.now() / 1000);
    return { access_token, token_type: "bearer", expires_in: ACCESS_TTL_S, expires_at: now + ACCESS_TTL_S, refresh_token, user: userOut(user) };
  }

  async function currentUser(req) {
    const token = bearerOf(req);
    if (!token) throw new AuthError(401, "no_authorization", "This endpoint requires a valid Bearer token");
    const claims = verifyUserToken(token);
    if (claims.session_id) {
      const s = sessions.get(claims.session_id);
      if (!s || s.revoked) throw new AuthError(403, "session_not_found", "Session from session_id claim in JWT does not exist");
    }
    const u = await userById(claims.sub);
    if (!u) throw new AuthError(403, "user_not_found", "User from sub claim in JWT does not exist");
    return { user: u, claims };
  }

  function logout(claims, scope) {
    for (const [id, s] of sessions) {
      if (s.userId !== claims.sub) continue;
      const mine = id === claims.session_id;
      if (scope === "global" || (scope === "local" && mine) || (scope === "others" && !mine)) s.revoked = true;
    }
  }

  /** Request handler for /auth/v1/*. `body` is the request body as a Buffer. */
  async function handle(req, res, body) {
    const url = new URL(req.url, "http://standin");
    const p = url.pathname.replace(/\/+$/, "");
    try {
      const json = () => {
        if (!body || body.length === 0) return {};
        try {
          const v = JSON.parse(body.toString("utf8"));
          if (v && typeof v === "object" && !Array.isArray(v)) return v;
        } catch {
          /* fall through */
        }
        throw new AuthError(400, "bad_json", "Could not parse request body as JSON");
      };
      if (p === "/auth/v1/.well-known/jwks.json" && req.method === "GET") {
        return sendJson(res, 200, jwks(), { "cache-control": "public, max-age=600" });
      }
      if (p === "/auth/v1/health" && req.method === "GET") {
        return sendJson(res, 200, { name: "GoTrue (test stand-in)", version: "standin", description: "test stand-in" });
      }
      const redirectTo = req.headers.redirect_to || url.searchParams.get("redirect_to") || "";
      if (p === "/auth/v1/signup" && req.method === "POST") return sendJson(res, 200, await signup(json(), redirectTo));
      if (p === "/auth/v1/token" && req.method === "POST") {
        const grant = url.searchParams.get("grant_type");
        if (grant === "password") return sendJson(res, 200, await passwordGrant(json()));
        if (grant === "refresh_token") return sendJson(res, 200, await refreshGrant(json()));
        if (grant === "pkce") return sendJson(res, 200, await pkceGrant(json()));
        throw new AuthError(400, "validation_failed", "unsupported_grant_type");
      }
      if (p === "/auth/v1/otp" && req.method === "POST") return sendJson(res, 200, await otp(json(), redirectTo));
      if (p === "/auth/v1/recover" && req.method === "POST") return sendJson(res, 200, await recover(json(), redirectTo));
      if (p === "/auth/v1/verify" && req.method === "POST") return sendJson(res, 200, await verify(json()));
      if (p === "/auth/v1/invite" && req.method === "POST") return sendJson(res, 200, await invite(req, json(), redirectTo));
      const adminUser = p.match(/^\/auth\/v1\/admin\/users\/([^/]+)$/);
      if (p === "/auth/v1/admin/users" && req.method === "POST") return sendJson(res, 200, await adminCreateUser(req, json()));
      if (adminUser && req.method === "DELETE") return sendJson(res, 200, await adminDeleteUser(req, adminUser[1]));
      if (p === "/auth/v1/user" && req.method === "PUT") return sendJson(res, 200, await updateUser(req, json(), redirectTo));
      if (p === "/auth/v1/authorize" && req.method === "GET") {
        res.writeHead(302, { location: authorize(url, redirectTo), "content-length": 0 });
        return res.end();
      }
      if (p === "/auth/v1/callback" && ["GET", "POST"].includes(req.method)) {
        res.writeHead(302, { location: await callback(req, url, body), "content-length": 0 });
        return res.end();
      }
      if (p === "/auth/v1/user" && req.method === "GET") {
        const { user } = await currentUser(req);
        return sendJson(res, 200, userOut(user));
      }
      if (p === "/auth/v1/factors" && req.method === "POST") return sendJson(res, 200, await enrollFactor(req, json()));
      const factor = p.match(/^\/auth\/v1\/factors\/([^/]+)(\/challenge|\/verify)?$/);
      if (factor && req.method === "POST" && factor[2] === "/challenge") return sendJson(res, 200, await challengeFactor(req, factor[1]));
      if (factor && req.method === "POST" && factor[2] === "/verify") return sendJson(res, 200, await verifyFactor(req, factor[1], json()));
      if (factor && req.method === "DELETE" && !factor[2]) return sendJson(res, 200, await unenrollFactor(req, factor[1]));
      if (p === "/auth/v1/logout" && req.method === "POST") {
        const token = bearerOf(req);
        if (!token) throw new AuthError(401, "no_authorization", "This endpoint requires a valid Bearer token");
        const claims = verifyUserToken(token);
        const scope = url.searchParams.get("scope") || "global";
        if (!["global", "local", "others"].includes(scope)) throw new AuthError(400, "validation_failed", `Unsupported logout scope "${scope}"`);
        logout(claims, scope);
        res.writeHead(204);
        return res.end();
      }
      throw new AuthError(404, "not_found", "Not Found (this Auth test stand-in implements only signup, token, otp, verify, invite, admin/users create and delete, user, factors, authorize, callback, logout, jwks)");
    } catch (e) {
      if (e instanceof AuthError) return sendAuthError(res, e);
      console.error("auth stand-in:", e);
      return sendAuthError(res, new AuthError(500, "unexpected_failure", "Database error querying schema"));
    }
  }

  function jwks() {
    if (state.alg === "HS256") return { keys: [] };
    return {
      keys: [{ ...keys.publicKey.export({ format: "jwk" }), kid: AUTH_KID, alg: "ES256", use: "sig", key_ops: ["verify"] }],
    };
  }

  return Object.assign(state, {
    handle,
    jwks,
    publicKeys,
    /** Verify any token of this project (user token or HS256 API key), like PostgREST would. */
    verify(token) {
      return verifyJwt(token, { secret: jwtSecret, publicKeys });
    },
    /** Any claims signed with the project's own ES256 key and kid (tests of claim checks). */
    signAsProject(claims, extra = {}) {
      return signJwt(claims, { alg: "ES256", key: keys.privateKey, kid: AUTH_KID, extra });
    },
    /** A fresh session for an existing user id, optionally without the hook (no tenant_ids). */
    async sessionFor(userId, { hook = state.hookEnabled, aal = "aal1" } = {}) {
      const u = await userById(userId);
      if (!u) throw new Error(`no auth.users row ${userId}`);
      return mintSession(u, { hook, aal });
    },
    /** A verified TOTP factor for a user, as if enrolled through the API: answers its base32 secret. */
    enrollTotp(userId, friendlyName = "authenticator") {
      const now = new Date().toISOString();
      const f = { id: crypto.randomUUID(), friendly_name: friendlyName, factor_type: "totp", status: "verified", secret: base32(crypto.randomBytes(20)), created_at: now, updated_at: now };
      factors.set(userId, [...(factors.get(userId) ?? []), f]);
      return f.secret;
    },
    /** The codes mailed to an address (the TEST MAILBOX), newest last: [{ type, token, at }]. */
    mailbox(email) {
      return (mail.get(String(email).toLowerCase()) ?? []).filter((m) => !m.viaHook).map(({ type, token, tokenHash, redirectTo, link, at }) => ({
        type,
        token,
        tokenHash,
        redirectTo,
        link,
        at,
      }));
    },
    /** Mint an HS256 project API key (anon / service_role) with the legacy secret, as Supabase does. */
    apiKey(role) {
      // Fixed iat/exp (as a project's keys are fixed): the same secret gives the same key on every run.
      return signJwt({ iss: "supabase", ref: "standin", role, iat: 1700000000, exp: 2000000000 }, { alg: "HS256", key: jwtSecret });
    },
  });
}
