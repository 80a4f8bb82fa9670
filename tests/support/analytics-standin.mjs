// The Workers Analytics Engine SQL API test stand-in (Cloudflare's hosted service cannot run here).
// It answers `POST <CLOUDFLARE_API_URL>/accounts/<account_id>/analytics_engine/sql` as AE's SQL API
// documents (developers.cloudflare.com/analytics/analytics-engine/sql-api): bearer token, the SQL
// as the body's text, `FORMAT JSON` → `{meta: [{name, type}], data: [{…}], rows,
// rows_before_limit_at_least}`, 64-bit integers quoted as ClickHouse's JSON format writes them.
//
// It really evaluates the query: the rows live in the test stack's PostgreSQL, in a table named as
// the dataset (`timestamp`, `index1`, `blob1..20`, `double1..20`, `_sample_interval`, `dataset`)
// in the schema `ae_standin`, and AE's functions the admin uses are defined there with AE's
// (ClickHouse's) documented semantics: `if`, `intDiv`, `toUnixTimestamp`, `toDateTime(unix
// seconds)`, and `quantileExactWeighted(q)(x, w)` — each value counted `w` times, the first value
// whose cumulative weight reaches ceil(q · Σw). The one syntactic rewrite is ClickHouse's
// parametric call `f(q)(x, w)` → `f(q, x, w)`. SQL naming any other function, another table, or
// anything but one SELECT is refused with a 422 and a message, as AE refuses what it does not
// support.
//
//   const ae = await startAnalyticsStandin(pool, { accountId, token, dataset });
//   await ae.insert([{ timestamp: ms, index1, blobs: [...], doubles: [...], sampleInterval }])
//   ae.handle(request)  // a fetch Request → Response (route the admin's outbound requests to it)
//   ae.queries          // every SQL text received;  ae.failNext(status) ;  await ae.clear()

import fs from "node:fs";
import { fileURLToPath } from "node:url";

/** The router's data point layout (crates/shared/src/metrics_layout.json): which blob and double is which. */
export const LAYOUT = JSON.parse(fs.readFileSync(fileURLToPath(new URL("../../crates/shared/src/metrics_layout.json", import.meta.url)), "utf8"));

/** A row as the router writes it (the shared layout): a cached-token REST call of `tenant` at `timestampMs`. */
export function sampledRow(tenant, timestampMs, status, latencyMs, sampleInterval) {
  const blobs = LAYOUT.blobs.map(() => "");
  blobs[LAYOUT.blobs.indexOf("route")] = "rest";
  blobs[LAYOUT.blobs.indexOf("status_class")] = `${String(status)[0]}xx`;
  blobs[LAYOUT.blobs.indexOf("cache")] = "hit";
  blobs[LAYOUT.blobs.indexOf("token")] = "user";
  blobs[LAYOUT.blobs.indexOf("token_source")] = "cached";
  const doubles = LAYOUT.doubles.map(() => 0);
  doubles[LAYOUT.doubles.indexOf("latency_ms")] = latencyMs;
  doubles[LAYOUT.doubles.indexOf("status")] = status;
  return { timestamp: timestampMs, index1: tenant, blobs, doubles, sampleInterval };
}

const SCHEMA = "ae_standin";
const FUNCTIONS = new Set(["sum", "if", "intdiv", "tounixtimestamp", "todatetime", "quantileexactweighted", "quantileweighted"]);
const COLUMNS = 20;

