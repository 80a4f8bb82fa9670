// End to end as users meet it: the real @supabase/supabase-js, created with a tenant's domain as its
// URL, through the built router in workerd, to the Supabase TEST STAND-INS (Auth + PostgREST, see
// tests/support/), down to RLS on a real PostgreSQL 15 loaded with sql/ and the seed.
//
// Seed (sql/seed.sql): acme (open sign-up, slug only: acme.localhost), globex (invite-only, custom
// domain crm.globex.test); alice in acme, bob in globex, carol in both; password `password123`.
// The router runs with TENANT_DIRECTORY=supabase: every host is resolved by the real
// public.resolve_tenant through the REST stand-in.

import { test } from "node:test";
import assert from "node:assert/strict";
import { SEED } from "../support/stack.mjs";
import { useStack, tenantClient, serviceClient, hostMappedFetch, claimsOf, foreignSigned, uniqueEmail } from "./helpers.mjs";

const ACME = SEED.acme;
const GLOBEX = SEED.globex;
const { alice, bob, carol } = SEED.users;
const PASSWORD = SEED.password;
const T = { timeout: 30_000 };

const { stack, db } = useStack({ seed: true, alg: "ES256" });
const sql = db.sql;

async function signIn(host, email) {
  const sb = tenantClient(stack, host);
  const { data, error } = await sb.auth.signInWithPassword({ email, password: PASSWORD });
  assert.equal(error, null, `sign-in of ${email} on ${host} failed: ${error?.message}`);
  assert.ok(data.session?.access_token, "no session");
  return { sb, session: data.session };
}

test("GET /__router/tenant gives each host its own tenant record and branding", T, async () => {
  const f = hostMappedFetch(stack.routerPort);
  const acme = await (await f(`http://${ACME.host}:${stack.routerPort}/__router/tenant`)).json();
  const globexCustom = await (await f(`http://${GLOBEX.host}:${stack.routerPort}/__router/tenant`)).json();
  const globexSlug = await (await f(`http://${GLOBEX.slugHost}:${stack.routerPort}/__router/tenant`)).json();
  assert.equal(acme.id, ACME.id);
  assert.equal(acme.slug, "acme");
  assert.equal(acme.signup, "open");
  assert.deepEqual(acme.branding, { logo_url: "https://example.com/acme.svg", primary_color: "#004AAD" });
  assert.equal(globexCustom.id, GLOBEX.id);
  assert.equal(globexCustom.custom_domain, "crm.globex.test");
  assert.equal(globexCustom.signup, "invite_only");
  assert.deepEqual(globexCustom.branding, { logo_url: "https://example.com/globex.svg", primary_color: "#1B5E20" });
  assert.deepEqual(globexSlug, globexCustom, "the slug host and the custom domain of globex give the same record");
  // The directory was the real resolve_tenant RPC, called through the REST stand-in.
  const rpcs = stack.supabase.requestsTo("/rest/v1/rpc/resolve_tenant").map((r) => JSON.parse(r.body));
  assert.ok(rpcs.some((b) => b.p_slug === "acme"), JSON.stringify(rpcs));
  assert.ok(rpcs.some((b) => b.p_domain === "crm.globex.test"), JSON.stringify(rpcs));
});

test("sign-up on an open tenant's host creates the profile and the membership of that tenant (trigger), and returns a session", T, async () => {
  const email = uniqueEmail("newcomer");
  const sb = tenantClient(stack, ACME.host);
  // The client tries to name another tenant in its metadata: the router stamps the host's tenant.
  const { data, error } = await sb.auth.signUp({
    email,
    password: "correct-horse-9",
    options: { data: { full_name: "Nina Newcomer", tenant_id: GLOBEX.id } },
  });
  assert.equal(error, null, error?.message);
  assert.ok(data.session?.access_token, "autoconfirm sign-up returns a session");
  assert.equal(data.user.email, email);
  assert.equal(data.user.user_metadata.tenant_id, ACME.id, "router stamped the host's tenant into the metadata");

  const profile = await sql("select id, email, full_name from public.users where id = $1", [data.user.id]);
  assert.deepEqual(profile, [{ id: data.user.id, email, full_name: "Nina Newcomer" }]);
  const members = await sql("select tenant_id, role from public.tenant_members where user_id = $1", [data.user.id]);
  assert.deepEqual(members, [{ tenant_id: ACME.id, role: "member" }]);
  // The access token was minted after the trigger ran, through the custom access token hook.
  assert.deepEqual(claimsOf(data.session.access_token).tenant_ids, [ACME.id]);

  // The session works on the host right away.
  const { data: me, error: meErr } = await sb.auth.getUser();
  assert.equal(meErr, null, meErr?.message);
  assert.equal(me.user.id, data.user.id);
});

