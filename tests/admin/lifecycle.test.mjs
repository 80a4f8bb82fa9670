// Suspend, resume, delete and purge a tenant through the admin Worker in workerd (issue 15): the
// database refuses a suspended tenant's members at once; a router reflects it within
// DIRECTORY_TTL_S + DIRECTORY_STALE_S (README, "Suspending and deleting a tenant"); the purge
// removes the tenant's rows in every tenant table, its objects through the Storage API (row and
// file), its custom hostnames at Cloudflare and the Auth users it leaves without a tenant, keeps
// other tenants' rows and objects (against a snapshot), refuses a dedicated placement, and a purge
// cut off is finished by asking again.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import crypto from "node:crypto";
import { startAdminStack } from "./support.mjs";
import { SEED } from "../support/stack.mjs";
import { startRouter } from "../support/router.mjs";

const PG_SHAPE = ["code", "message", "details", "hint"];
// The short-TTL router's directory bounds, in seconds: what it may serve stale is at most TTL + STALE.
const TTL_S = 1;
const STALE_S = 1;
let s;
let quick; // a router with the short bounds
let tokens;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Contacts as `user` sees them directly at the project (no router): the database's own answer. */
async function directContacts(token) {
  const r = await fetch(`${s.stack.supabase.url}/rest/v1/contacts?select=id`, {
    headers: { apikey: s.stack.anonKey, authorization: `Bearer ${token}` },
  });
  return { status: r.status, rows: await r.json() };
}

function viaRouter(router, host, token) {
  return router.request(host, "/rest/v1/contacts?select=id", { headers: { apikey: s.stack.anonKey, authorization: `Bearer ${token}` } });
}

/** Polls `router` until `done(response)`; answers the elapsed milliseconds (or throws after `ms`). */
async function until(router, host, token, done, ms) {
  const start = Date.now();
  for (;;) {
    const r = await viaRouter(router, host, token);
    if (done(r)) return Date.now() - start;
    if (Date.now() - start > ms) throw new Error(`not within ${ms} ms: last ${r.status} ${r.body}`);
    await sleep(100);
  }
}

async function upload(name, text) {
  const r = await fetch(`${s.stack.supabase.url}/storage/v1/object/tenant-files/${name}`, {
    method: "POST",
    headers: { authorization: `Bearer ${s.stack.supabase.serviceKey}`, "content-type": "text/plain" },
    body: text,
  });
  assert.equal(r.status, 200, await r.text());
}

/** Every row of `tenant` in every table with tenant_id (from the catalog), and its objects: a snapshot. */
async function snapshot(tenant) {
  const { rows: tables } = await s.stack.pg.query(
    `select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace join pg_attribute a on a.attrelid = c.oid
      where n.nspname = 'public' and c.relkind = 'r' and a.attname = 'tenant_id' and not a.attisdropped order by 1`,
  );
  const out = {};
  for (const { relname } of tables) {
    const r = await s.stack.pg.query(`select to_jsonb(t) as j from public.${relname} t where tenant_id = $1 order by to_jsonb(t)::text`, [tenant]);
    out[relname] = r.rows.map((x) => x.j);
  }
  out.tenant = (await s.stack.pg.query("select to_jsonb(t) as j from public.tenants t where id = $1", [tenant])).rows;
  out.objects = (await s.stack.pg.query("select name from storage.objects where split_part(name, '/', 1) = $1 order by name", [tenant])).rows;
  out.files = s.stack.supabase.storage.files("tenant-files").filter((f) => f.startsWith(`${tenant}/`));
  return out;
}

async function newTenant() {
  const r = await s.create({ name: `Life ${crypto.randomBytes(3).toString("hex")}`, plan: "pro", admin_email: `o${crypto.randomBytes(3).toString("hex")}@life.localtest` });
  assert.equal(r.status, 202, r.body);
  const j = await s.settle(r.json().provisioning.id);
  assert.equal(j.status, "succeeded", JSON.stringify(j));
  return r.json().tenant;
}