const DDL = `
create schema if not exists ${SCHEMA};
create or replace function ${SCHEMA}."if"(c boolean, a anycompatible, b anycompatible) returns anycompatible
  language sql immutable as $$ select case when c then a else b end $$;
create or replace function ${SCHEMA}.intdiv(a numeric, b numeric) returns bigint
  language sql immutable as $$ select floor(a / b)::bigint $$;
create or replace function ${SCHEMA}.tounixtimestamp(t timestamptz) returns bigint
  language sql immutable as $$ select floor(extract(epoch from t))::bigint $$;
create or replace function ${SCHEMA}.todatetime(s bigint) returns timestamptz
  language sql immutable as $$ select to_timestamp(s) $$;
-- State: {q, v1, w1, v2, w2, …}.
create or replace function ${SCHEMA}.qew_step(state float8[], q float8, v float8, w float8) returns float8[]
  language sql immutable as $$ select case when state is null then array[q, v, w] else state || array[v, w] end $$;
create or replace function ${SCHEMA}.qew_final(state float8[]) returns float8
  language plpgsql immutable as $$
declare
  n int; total float8 := 0; threshold float8; acc float8 := 0; r record; last float8 := 0;
begin
  if state is null then return 0; end if;  -- ClickHouse answers an empty set with the type's default
  n := (array_length(state, 1) - 1) / 2;
  for i in 1..n loop total := total + state[2 * i + 1]; end loop;
  threshold := ceil(total * state[1]);
  for r in select state[2 * i] as v, state[2 * i + 1] as w from generate_series(1, n) i order by 1 loop
    acc := acc + r.w; last := r.v;
    if acc >= threshold then return r.v; end if;
  end loop;
  return last;
end $$;
drop aggregate if exists ${SCHEMA}.quantileexactweighted(float8, float8, float8);
create aggregate ${SCHEMA}.quantileexactweighted(float8, float8, float8) (sfunc = ${SCHEMA}.qew_step, stype = float8[], finalfunc = ${SCHEMA}.qew_final);
drop aggregate if exists ${SCHEMA}.quantileweighted(float8, float8, float8);
create aggregate ${SCHEMA}.quantileweighted(float8, float8, float8) (sfunc = ${SCHEMA}.qew_step, stype = float8[], finalfunc = ${SCHEMA}.qew_final);
`;

function tableDdl(dataset) {
  const blobs = Array.from({ length: COLUMNS }, (_, i) => `blob${i + 1} text not null default ''`).join(", ");
  const doubles = Array.from({ length: COLUMNS }, (_, i) => `double${i + 1} float8 not null default 0`).join(", ");
  return `create table if not exists ${SCHEMA}.${dataset} (dataset text not null default '${dataset}', timestamp timestamptz not null,
    _sample_interval bigint not null default 1, index1 text not null default '', ${blobs}, ${doubles})`;
}

class Refused extends Error {}

/** Strips string literals, to look at the SQL's words only. */
function withoutStrings(sql) {
  return sql.replace(/'(?:[^'\\]|\\.|'')*'/g, "''");
}

