// TEST STAND-IN for PostgREST (Supabase's /rest/v1). Not PostgREST, and never deployed: it exists
// because Supabase's hosted services cannot run on the test machines (no Docker). It implements, as
// PostgREST documents them, exactly what the end-to-end suite and `make dev` use, on the REAL Postgres:
//
//   GET/HEAD /rest/v1/<table>?select=a,b&col=eq.v&col=in.(a,b)&order=col.desc&limit=n&offset=n
//            (also neq, gt, gte, lt, lte, like, ilike, is.null|true|false)
//   POST     /rest/v1/<table>         insert an object or an array (`columns=` honoured)
//   PATCH    /rest/v1/<table>?filters update
//   DELETE   /rest/v1/<table>?filters delete
//            `Prefer: return=representation` returns the rows (through `select=`), `return=minimal`
//            (the default) returns nothing; `Accept: application/vnd.pgrst.object+json` asks for one
//            object (406 PGRST116 otherwise)
//   POST     /rest/v1/rpc/<fn>         JSON object of named arguments (GET with query args too)
//
// Each request is ONE transaction, run as PostgREST runs it, connected as `authenticator`:
//   begin [read only];
//   set local role <role claim of the verified JWT, or anon>;
//   select set_config('request.jwt.claims', <claims>, true), set_config('request.headers', <all request
//          headers, lowercase names, as a JSON object>, true), set_config('request.method', ...),
//          set_config('request.path', ...);
//   <the query>;
//   commit
// The JWT in `Authorization: Bearer` is verified here (HS256 with the project's legacy secret, ES256
// with the Auth stand-in's keys; exp checked) as PostgREST does; no bearer means anon.
// Only the `public` schema is exposed. Identifiers must match [a-z_][a-z0-9_]* and are double-quoted;
// every value is a bind parameter. Errors use PostgREST's shape {code, message, details, hint} and its
// status codes (SQLSTATE 42501 -> 401 for anon / 403 otherwise, 23505/23503 -> 409, PTxyz -> xyz, ...).
//
//   const rest = createRestStandin({ pool /* as authenticator */, verify /* token -> {ok, claims} */ });
//   rest.handle(req, res, bodyBuffer)

const IDENT = /^[a-z_][a-z0-9_]*$/;
const ROLES_ALLOWED = new Set(["anon", "authenticated", "service_role"]);

class RestError extends Error {
  constructor(status, code, message, details = null, hint = null, headers = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
    this.hint = hint;
    this.headers = headers;
  }
}

function send(res, status, text, headers = {}) {
  res.writeHead(status, {
    ...(text !== null ? { "content-type": "application/json; charset=utf-8" } : {}),
    "content-length": text === null ? 0 : Buffer.byteLength(text),
    ...headers,
  });
  res.end(text === null ? undefined : text);
}

function sendError(res, e) {
  send(res, e.status, JSON.stringify({ code: e.code, message: e.message, details: e.details ?? null, hint: e.hint ?? null }), e.headers);
}

function qi(name) {
  if (typeof name !== "string" || !IDENT.test(name)) {
    throw new RestError(400, "PGRST100", `"${name}" is not an identifier this stand-in accepts`, null, "identifiers must match [a-z_][a-z0-9_]*");
  }
  return `"${name}"`;
}

/** PostgREST's SQLSTATE -> HTTP status (docs: "Errors", "SQLSTATE codes"). */
export function statusForSqlState(code, role) {
  if (!code) return 500;
  if (/^PT\d{3}$/.test(code)) return Number(code.slice(2));
  if (code === "42501") return role === "anon" ? 401 : 403;
  const table = {
    "23503": 409,
    "23505": 409,
    "25006": 405,
    "42883": 404,
    "42P01": 404,
    "42P17": 500,
    "P0001": 400,
    "23514": 400,
    "22P02": 400,
  };
  if (table[code]) return table[code];
  const cls = code.slice(0, 2);
  const byClass = {
    "08": 503,
    "09": 500,
    "0L": 403,
    "0P": 403,
    "25": 500,
    "28": 403,
    "2D": 500,
    "38": 500,
    "39": 500,
    "3B": 500,
    "40": 500,
    "53": 503,
    "54": 500,
    "55": 500,
    "57": 500,
    "58": 500,
    F0: 500,
    HV: 500,
    P0: 500,
    XX: 500,
  };
  return byClass[cls] ?? 400;
}