describe("tenant lifecycle", () => {
  before(async () => {
    s = await startAdminStack();
    quick = await startRouter({ ...s.stack.routerVars, DIRECTORY_TTL_S: String(TTL_S), DIRECTORY_STALE_S: String(STALE_S) });
    const auth = s.stack.supabase.auth;
    tokens = { alice: (await auth.sessionFor(SEED.users.alice.id)).access_token };
  });
  after(async () => {
    await quick?.dispose();
    await s?.stop();
  });

  test("operators only; unknown tenants, bad ids, bad bodies and wrong methods answer 4xx in the PostgREST shape", async () => {
    const id = SEED.acme.id;
    for (const [token, status] of [[null, 401], [s.tokens.user, 403], [s.tokens.aal1Admin, 403]]) {
      const r = await s.request("POST", `/admin/v1/tenants/${id}/suspend`, { token });
      assert.equal(r.status, status);
      for (const k of PG_SHAPE) assert.ok(k in r.json(), k);
    }
    const unknown = await s.request("POST", `/admin/v1/tenants/${crypto.randomUUID()}/suspend`);
    assert.equal(unknown.status, 404, unknown.body);
    for (const k of PG_SHAPE) assert.ok(k in unknown.json(), k);
    assert.equal((await s.request("POST", "/admin/v1/tenants/not-a-uuid/resume")).status, 404);
    assert.equal((await s.request("DELETE", `/admin/v1/tenants/${crypto.randomUUID()}`)).status, 404);
    assert.equal((await s.request("POST", `/admin/v1/tenants/${crypto.randomUUID()}/purge`, { body: "{\"override\": \"yes\"}" })).status, 400);
    assert.equal((await s.request("POST", `/admin/v1/tenants/${id}/purge`, { body: "[" })).json().code, "invalid_body");
    assert.equal((await s.request("GET", `/admin/v1/tenants/${id}/suspend`)).status, 405);
    // Nothing of that changed the tenant.
    assert.equal((await s.stack.pg.query("select status from public.tenants where id = $1", [id])).rows[0].status, "active");
  });

  test("suspend: the database refuses at once, a router within TTL + STALE (serving stale until then); resume restores", async () => {
    const host = SEED.acme.host;
    const before = await directContacts(tokens.alice);
    assert.ok(before.rows.length > 0, "alice sees acme's contacts");
    for (const r of [quick, s.stack.router]) assert.equal((await viaRouter(r, host, tokens.alice)).status, 200);

    const r = await s.request("POST", `/admin/v1/tenants/${SEED.acme.id}/suspend`);
    assert.equal(r.status, 200, r.body);
    assert.equal(r.json().status, "suspended");
    const { rows: audit } = await s.stack.pg.query(
      "select actor_id from public.audit_log where table_name = 'public.tenants' and action = 'UPDATE' and tenant_id = $1 and new_data->>'status' = 'suspended'",
      [SEED.acme.id],
    );
    assert.deepEqual(audit.map((a) => a.actor_id), [SEED.users.carol.id], "attributed to the operator");

    // The database at once, bypassing every router: nothing to read, nothing to write.
    assert.deepEqual((await directContacts(tokens.alice)).rows, []);
    const w = await fetch(`${s.stack.supabase.url}/rest/v1/contacts`, {
      method: "POST",
      headers: { apikey: s.stack.anonKey, authorization: `Bearer ${tokens.alice}`, "content-type": "application/json" },
      body: JSON.stringify({ tenant_id: SEED.acme.id, name: "during suspension" }),
    });
    assert.ok(w.status >= 400, `a write is refused (${w.status})`);
    // The default router (TTL 60 s) still serves its cached entry, and the database answers it nothing.
    const stale = await viaRouter(s.stack.router, host, tokens.alice);
    assert.equal(stale.status, 200);
    assert.deepEqual(stale.json(), []);
    // The short-TTL router: 403 tenant_suspended within the bound.
    const ms = await until(quick, host, tokens.alice, (x) => x.status === 403 && x.json().code === "tenant_suspended", (TTL_S + STALE_S) * 1000 + 1500);
    assert.ok(ms <= (TTL_S + STALE_S) * 1000 + 1500, `${ms} ms`);

    const back = await s.request("POST", `/admin/v1/tenants/${SEED.acme.id}/resume`);
    assert.equal(back.status, 200, back.body);
    assert.equal(back.json().status, "active");
    assert.deepEqual((await directContacts(tokens.alice)).rows.length, before.rows.length, "the database restores at once");
    await until(quick, host, tokens.alice, (x) => x.status === 200 && x.json().length === before.rows.length, (TTL_S + STALE_S) * 1000 + 1500);
  });

  test("a dedicated-placement tenant is refused purge (409); the retention hold is kept without the override", async () => {
    const t = await newTenant();
    const del = await s.request("DELETE", `/admin/v1/tenants/${t.id}`);
    assert.equal(del.status, 200, del.body);
    assert.equal(del.json().status, "deleted");
    const days = (Date.parse(del.json().purge_after) - Date.parse(del.json().deleted_at)) / 86400e3;
    assert.equal(Math.round(days), 30, "the documented hold");
    const held = await s.request("POST", `/admin/v1/tenants/${t.id}/purge`);
    assert.equal(held.status, 409, held.body);
    assert.match(held.json().details, /retention hold/);
    await s.stack.pg.query("update public.tenants set placement_project = 'dedicated-eu' where id = $1", [t.id]);
    const placed = await s.request("POST", `/admin/v1/tenants/${t.id}/purge`, { body: JSON.stringify({ override: true }) });
    assert.equal(placed.status, 409, placed.body);
    assert.match(placed.json().details, /dedicated project/);
    assert.equal((await s.stack.pg.query("select count(*)::int as n from public.tenants where id = $1", [t.id])).rows[0].n, 1, "nothing purged");
  });

  test("delete stops resolving at once; purge removes rows, objects (row and file), hostnames and lone users, and nothing of other tenants", async () => {
    const acme = SEED.acme.id;
    const globex = SEED.globex.id;
    await upload(`${acme}/docs/contract.txt`, "acme contract");
    await upload(`${acme}/logo.txt`, "acme logo");
    await upload(`${globex}/docs/plan.txt`, "globex plan");
    const cfHost = "crm.acme-purge.localtest";
    const ch = await (
      await fetch(`${s.cf.url}/zones/${s.cf.zoneId}/custom_hostnames`, {
        method: "POST",
        headers: { authorization: `Bearer ${s.cf.token}`, "content-type": "application/json" },
        body: JSON.stringify({ hostname: cfHost, ssl: { method: "http", type: "dv" } }),
      })
    ).json();
    await s.stack.pg.query("insert into public.tenant_domains (tenant_id, hostname, cloudflare_id) values ($1, $2, $3)", [acme, cfHost, ch.result.id]);
    const other = await snapshot(globex);
    const mine = await snapshot(acme);
    assert.equal(mine.files.length, 2);

    const del = await s.request("DELETE", `/admin/v1/tenants/${acme}`);
    assert.equal(del.status, 200, del.body);
    const { rows } = await s.stack.pg.query("select public.resolve_tenant(p_slug => 'acme') as r");
    assert.equal(rows[0].r, null, "resolve_tenant finds it no more");
    await until(quick, SEED.acme.host, tokens.alice, (x) => x.status === 404, (TTL_S + STALE_S) * 1000 + 1500);

    const r = await s.request("POST", `/admin/v1/tenants/${acme}/purge`, { body: JSON.stringify({ override: true }) });
    assert.equal(r.status, 200, r.body);
    const report = r.json();
    assert.equal(report.objects, 2);
    assert.deepEqual(report.hostnames, [cfHost]);
    assert.deepEqual(report.users, [SEED.users.alice.id], "alice belonged to acme only; carol stays (globex)");
    // Per table, the rows the purge's own deletes removed (rows a cascade took are counted nowhere).
    assert.ok(Object.keys(report.tables).length > 0);
    for (const [table, n] of Object.entries(report.tables)) {
      assert.ok(n > 0 && n <= mine[table.replace(/^public\./, "")].length, `report counts ${table}: ${n}`);
    }

    const after = await snapshot(acme);
    for (const [table, rowsAfter] of Object.entries(after)) {
      if (table !== "audit_log") assert.deepEqual(rowsAfter, [], `nothing of the tenant left in ${table}`);
    }
    // The trail stays, redacted: keys and states, never contents (no e-mail address, no name).
    assert.ok(after.audit_log.length > 0);
    const trail = JSON.stringify(after.audit_log.map((a) => [a.old_data, a.new_data]));
    assert.doesNotMatch(trail, /@acme\.test|"name"|"email"/);
    assert.equal(s.cf.hostnames().filter((h) => h.hostname === cfHost).length, 0, "hostname deleted at Cloudflare");
    const users = (await s.stack.pg.query("select id from auth.users where id = any($1)", [[SEED.users.alice.id, SEED.users.carol.id]])).rows.map((u) => u.id);
    assert.deepEqual(users, [SEED.users.carol.id]);
    assert.deepEqual(await snapshot(globex), other, "globex's rows and objects are as they were");
    const file = await fetch(`${s.stack.supabase.url}/storage/v1/object/tenant-files/${globex}/docs/plan.txt`, { headers: { authorization: `Bearer ${s.stack.supabase.serviceKey}` } });
    assert.equal(await file.text(), "globex plan");
    // A second purge is told it was done (and deletes nothing more).
    const again = await s.request("POST", `/admin/v1/tenants/${acme}/purge`, { body: JSON.stringify({ override: true }) });
    assert.equal(again.status, 200, again.body);
    assert.equal(again.json().resumed, true);
  });

  test("a purge cut off after the database's part is finished by asking again", async () => {
    const t = await newTenant();
    const { rows } = await s.stack.pg.query("select id from auth.users where raw_user_meta_data->>'tenant_id' = $1", [t.id]);
    const owner = rows[0].id;
    await s.stack.pg.query("insert into public.tenant_members (tenant_id, user_id, role) values ($1, $2, 'owner')", [t.id, owner]);
    await upload(`${t.id}/x.txt`, "x");
    assert.equal((await s.request("DELETE", `/admin/v1/tenants/${t.id}`)).status, 200);
    s.faults.push({
      match: (u, m) => m === "DELETE" && u.pathname.includes("/auth/v1/admin/users/"),
      respond: () => new Response(JSON.stringify({ code: 500, error_code: "unexpected_failure", msg: "injected" }), { status: 500 }),
      times: 1,
    });
    const cut = await s.request("POST", `/admin/v1/tenants/${t.id}/purge`, { body: JSON.stringify({ override: true }) });
    assert.equal(cut.status, 503, cut.body);
    for (const k of PG_SHAPE) assert.ok(k in cut.json(), k);
    assert.equal((await s.stack.pg.query("select count(*)::int as n from auth.users where id = $1", [owner])).rows[0].n, 1, "the user is still there");
    assert.deepEqual(await s.tenantRows(t.id), {});

    const done = await s.request("POST", `/admin/v1/tenants/${t.id}/purge`, { body: JSON.stringify({ override: true }) });
    assert.equal(done.status, 200, done.body);
    assert.equal(done.json().resumed, true);
    assert.deepEqual(done.json().users, [owner]);
    assert.equal((await s.stack.pg.query("select count(*)::int as n from auth.users where id = $1", [owner])).rows[0].n, 0, "deleted on the second ask");
    assert.equal(s.stack.supabase.storage.files("tenant-files").filter((f) => f.startsWith(t.id)).length, 0);
  });
});