/** AE's SQL, checked, as PostgreSQL runs it in the stand-in's schema. */
export function translate(sql, datasets) {
  let text = sql.trim();
  const format = /\s+FORMAT\s+(\w+)\s*$/i.exec(text);
  if (format && format[1].toUpperCase() !== "JSON") throw new Refused(`FORMAT ${format[1]} is not implemented by the stand-in (JSON is)`);
  if (format) text = text.slice(0, format.index);
  const bare = withoutStrings(text);
  if (/;|--|\/\*/.test(bare)) throw new Refused("one statement, without comments");
  if (!/^\s*SELECT\s/i.test(bare)) throw new Refused("only SELECT is implemented by the stand-in");
  for (const m of bare.matchAll(/([A-Za-z_][A-Za-z0-9_]*)\s*\(/g)) {
    if (!FUNCTIONS.has(m[1].toLowerCase())) throw new Refused(`Unknown function ${m[1]} (not implemented by the stand-in)`);
  }
  const tables = [...bare.matchAll(/\bFROM\s+([A-Za-z_][A-Za-z0-9_]*)/gi)].map((m) => m[1]);
  if (tables.length !== 1) throw new Refused("one FROM <dataset>, no subquery");
  if (!datasets.has(tables[0])) throw new Refused(`Table ${tables[0]} does not exist`);
  if (/\b(JOIN|UNION|INTO|UPDATE|DELETE|INSERT)\b/i.test(bare)) throw new Refused("not supported");
  // ClickHouse's parametric aggregate call f(q)(x, w) → f(q, x, w).
  return text.replace(/\b(quantileExactWeighted|quantileWeighted)\s*\(\s*([0-9.]+)\s*\)\s*\(/gi, "$1($2, ");
}

const PG_TYPES = { 20: "UInt64", 1700: "UInt64", 23: "Int32", 701: "Float64", 25: "String", 1184: "DateTime", 16: "UInt8" };

function clickhouseValue(type, v) {
  if (v === null) return type === "UInt64" ? "0" : null; // ClickHouse's sum of nothing is 0

  if (type === "UInt64") return String(v); // ClickHouse's JSON quotes 64-bit integers
  if (type === "Float64" || type === "Int32") return Number(v);
  if (type === "DateTime") return new Date(v).toISOString().replace("T", " ").slice(0, 19);
  return v;
}

export async function startAnalyticsStandin(pool, { accountId, token, dataset }) {
  await pool.query(DDL);
  await pool.query(tableDdl(dataset));
  const datasets = new Set([dataset]);
  const failures = [];
  const standin = {
    accountId,
    token,
    dataset,
    queries: [],
    /** Rows as AE stores them: `timestamp` (ms or Date), `index1`, `blobs`, `doubles`, `sampleInterval`. */
    async insert(rows) {
      for (const r of rows) {
        const cols = ["timestamp", "index1", "_sample_interval"];
        const vals = [new Date(r.timestamp), r.index1, r.sampleInterval ?? 1];
        (r.blobs ?? []).forEach((b, i) => (cols.push(`blob${i + 1}`), vals.push(b ?? "")));
        (r.doubles ?? []).forEach((d, i) => (cols.push(`double${i + 1}`), vals.push(d)));
        await pool.query(
          `insert into ${SCHEMA}.${dataset} (${cols.join(", ")}) values (${vals.map((_, i) => `$${i + 1}`).join(", ")})`,
          vals,
        );
      }
    },
    async clear() {
      await pool.query(`truncate ${SCHEMA}.${dataset}`);
    },
    /** The next request answers `status` (an outage) instead of running. */
    failNext(status = 503) {
      failures.push(status);
    },
    async handle(request) {
      const m = /\/accounts\/([^/]+)\/analytics_engine\/sql$/.exec(new URL(request.url).pathname);
      const cfError = (status, code, message) =>
        new Response(JSON.stringify({ success: false, errors: [{ code, message }], messages: [], result: null }), {
          status,
          headers: { "content-type": "application/json" },
        });
      if (!m || request.method !== "POST") return cfError(404, 7000, "No route for that URI");
      if (request.headers.get("authorization") !== `Bearer ${token}`) return cfError(403, 10000, "Authentication error");
      if (m[1] !== accountId) return cfError(403, 10000, "Authentication error");
      const sql = await request.text();
      standin.queries.push(sql);
      if (failures.length) return new Response("service unavailable", { status: failures.shift() });
      let text;
      try {
        text = translate(sql, datasets);
      } catch (e) {
        if (e instanceof Refused) return new Response(e.message, { status: 422, headers: { "content-type": "text/plain" } });
        throw e;
      }
      const client = await pool.connect();
      try {
        await client.query("begin read only");
        await client.query(`set local search_path = ${SCHEMA}`);
        const res = await client.query(text);
        await client.query("commit");
        const meta = res.fields.map((f) => ({ name: f.name, type: PG_TYPES[f.dataTypeID] ?? "String" }));
        const data = res.rows.map((row) => Object.fromEntries(meta.map((c) => [c.name, clickhouseValue(c.type, row[c.name])])));
        return new Response(JSON.stringify({ meta, data, rows: data.length, rows_before_limit_at_least: data.length }), {
          headers: { "content-type": "application/json" },
        });
      } catch (e) {
        await client.query("rollback").catch(() => {});
        return new Response(`DB::Exception: ${e.message}`, { status: 422, headers: { "content-type": "text/plain" } });
      } finally {
        client.release();
      }
    },
  };
  return standin;
}
