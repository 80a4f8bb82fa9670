// tenantctl (the native CLI, target/debug/tenantctl) against the admin Worker in workerd: the
// operator's day from README — create (following the journal), list, show, domain, suspend, resume,
// delete, purge — with its documented exit codes and --json.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import crypto from "node:crypto";
import { startAdminStack, runTenantctl, TENANTCTL } from "./support.mjs";

let s;

function ctl(args, { token = s.tokens.admin, url = s.admin.url } = {}) {
  return runTenantctl(args, { url, token });
}

describe("tenantctl over the admin API", () => {
  before(async () => {
    if (!fs.existsSync(TENANTCTL)) throw new Error("tenantctl is not built: run `cargo build -p tenantctl` first");
    s = await startAdminStack();
  });
  after(async () => {
    await s?.stop();
  });

  test("the operator's day: create with progress, list, show, domain, suspend, resume, delete, purge", async () => {
    const name = `Ctl ${crypto.randomBytes(3).toString("hex")}`;
    const made = await ctl(["create", "--name", name, "--plan", "pro", "--admin-email", "owner@ctl.localtest"]);
    assert.equal(made.code, 0, made.stderr + made.stdout);
    assert.match(made.stdout, /^provisioning [0-9a-f-]{36} for ctl-/m);
    for (const step of ["create_tenant", "invite_admin"]) assert.match(made.stdout, new RegExp(`^  ${step}\\s+done$`, "m"));
    assert.match(made.stdout, /^succeeded: [0-9a-f-]{36} at ctl-[a-z0-9]+\.localhost$/m);
    const id = /^succeeded: ([0-9a-f-]{36})/m.exec(made.stdout)[1];

    const list = await ctl(["list", "--q", name, "--json"]);
    assert.equal(list.code, 0, list.stderr);
    assert.deepEqual(list.json().tenants.map((t) => t.id), [id]);
    const show = await ctl(["show", id]);
    assert.equal(show.code, 0);
    assert.match(show.stdout, new RegExp(`^${name} \\(ctl-[a-z0-9]+\\) active$`, "m"));

    const host = `crm.${id.slice(0, 8)}.localtest`;
    const dom = await ctl(["domain", id, host]);
    assert.equal(dom.code, 0, dom.stderr);
    assert.match(dom.stdout, new RegExp(`^${host.replaceAll(".", "\\.")} status`, "m"));

    assert.match((await ctl(["suspend", id])).stdout, /is suspended/);
    assert.equal((await s.stack.pg.query("select status from public.tenants where id = $1", [id])).rows[0].status, "suspended");
    assert.match((await ctl(["resume", id])).stdout, /is active/);
    const del = await ctl(["delete", id]);
    assert.equal(del.code, 0);
    assert.match(del.stdout, /is deleted; its purge is due after /);

    const held = await ctl(["purge", id]);
    assert.equal(held.code, 4, "refused during the hold");
    assert.match(held.stderr, /retention hold/);
    const purged = await ctl(["purge", id, "--override", "--json"]);
    assert.equal(purged.code, 0, purged.stderr);
    assert.deepEqual(purged.json().hostnames, [host]);
    assert.equal(s.cf.hostnames().filter((h) => h.hostname === host).length, 0);
    assert.deepEqual(await s.tenantRows(id), {});
    assert.equal((await ctl(["show", id])).code, 4, "gone");
  });

  test("exit codes: usage 2, refused 4, unreachable 3", async () => {
    assert.equal((await ctl([])).code, 2);
    assert.equal((await ctl(["list", "--bogus"])).code, 2);
    assert.equal((await ctl(["suspend"])).code, 2, "no tenant id");
    assert.equal((await ctl(["list"], { token: null })).code, 2, "no token");
    const refused = await ctl(["list"], { token: s.tokens.user });
    assert.equal(refused.code, 4);
    assert.match(refused.stderr, /not_platform_admin/);
    assert.equal((await ctl(["show", crypto.randomUUID()])).code, 4);
    assert.equal((await ctl(["list"], { url: "http://127.0.0.1:1" })).code, 3);
  });
});