/** Split on commas outside parentheses and double quotes. */
function splitTop(s) {
  const out = [];
  let depth = 0;
  let q = false;
  let cur = "";
  for (const ch of s) {
    if (ch === '"') q = !q;
    if (!q && ch === "(") depth++;
    if (!q && ch === ")") depth--;
    if (!q && depth === 0 && ch === ",") {
      out.push(cur);
      cur = "";
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

function unquote(s) {
  const t = s.trim();
  if (t.length >= 2 && t.startsWith('"') && t.endsWith('"')) return t.slice(1, -1).replace(/\\(.)/g, "$1");
  return t;
}

/** `select=` -> SQL column list (plain columns, `alias:column`, `*`). */
function selectList(param) {
  if (param === null || param.trim() === "" || param.trim() === "*") return "*";
  return splitTop(param)
    .map((item) => {
      const it = item.trim();
      if (it === "*") return "*";
      if (it.includes("(")) {
        throw new RestError(400, "PGRST100", `"${it}": resource embedding is not supported by this test stand-in`);
      }
      const m = /^(?:([a-z_][a-z0-9_]*):)?([a-z_][a-z0-9_]*)$/.exec(it);
      if (!m) throw new RestError(400, "PGRST100", `"failed to parse select parameter (${param})"`, `unexpected "${it}"`);
      return m[1] ? `${qi(m[2])} as ${qi(m[1])}` : qi(m[2]);
    })
    .join(", ");
}

const RESERVED_PARAMS = new Set(["select", "order", "limit", "offset", "columns", "on_conflict"]);

/** Horizontal filters -> { sql: "where ...", params } (params appended to `params`). */
function whereClause(searchParams, params, { alias = null } = {}) {
  const conds = [];
  for (const [key, raw] of searchParams) {
    if (RESERVED_PARAMS.has(key)) continue;
    if (key === "and" || key === "or" || key === "not") {
      throw new RestError(400, "PGRST100", `logical operator "${key}" is not supported by this test stand-in`);
    }
    const col = (alias ? `${alias}.` : "") + qi(key);
    let v = raw;
    let neg = false;
    if (v.startsWith("not.")) {
      neg = true;
      v = v.slice(4);
    }
    const dot = v.indexOf(".");
    if (dot < 0) throw new RestError(400, "PGRST100", `"failed to parse filter (${raw})" (line 1, column 1)`);
    const op = v.slice(0, dot);
    const val = v.slice(dot + 1);
    let c;
    const simple = { eq: "=", neq: "<>", gt: ">", gte: ">=", lt: "<", lte: "<=" };
    if (simple[op]) {
      params.push(val);
      c = `${col} ${simple[op]} $${params.length}`;
    } else if (op === "like" || op === "ilike") {
      params.push(val.replace(/\*/g, "%"));
      c = `${col} ${op === "like" ? "like" : "ilike"} $${params.length}`;
    } else if (op === "in") {
      const m = /^\((.*)\)$/.exec(val);
      if (!m) throw new RestError(400, "PGRST100", `"failed to parse filter (${raw})"`);
      const items = m[1] === "" ? [] : splitTop(m[1]).map(unquote);
      params.push(items);
      c = `${col} = any($${params.length})`;
    } else if (op === "is") {
      const lit = { null: "null", true: "true", false: "false", unknown: "unknown" }[val.toLowerCase()];
      if (!lit) throw new RestError(400, "PGRST100", `"failed to parse filter (${raw})"`);
      c = `${col} is ${lit}`;
    } else {
      throw new RestError(400, "PGRST100", `operator "${op}" is not supported by this test stand-in`);
    }
    conds.push(neg ? `not (${c})` : c);
  }
  return conds.length ? `where ${conds.join(" and ")}` : "";
}

function orderClause(param) {
  if (!param) return "";
  const parts = splitTop(param).map((p) => {
    const bits = p.trim().split(".");
    const col = qi(bits[0]);
    let dir = "";
    let nulls = "";
    for (const b of bits.slice(1)) {
      if (b === "asc" || b === "desc") dir = ` ${b}`;
      else if (b === "nullsfirst") nulls = " nulls first";
      else if (b === "nullslast") nulls = " nulls last";
      else throw new RestError(400, "PGRST100", `"failed to parse order (${param})"`);
    }
    return `${col}${dir}${nulls}`;
  });
  return `order by ${parts.join(", ")}`;
}

function intParam(v, name) {
  if (v === null) return null;
  if (!/^\d+$/.test(v)) throw new RestError(400, "PGRST100", `"failed to parse ${name} (${v})"`);
  return Number(v);
}

function parsePrefer(h) {
  const out = {};
  for (const part of String(h ?? "").split(",")) {
    const [k, v] = part.trim().split("=");
    if (k) out[k.trim()] = (v ?? "").trim();
  }
  return out;
}

function bearer(req) {
  const h = req.headers.authorization;
  if (typeof h !== "string" || h.trim() === "") return null;
  const m = /^Bearer\s+(.*)$/i.exec(h.trim());
  if (!m) throw new RestError(401, "PGRST301", "Expected Bearer token in Authorization header", null, null, { "www-authenticate": "Bearer" });
  return m[1].trim();
}

/**
 * opts: { pool: a pg.Pool connected as `authenticator`; verify(token) -> {ok, claims, reason, expired};
 *         anonRole = "anon" }.
 */
export function createRestStandin({ pool, verify, anonRole = "anon" }) {
  const fnCache = new Map();

  function authenticate(req) {
    const token = bearer(req);
    // Supabase's gateway turns a publishable key into the anon role; an absent bearer is anon.
    if (!token || token.startsWith("sb_publishable_")) return { role: anonRole, claims: { role: anonRole } };
    const v = verify(token);
    if (!v.ok) {
      if (v.expired) {
        throw new RestError(401, "PGRST303", "JWT expired", null, null, {
          "www-authenticate": 'Bearer error="invalid_token", error_description="JWT expired"',
        });
      }
      throw new RestError(401, "PGRST301", `JWSError (${v.reason})`, null, null, {
        "www-authenticate": `Bearer error="invalid_token", error_description="${v.reason}"`,
      });
    }
    const role = typeof v.claims.role === "string" && v.claims.role ? v.claims.role : anonRole;
    if (!IDENT.test(role) || !ROLES_ALLOWED.has(role)) {
      throw new RestError(401, "PGRST301", `role "${role}" does not exist or is not allowed`);
    }
    return { role, claims: v.claims };
  }

  async function runTx(req, role, claims, readOnly, fn) {
    const headers = {};
    for (const [k, v] of Object.entries(req.headers)) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(", ") : v;
    const url = new URL(req.url, "http://standin");
    const client = await pool.connect();
    try {
      await client.query(readOnly ? "begin isolation level read committed read only" : "begin isolation level read committed");
      await client.query(`set local role ${qi(role)}`);
      await client.query(
        `select set_config('request.jwt.claims', $1, true), set_config('request.headers', $2, true),
                set_config('request.method', $3, true), set_config('request.path', $4, true)`,
        [JSON.stringify(claims), JSON.stringify(headers), req.method, url.pathname],
      );
      const out = await fn(client);
      await client.query("commit");
      return out;
    } catch (e) {
      await client.query("rollback").catch(() => {});
      if (e instanceof RestError) throw e;
      if (e && typeof e.code === "string") {
        throw new RestError(statusForSqlState(e.code, role), e.code, e.message, e.detail ?? null, e.hint ?? null);
      }
      throw e;
    } finally {
      client.release();
    }
  }

  async function functionInfo(client, name) {
    if (fnCache.has(name)) return fnCache.get(name);
    const r = await client.query(
      `select p.proname, p.proargnames, p.proretset, t.typtype = 'c' or p.prorettype = 'record'::regtype as composite,
              array(select format_type(a, null) from unnest(p.proargtypes) a) as argtypes,
              p.pronargs, p.pronargdefaults
       from pg_proc p join pg_namespace n on n.oid = p.pronamespace join pg_type t on t.oid = p.prorettype
       where n.nspname = 'public' and p.proname = $1`,
      [name],
    );
    fnCache.set(name, r.rows);
    return r.rows;
  }

  async function rpc(req, res, fname, args, auth, wantObject) {
    qi(fname);
    const readOnly = req.method === "GET" || req.method === "HEAD";
    const text = await runTx(req, auth.role, auth.claims, readOnly, async (client) => {
      const cands = await functionInfo(client, fname);
      const keys = Object.keys(args);
      const fn = cands.find((f) => {
        const names = (f.proargnames ?? []).slice(0, f.pronargs);
        const required = names.slice(0, f.pronargs - f.pronargdefaults);
        return keys.every((k) => names.includes(k)) && required.every((k) => keys.includes(k));
      });
      if (!fn) {
        throw new RestError(
          404,
          "PGRST202",
          `Could not find the function public.${fname}(${keys.join(", ")}) in the schema cache`,
          "Searched for the function public." + fname + " with the given parameters, but no matches were found in the schema cache.",
          null,
        );
      }
      const names = (fn.proargnames ?? []).slice(0, fn.pronargs);
      const params = [];
      const sqlArgs = keys.map((k) => {
        const type = fn.argtypes[names.indexOf(k)];
        const v = args[k];
        params.push(v === null || v === undefined ? null : typeof v === "object" ? JSON.stringify(v) : String(v));
        return `${qi(k)} := $${params.length}::${type}`;
      });
      const call = `public.${qi(fname)}(${sqlArgs.join(", ")})`;
      if (fn.proretset || fn.composite) {
        const r = await client.query(`select coalesce(json_agg(_r), '[]')::text as body from ${call} _r`, params);
        return r.rows[0].body;
      }
      const r = await client.query(`select to_json(${call})::text as body`, params);
      return r.rows[0].body ?? "null";
    });
    if (wantObject) {
      const v = JSON.parse(text);
      if (Array.isArray(v)) {
        if (v.length !== 1) throw singularError(v.length);
        return send(res, 200, JSON.stringify(v[0]), { "content-type": "application/vnd.pgrst.object+json; charset=utf-8" });
      }
    }
    return send(res, 200, req.method === "HEAD" ? null : text);
  }

  function singularError(n) {
    return new RestError(406, "PGRST116", "JSON object requested, multiple (or no) rows returned", `The result contains ${n} rows`);
  }

  function reply(res, rowsText, count, { status, wantObject, method, minimal, headers = {} }) {
    if (minimal) return send(res, status === 200 ? 204 : status, null, headers);
    const rows = JSON.parse(rowsText);
    if (wantObject) {
      if (rows.length !== 1) throw singularError(rows.length);
      return send(res, status, JSON.stringify(rows[0]), { ...headers, "content-type": "application/vnd.pgrst.object+json; charset=utf-8" });
    }
    return send(res, status, method === "HEAD" ? null : rowsText, headers);
  }

  async function table(req, res, name, url, body, auth) {
    const tbl = `public.${qi(name)}`;
    const sp = url.searchParams;
    const prefer = parsePrefer(req.headers.prefer);
    const accept = String(req.headers.accept ?? "");
    const wantObject = accept.includes("application/vnd.pgrst.object+json");
    const sel = selectList(sp.get("select"));
    const method = req.method;

    if (method === "GET" || method === "HEAD") {
      const params = [];
      const where = whereClause(sp, params);
      const order = orderClause(sp.get("order"));
      const limit = intParam(sp.get("limit"), "limit");
      const offset = intParam(sp.get("offset"), "offset");
      const inner = `select ${sel} from ${tbl} ${where} ${order}${limit !== null ? ` limit ${limit}` : ""}${offset !== null ? ` offset ${offset}` : ""}`;
      const out = await runTx(req, auth.role, auth.claims, true, async (c) => {
        const r = await c.query(`select coalesce(json_agg(_r), '[]')::text as body, count(*)::int as n from (${inner}) _r`, params);
        let total = null;
        if (prefer.count === "exact") {
          const cp = [];
          const cw = whereClause(sp, cp);
          total = (await c.query(`select count(*)::int as n from ${tbl} ${cw}`, cp)).rows[0].n;
        }
        return { body: r.rows[0].body, n: r.rows[0].n, total };
      });
      const from = offset ?? 0;
      const range = out.n ? `${from}-${from + out.n - 1}` : "*";
      return reply(res, out.body, out.n, {
        status: 200,
        wantObject,
        method,
        headers: { "content-range": `${range}/${out.total ?? "*"}` },
      });
    }

    let payload = null;
    if (method === "POST" || method === "PATCH") {
      try {
        payload = body && body.length ? JSON.parse(body.toString("utf8")) : null;
      } catch (e) {
        throw new RestError(400, "PGRST102", "Empty or invalid json", null, null);
      }
    }
    const minimal = prefer.return !== "representation";
    const returning = minimal ? "" : "returning *";

    if (method === "POST") {
      const rows = Array.isArray(payload) ? payload : payload && typeof payload === "object" ? [payload] : null;
      if (!rows) throw new RestError(400, "PGRST102", "Empty or invalid json");
      let cols;
      if (sp.get("columns")) cols = splitTop(sp.get("columns")).map(unquote);
      else cols = [...new Set(rows.flatMap((r) => (r && typeof r === "object" ? Object.keys(r) : [])))];
      const colSql = cols.map(qi).join(", ");
      const onConflict = sp.get("on_conflict");
      let conflict = "";
      if (prefer.resolution === "merge-duplicates" || prefer.resolution === "ignore-duplicates") {
        const target = onConflict ? splitTop(onConflict).map((c) => qi(c.trim())).join(", ") : null;
        if (!target) throw new RestError(400, "PGRST100", "on_conflict is required by this test stand-in for upserts");
        conflict =
          prefer.resolution === "ignore-duplicates"
            ? ` on conflict (${target}) do nothing`
            : ` on conflict (${target}) do update set ${cols.map((c) => `${qi(c)} = excluded.${qi(c)}`).join(", ")}`;
      }
      const insert = cols.length
        ? `insert into ${tbl} (${colSql}) select ${colSql} from json_populate_recordset(null::${tbl}, $1::json)${conflict} ${returning}`
        : `insert into ${tbl} default values${conflict} ${returning}`;
      const out = await runTx(req, auth.role, auth.claims, false, async (c) => {
        if (minimal) {
          await c.query(insert, cols.length ? [JSON.stringify(rows)] : []);
          return null;
        }
        const r = await c.query(
          `with pgrst_source as (${insert}) select coalesce(json_agg(_r), '[]')::text as body, count(*)::int as n from (select ${sel} from pgrst_source) _r`,
          cols.length ? [JSON.stringify(rows)] : [],
        );
        return r.rows[0];
      });
      return reply(res, out?.body, out?.n, { status: 201, wantObject, method, minimal, headers: { "content-range": "*/*" } });
    }

    if (method === "PATCH") {
      if (!payload || typeof payload !== "object" || Array.isArray(payload)) throw new RestError(400, "PGRST102", "Empty or invalid json");
      const cols = Object.keys(payload);
      if (!cols.length) return send(res, 204, null);
      const params = [JSON.stringify(payload)];
      const where = whereClause(sp, params, { alias: "pgrst_target" });
      const set = cols.map((c) => `${qi(c)} = pgrst_body.${qi(c)}`).join(", ");
      const update = `update ${tbl} as pgrst_target set ${set} from (select * from json_populate_record(null::${tbl}, $1::json)) pgrst_body ${where} ${minimal ? "" : "returning pgrst_target.*"}`;
      const out = await runTx(req, auth.role, auth.claims, false, async (c) => {
        if (minimal) {
          await c.query(update, params);
          return null;
        }
        const r = await c.query(
          `with pgrst_source as (${update}) select coalesce(json_agg(_r), '[]')::text as body, count(*)::int as n from (select ${sel} from pgrst_source) _r`,
          params,
        );
        return r.rows[0];
      });
      return reply(res, out?.body, out?.n, { status: 200, wantObject, method, minimal });
    }

    if (method === "DELETE") {
      const params = [];
      const where = whereClause(sp, params);
      const del = `delete from ${tbl} ${where} ${returning}`;
      const out = await runTx(req, auth.role, auth.claims, false, async (c) => {
        if (minimal) {
          await c.query(del, params);
          return null;
        }
        const r = await c.query(
          `with pgrst_source as (${del}) select coalesce(json_agg(_r), '[]')::text as body, count(*)::int as n from (select ${sel} from pgrst_source) _r`,
          params,
        );
        return r.rows[0];
      });
      return reply(res, out?.body, out?.n, { status: 200, wantObject, method, minimal });
    }

    throw new RestError(405, "PGRST117", `Unsupported HTTP method: ${method}`);
  }

  /** Request handler for /rest/v1/*. `body` is the request body as a Buffer. */
  async function handle(req, res, body) {
    try {
      const url = new URL(req.url, "http://standin");
      for (const h of ["accept-profile", "content-profile"]) {
        const p = req.headers[h];
        if (p && p !== "public") {
          throw new RestError(406, "PGRST106", "The schema must be one of the following: public", null, null);
        }
      }
      const auth = authenticate(req);
      const rest = url.pathname.replace(/^\/rest\/v1\/?/, "").replace(/\/+$/, "");
      if (rest === "") {
        throw new RestError(404, "PGRST125", "Invalid path specified in request URL (the OpenAPI root is not served by this test stand-in)");
      }
      const wantObject = String(req.headers.accept ?? "").includes("application/vnd.pgrst.object+json");
      const m = /^rpc\/([^/]+)$/.exec(rest);
      if (m) {
        let args = {};
        if (req.method === "POST") {
          try {
            args = body && body.length ? JSON.parse(body.toString("utf8")) : {};
          } catch {
            throw new RestError(400, "PGRST102", "Empty or invalid json");
          }
          if (!args || typeof args !== "object" || Array.isArray(args)) throw new RestError(400, "PGRST102", "Empty or invalid json");
        } else if (req.method === "GET" || req.method === "HEAD") {
          for (const [k, v] of url.searchParams) args[k] = v;
        } else {
          throw new RestError(405, "PGRST101", "Only GET and POST are allowed for calling functions");
        }
        return await rpc(req, res, m[1], args, auth, wantObject);
      }
      if (rest.includes("/")) throw new RestError(404, "PGRST125", `Invalid path specified in request URL`);
      return await table(req, res, rest, url, body, auth);
    } catch (e) {
      if (e instanceof RestError) return sendError(res, e);
      console.error("rest stand-in:", e);
      return sendError(res, new RestError(500, "XX000", String(e?.message ?? e)));
    }
  }

  return { handle };
}
