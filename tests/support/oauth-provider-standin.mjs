// TEST STAND-IN for an OAuth 2.0 provider, shaped as GitHub (and GitHub Enterprise) documents its
// OAuth app flow ("Authorizing OAuth apps", REST "Users" and "Emails"). Not GitHub, and never
// deployed: no real provider can be reached from the test machines. Supabase Auth's `github`
// provider (internal/api/provider/github.go) talks to it through its Enterprise setting
// (`[auth.external.github] url`): authorize and token on `<url>/login/oauth/…`, the API on
// `<url>/api/v3`.
//
//   GET  /login/oauth/authorize?client_id&redirect_uri&state&scope[&code_challenge&code_challenge_method=S256]
//        A known client with its registered redirect_uri: 302 to redirect_uri?code=…&state=… at once
//        (the account `signInAs` names has already consented; no page), or
//        redirect_uri?error=access_denied&state=… when no account is signed in. An unknown client or
//        another redirect_uri is a 400 page and NO redirect (RFC 6749 §4.1.2.1).
//   POST /login/oauth/access_token  client_id, client_secret, code, redirect_uri[, code_verifier]
//        (form or JSON; `Accept: application/json` gets JSON, else form-encoded, as GitHub does):
//        {access_token, token_type: "bearer", scope}; a used, expired (10 min) or unknown code, a
//        wrong secret, redirect_uri or verifier: 200 {error: "bad_verification_code" | …}, GitHub's
//        way. Codes are single-use.
//   GET  /api/v3/user          Authorization: Bearer|token <access token> -> {id, login, name, email, avatar_url}
//   GET  /api/v3/user/emails   -> [{email, primary, verified, visibility}]
//        A bad token is 401 {"message": "Bad credentials"}.
//
//   const idp = await startOAuthProviderStandin({ clientId, clientSecret, redirectUri });
//   idp.url, idp.addAccount({ id, login, name, email, verified }), idp.signInAs(login | null)
//   idp.requests (method + path of every request), await idp.stop()

import http from "node:http";
import crypto from "node:crypto";

const CODE_TTL_MS = 10 * 60_000;

export async function startOAuthProviderStandin({ clientId, clientSecret, redirectUri }) {
  const accounts = new Map();
  const codes = new Map();
  const tokens = new Map();
  const requests = [];
  let current = null;

  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const url = new URL(req.url, "http://idp");
      requests.push({ method: req.method, path: url.pathname, query: url.search });
      const json = (status, body) => {
        res.writeHead(status, { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" });
        res.end(JSON.stringify(body));
      };
      const page = (status, text) => {
        res.writeHead(status, { "content-type": "text/plain; charset=utf-8" });
        res.end(text);
      };
      if (req.method === "GET" && url.pathname === "/login/oauth/authorize") {
        const q = url.searchParams;
        if (q.get("client_id") !== clientId) return page(400, "The client_id is not registered (test stand-in).");
        if (q.get("redirect_uri") !== redirectUri) return page(400, "The redirect_uri does not match the registered one (test stand-in).");
        const back = new URL(redirectUri);
        if (q.get("state") !== null) back.searchParams.set("state", q.get("state"));
        const challenge = q.get("code_challenge");
        if (challenge && q.get("code_challenge_method") !== "S256") {
          back.searchParams.set("error", "invalid_request");
          return redirect(res, back);
        }
        if (!current) {
          back.searchParams.set("error", "access_denied");
          back.searchParams.set("error_description", "The user has denied your application access.");
          return redirect(res, back);
        }
        const code = crypto.randomBytes(10).toString("hex");
        codes.set(code, { login: current, at: Date.now(), scope: q.get("scope") ?? "", challenge });
        back.searchParams.set("code", code);
        return redirect(res, back);
      }
      if (req.method === "POST" && url.pathname === "/login/oauth/access_token") {
        const raw = Buffer.concat(chunks).toString("utf8");
        let p;
        if (/json/.test(req.headers["content-type"] ?? "")) {
          try {
            p = new Map(Object.entries(JSON.parse(raw)));
          } catch {
            p = new Map();
          }
        } else p = new URLSearchParams(raw);
        // oauth2 sends the client's credentials in HTTP Basic auth when it can (AuthStyleAutoDetect).
        const basic = /^Basic\s+(.+)$/i.exec(req.headers.authorization ?? "");
        let [id, secret] = [p.get("client_id"), p.get("client_secret")];
        if (basic) [id, secret] = Buffer.from(basic[1], "base64").toString("utf8").split(":").map(decodeURIComponent);
        const answer = (body) => {
          if (/json/.test(req.headers.accept ?? "")) return json(200, body);
          res.writeHead(200, { "content-type": "application/x-www-form-urlencoded; charset=utf-8" });
          res.end(new URLSearchParams(body).toString());
        };
        if (id !== clientId || secret !== clientSecret) return answer({ error: "incorrect_client_credentials", error_description: "The client_id and/or client_secret passed are incorrect." });
        if (p.get("redirect_uri") && p.get("redirect_uri") !== redirectUri) return answer({ error: "redirect_uri_mismatch", error_description: "The redirect_uri MUST match the registered callback URL for this application." });
        const entry = codes.get(p.get("code") ?? "");
        codes.delete(p.get("code") ?? "");
        if (!entry || Date.now() - entry.at > CODE_TTL_MS) {
          return answer({ error: "bad_verification_code", error_description: "The code passed is incorrect or expired." });
        }
        if (entry.challenge) {
          const v = p.get("code_verifier") ?? "";
          if (crypto.createHash("sha256").update(v).digest("base64url") !== entry.challenge) {
            return answer({ error: "bad_verification_code", error_description: "The code_verifier does not match the code_challenge." });
          }
        }
        const token = `gho_${crypto.randomBytes(18).toString("base64url")}`;
        tokens.set(token, entry.login);
        return answer({ access_token: token, token_type: "bearer", scope: entry.scope });
      }
      if (req.method === "GET" && (url.pathname === "/api/v3/user" || url.pathname === "/api/v3/user/emails")) {
        const m = /^(?:Bearer|token)\s+(\S+)$/i.exec(req.headers.authorization ?? "");
        const login = m ? tokens.get(m[1]) : undefined;
        const a = login ? accounts.get(login) : undefined;
        if (!a) return json(401, { message: "Bad credentials", documentation_url: "https://docs.github.com/rest" });
        if (url.pathname === "/api/v3/user") return json(200, { id: a.id, login: a.login, name: a.name, email: a.email, avatar_url: a.avatarUrl });
        return json(200, [{ email: a.email, primary: true, verified: a.verified, visibility: "private" }]);
      }
      json(404, { message: "Not Found (OAuth provider test stand-in)" });
    });
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    requests,
    clientId,
    /** An account at the provider (GitHub's numeric id, login, a verified primary email by default). */
    addAccount({ id = crypto.randomInt(1, 2 ** 31), login, name = login, email, verified = true }) {
      accounts.set(login, { id, login, name, email, verified, avatarUrl: `https://avatars.example/${id}` });
      return accounts.get(login);
    },
    /** Who is signed in at the provider in "the browser" (null: nobody, authorize answers access_denied). */
    signInAs(login) {
      current = login;
    },
    stop: () => new Promise((r) => server.close(r)),
  };
}

function redirect(res, url) {
  res.writeHead(302, { location: url.toString(), "cache-control": "no-store" });
  res.end();
}