test("sign-in with a password returns a Supabase session whose token names the user's tenants; refresh and sign-out work", T, async () => {
  const { sb, session } = await signIn(ACME.host, alice.email);
  const c = claimsOf(session.access_token);
  assert.equal(c.sub, alice.id);
  assert.equal(c.role, "authenticated");
  assert.equal(c.aud, "authenticated");
  assert.equal(c.iss, `${stack.supabase.url}/auth/v1`);
  assert.equal(c.aal, "aal1");
  assert.equal(typeof c.session_id, "string");
  assert.equal(c.is_anonymous, false);
  assert.deepEqual(c.tenant_ids, [ACME.id]);
  assert.equal(session.user.email, alice.email);

  const { data: refreshed, error: rErr } = await sb.auth.refreshSession();
  assert.equal(rErr, null, rErr?.message);
  assert.notEqual(refreshed.session.refresh_token, session.refresh_token, "refresh tokens rotate");

  const { data: bad, error: badErr } = await tenantClient(stack, ACME.host).auth.signInWithPassword({ email: alice.email, password: "wrong-password" });
  assert.equal(bad.session, null);
  assert.equal(badErr?.status, 400);
  assert.equal(badErr?.code, "invalid_credentials");

  const { error: outErr } = await sb.auth.signOut();
  assert.equal(outErr, null, outErr?.message);
});

test("a member inserts and lists contacts on the tenant's host; the created row carries the host's tenant id", T, async () => {
  const { sb } = await signIn(ACME.host, alice.email);
  const name = `E2E Contact ${Date.now()}`;
  const { data: inserted, error } = await sb.from("contacts").insert({ name, email: "e2e@patients.test" }).select("id, name, tenant_id").single();
  assert.equal(error, null, error?.message);
  assert.equal(inserted.name, name);
  assert.equal(inserted.tenant_id, ACME.id, "tenant_id came from the router's x-tenant-id through the column default");

  const { data: list, error: lErr } = await sb.from("contacts").select("id, name, tenant_id").order("created_at", { ascending: false });
  assert.equal(lErr, null, lErr?.message);
  assert.ok(list.some((r) => r.id === inserted.id), "the new contact is listed");
  assert.ok(list.every((r) => r.tenant_id === ACME.id), "only acme's contacts are listed");

  const { data: one } = await sb.from("contacts").select("tenant_id").eq("id", inserted.id);
  assert.deepEqual(one, [{ tenant_id: ACME.id }]);
  const db = await sql("select tenant_id from public.contacts where id = $1", [inserted.id]);
  assert.deepEqual(db, [{ tenant_id: ACME.id }]);
});

test("a user of tenant B on tenant A's host is refused at the edge: 403 tenant_mismatch from the token's tenant_ids", T, async () => {
  const { session } = await signIn(GLOBEX.host, bob.email);
  assert.deepEqual(claimsOf(session.access_token).tenant_ids, [GLOBEX.id]);
  const before = stack.supabase.requestsTo("/rest/v1/contacts").length;
  const onAcme = tenantClient(stack, ACME.host, { accessToken: session.access_token });
  const { data, error, status } = await onAcme.from("contacts").select("id");
  assert.equal(data, null);
  assert.equal(status, 403);
  assert.equal(error?.code, "tenant_mismatch", JSON.stringify(error));
  assert.equal(stack.supabase.requestsTo("/rest/v1/contacts").length, before, "the request never reached Supabase");
});

test("a user of tenant B whose token lacks the tenant_ids claim passes the edge on tenant A's host but the database shows and accepts nothing", T, async () => {
  const session = await stack.supabase.auth.sessionFor(bob.id, { hook: false });
  assert.equal(claimsOf(session.access_token).tenant_ids, undefined, "minted without the hook");
  const before = stack.supabase.requestsTo("/rest/v1/contacts").length;
  const onAcme = tenantClient(stack, ACME.host, { accessToken: session.access_token });

  const { data, error } = await onAcme.from("contacts").select("id, tenant_id");
  assert.equal(error, null, error?.message);
  assert.deepEqual(data, [], "RLS: bob is not an acme member, so nothing");
  assert.equal(stack.supabase.requestsTo("/rest/v1/contacts").length, before + 1, "this one did reach the database");

  const acmeCount = (await sql("select count(*)::int as n from public.contacts where tenant_id = $1", [ACME.id]))[0].n;
  const ins = await onAcme.from("contacts").insert({ tenant_id: ACME.id, name: "Intruder" });
  assert.equal(ins.status, 403, JSON.stringify(ins.error));
  assert.equal(ins.error?.code, "42501");
  const upd = await onAcme.from("contacts").update({ name: "Hijacked" }).eq("tenant_id", ACME.id).select("id");
  assert.equal(upd.error, null);
  assert.deepEqual(upd.data, []);
  const del = await onAcme.from("contacts").delete().eq("tenant_id", ACME.id).select("id");
  assert.equal(del.error, null);
  assert.deepEqual(del.data, []);
  assert.equal((await sql("select count(*)::int as n from public.contacts where tenant_id = $1", [ACME.id]))[0].n, acmeCount);
  assert.deepEqual(await sql("select name from public.contacts where name in ('Intruder', 'Hijacked')"), []);
});

