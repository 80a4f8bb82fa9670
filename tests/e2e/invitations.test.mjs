// End to end, invitations as people meet them (SPEC §6, docs/database.md "Invitations"): the real
// supabase-js on the invite-only tenant's own domain (crm.globex.test), through the built router in
// workerd, to the Supabase TEST STAND-INS (Auth mails one-time codes to a test mailbox) and the real
// migrations on PostgreSQL 15. An invitation becomes a membership only when its invitee proves the
// mailbox after the invitation and calls rpc("accept_invitation"); a self sign-up with the invited
// address (auto-confirm) never takes the seat.

import { test } from "node:test";
import assert from "node:assert/strict";
import { SEED } from "../support/stack.mjs";
import { useStack, tenantClient, serviceClient, claimsOf, uniqueEmail } from "./helpers.mjs";

const ACME = SEED.acme;
const GLOBEX = SEED.globex;
const { alice } = SEED.users;
const T = { timeout: 30_000 };

const { stack, db } = useStack({ seed: true, alg: "ES256" });
const sql = db.sql;

/** The platform's invitation (as the admin service would write it). */
async function invite(tenantId, email, role) {
  await sql("insert into public.tenant_invitations (tenant_id, email, role) values ($1, $2, $3)", [tenantId, email, role]);
}

async function memberships(email) {
  const rows = await sql(
    `select t.slug, m.role from public.tenant_members m join public.tenants t on t.id = m.tenant_id
     join auth.users u on u.id = m.user_id where u.email = $1 order by t.slug`,
    [email],
  );
  return rows.map((r) => `${r.slug}/${r.role}`);
}

/** The newest code the Auth stand-in mailed to an address (what its owner reads in their inbox). */
function lastCode(email) {
  const box = stack.supabase.auth.mailbox(email);
  assert.ok(box.length > 0, `nothing was mailed to ${email}`);
  return box.at(-1).token;
}

test("a new address invited through Auth joins only after verifying the emailed code on the tenant's host and accepting", T, async () => {
  const email = uniqueEmail("newhire");
  await invite(GLOBEX.id, email, "admin");
  const { error: inviteErr } = await serviceClient(stack).auth.admin.inviteUserByEmail(email, { data: { tenant_id: GLOBEX.id } });
  assert.equal(inviteErr, null, inviteErr?.message);
  assert.deepEqual(await memberships(email), [], "Auth's invite alone makes no member");

  const sb = tenantClient(stack, GLOBEX.host);
  const { data: verified, error: verifyErr } = await sb.auth.verifyOtp({ email, token: lastCode(email), type: "invite" });
  assert.equal(verifyErr, null, verifyErr?.message);
  assert.equal(claimsOf(verified.session.access_token).amr[0].method, "otp");
  assert.deepEqual(await memberships(email), [], "verifying the address alone makes no member");

  const { data, error, status } = await sb.rpc("accept_invitation", { p_tenant_id: GLOBEX.id });
  assert.equal(error, null, error?.message);
  assert.equal(status, 200);
  assert.deepEqual(data, { tenant_id: GLOBEX.id, role: "admin" });
  assert.deepEqual(await memberships(email), ["globex/admin"]);

  // A refreshed token lists the tenant (custom access token hook), and the member works there.
  const { data: refreshed, error: refreshErr } = await sb.auth.refreshSession();
  assert.equal(refreshErr, null, refreshErr?.message);
  assert.deepEqual(claimsOf(refreshed.session.access_token).tenant_ids, [GLOBEX.id]);
  const { error: readErr, status: readStatus } = await sb.from("contacts").select("id");
  assert.equal(readErr, null, readErr?.message);
  assert.equal(readStatus, 200);
});

test("an existing account accepts another tenant's invitation with a magic-link code, not with its password session", T, async () => {
  await invite(GLOBEX.id, alice.email, "member");
  const sb = tenantClient(stack, GLOBEX.host);
  const { error: pwErr } = await sb.auth.signInWithPassword({ email: alice.email, password: SEED.password });
  assert.equal(pwErr, null, pwErr?.message);
  const refused = await sb.rpc("accept_invitation", { p_tenant_id: GLOBEX.id });
  assert.equal(refused.status, 403);
  assert.equal(refused.error?.code, "PT403");
  assert.deepEqual(await memberships(alice.email), ["acme/owner"]);

  // signInWithOtp on the invite-only host: the router forwards it with create_user false (alice exists).
  const { error: otpErr } = await sb.auth.signInWithOtp({ email: alice.email });
  assert.equal(otpErr, null, otpErr?.message);
  const { error: verifyErr } = await sb.auth.verifyOtp({ email: alice.email, token: lastCode(alice.email), type: "email" });
  assert.equal(verifyErr, null, verifyErr?.message);
  const { data, error } = await sb.rpc("accept_invitation", { p_tenant_id: GLOBEX.id });
  assert.equal(error, null, error?.message);
  assert.equal(data.role, "member");
  assert.deepEqual(await memberships(alice.email), ["acme/owner", "globex/member"], "a multi-tenant user keeps both");
});

test("a self sign-up with an invited address (auto-confirm) takes no seat and cannot accept the invitation", T, async () => {
  const email = uniqueEmail("squatter");
  await invite(GLOBEX.id, email, "owner");
  // Signed up on an open tenant's host (the router stamps acme), with a session at once (auto-confirm).
  const sb = tenantClient(stack, ACME.host);
  const { data, error } = await sb.auth.signUp({ email, password: "correct-horse-9" });
  assert.equal(error, null, error?.message);
  assert.ok(data.session, "auto-confirm sign-up returns a session");
  assert.deepEqual(await memberships(email), ["acme/member"], "only the open tenant the sign-up was on");

  const onGlobex = tenantClient(stack, GLOBEX.host, { accessToken: data.session.access_token });
  const { error: acceptErr, status } = await onGlobex.rpc("accept_invitation", { p_tenant_id: GLOBEX.id });
  assert.equal(status, 403);
  assert.equal(acceptErr?.code, "PT403");
  assert.deepEqual(await memberships(email), ["acme/member"]);
  const pending = await sql("select accepted_at from public.tenant_invitations where email = $1", [email]);
  assert.deepEqual(pending, [{ accepted_at: null }], "the invitation stays pending for its real invitee");
});

test("signInWithOtp for an unknown address on an invite-only host creates no user", T, async () => {
  const email = uniqueEmail("stranger");
  const { error } = await tenantClient(stack, GLOBEX.host).auth.signInWithOtp({ email });
  assert.ok(error, "refused");
  assert.equal(error.status, 422);
  assert.deepEqual(await sql("select id from auth.users where email = $1", [email]), []);
});