test("a user in both tenants sees exactly the host's tenant on each host", T, async () => {
  const expected = async (tenant) =>
    (await sql("select id from public.contacts where tenant_id = $1 order by id", [tenant])).map((r) => r.id);
  for (const [host, tenant] of [
    [ACME.host, ACME.id],
    [GLOBEX.host, GLOBEX.id],
  ]) {
    const { sb, session } = await signIn(host, carol.email);
    assert.deepEqual([...claimsOf(session.access_token).tenant_ids].sort(), [ACME.id, GLOBEX.id].sort());
    const { data, error } = await sb.from("contacts").select("id, tenant_id").order("id");
    assert.equal(error, null, error?.message);
    assert.ok(data.length > 0, `carol sees ${host}'s contacts`);
    assert.ok(data.every((r) => r.tenant_id === tenant), `${host}: ${JSON.stringify(data)}`);
    assert.deepEqual(data.map((r) => r.id), await expected(tenant));
  }
});

test("a client-sent x-tenant-id header is ignored: the router sends the host's tenant and the data follow the host", T, async () => {
  const { session } = await signIn(ACME.host, carol.email);
  const sent = [];
  const sb = tenantClient(stack, ACME.host, { accessToken: session.access_token, headers: { "x-tenant-id": GLOBEX.id, "x-tenant-slug": "globex" }, sent });
  const mark = stack.supabase.requests.length;
  const { data, error } = await sb.from("contacts").select("id, tenant_id");
  assert.equal(error, null, error?.message);
  assert.ok(sent.some((r) => r.headers["x-tenant-id"] === GLOBEX.id), "supabase-js did send the forged header");
  assert.ok(data.length > 0);
  assert.ok(data.every((r) => r.tenant_id === ACME.id), JSON.stringify(data));
  const upstream = stack.supabase.requests.slice(mark).filter((r) => r.path === "/rest/v1/contacts");
  assert.equal(upstream.length, 1);
  assert.equal(upstream[0].headers["x-tenant-id"], ACME.id, "exactly one x-tenant-id, the host's");
  assert.equal(upstream[0].headers["x-tenant-slug"], "acme");
});

test("a token signed by a foreign key is refused at the edge with 401 invalid_token", T, async () => {
  const { session } = await signIn(ACME.host, alice.email);
  const forged = foreignSigned(session.access_token);
  const mark = stack.supabase.requestsTo("/rest/v1/contacts").length;
  const sb = tenantClient(stack, ACME.host, { accessToken: forged });
  const { data, error, status } = await sb.from("contacts").select("id");
  assert.equal(data, null);
  assert.equal(status, 401);
  assert.equal(error?.code, "invalid_token", JSON.stringify(error));
  const raw = await hostMappedFetch(stack.routerPort)(`http://${ACME.host}:${stack.routerPort}/rest/v1/contacts?select=id`, {
    headers: { apikey: stack.anonKey, authorization: `Bearer ${forged}` },
  });
  assert.equal(raw.status, 401);
  assert.match(raw.headers.get("www-authenticate") ?? "", /Bearer error="invalid_token"/);
  assert.equal(stack.supabase.requestsTo("/rest/v1/contacts").length, mark, "nothing reached Supabase");
});

test("sign-up on an invite-only tenant's host is refused with 403 signup_closed and creates no user", T, async () => {
  const email = uniqueEmail("uninvited");
  const sb = tenantClient(stack, GLOBEX.host);
  const { data, error } = await sb.auth.signUp({ email, password: "correct-horse-9" });
  assert.equal(data.user, null);
  assert.equal(data.session, null);
  assert.equal(error?.status, 403);
  assert.equal(error?.code, "signup_closed", JSON.stringify(error));
  assert.ok(error.message.length > 0, "a message the app can show");
  assert.deepEqual(await sql("select id from auth.users where email = $1", [email]), []);
  assert.equal(stack.supabase.requestsTo("/auth/v1/signup").filter((r) => r.body.includes(email)).length, 0, "refused at the edge");
});

test("a removed member loses access at once: after the service role deletes the membership, the next request sees nothing", T, async () => {
  const email = uniqueEmail("leaver");
  const sb = tenantClient(stack, ACME.host);
  const { data: su, error } = await sb.auth.signUp({ email, password: "correct-horse-9" });
  assert.equal(error, null, error?.message);
  const uid = su.user.id;
  const first = await sb.from("contacts").select("id, tenant_id");
  assert.equal(first.error, null, first.error?.message);
  assert.ok(first.data.length > 0, "a member sees acme's contacts");

  // The platform removes the member straight at Supabase with the service_role key.
  const admin = serviceClient(stack);
  const del = await admin.from("tenant_members").delete().eq("tenant_id", ACME.id).eq("user_id", uid).select("tenant_id, user_id");
  assert.equal(del.error, null, del.error?.message);
  assert.deepEqual(del.data, [{ tenant_id: ACME.id, user_id: uid }]);

  // Same session, same token (still naming acme in tenant_ids): the database re-checks membership.
  const next = await sb.from("contacts").select("id");
  assert.equal(next.error, null, next.error?.message);
  assert.deepEqual(next.data, []);
  const ins = await sb.from("contacts").insert({ name: "After removal" });
  assert.ok(ins.error, "a former member cannot write");
  assert.deepEqual(await sql("select 1 from public.contacts where name = 'After removal'"), []);
});
