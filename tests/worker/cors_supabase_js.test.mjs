// CORS for every header the installed supabase-js sends (SPEC §1.1). Each sub-client — postgrest
// (with a retried 503, which adds X-Retry-Count), auth, storage, functions, realtime's REST
// broadcast — runs against a capturing server; the header names it sent, less those Node's fetch
// adds on its own, are then asked for in a browser-style preflight to the router in workerd, and
// each must be allowed. An upgrade of supabase-js that sends a new header fails here. The list
// supabase-js itself publishes for CORS (`@supabase/supabase-js/cors`, trace headers included)
// must be allowed too. Ordinary answers must expose what the clients read.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { createClient } from "@supabase/supabase-js";
import { corsHeaders } from "@supabase/supabase-js/cors";
import { ANON_KEY, startPair, hsToken, bearer } from "./fixtures.mjs";

/** A server that records the header names of every request and answers like Supabase, roughly. */
async function startCapture() {
  const seen = [];
  let retryProbeHits = 0;
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      const url = new URL(req.url, "http://x");
      seen.push({ method: req.method, path: url.pathname, names: Object.keys(req.headers), headers: req.headers });
      if (url.pathname === "/rest/v1/retry_probe" && retryProbeHits++ === 0) {
        res.writeHead(503, { "content-type": "application/json", "retry-after": "0" });
        return res.end('{"code":"PGRST002","message":"schema cache"}');
      }
      let answer = "[]";
      if (url.pathname.startsWith("/auth/v1/token")) {
        answer = JSON.stringify({ access_token: "a.b.c", refresh_token: "r", token_type: "bearer", expires_in: 3600, user: { id: "00000000-0000-4000-8000-000000000001", aud: "authenticated" } });
      } else if (url.pathname.startsWith("/auth/v1/") || url.pathname.startsWith("/storage/v1/object/") || url.pathname.startsWith("/functions/v1/")) {
        answer = JSON.stringify({ id: "00000000-0000-4000-8000-000000000001", Key: "b/a.txt", signedURL: "/object/sign/b/a.txt?token=t", ok: true });
      }
      res.writeHead(200, { "content-type": "application/json" });
      res.end(answer);
    });
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${server.address().port}`, seen, close: () => new Promise((r) => server.close(r)) };
}

// Headers the transport sets, never supabase-js: not the client's to ask a preflight for.
const TRANSPORT = new Set(["host", "connection", "content-length", "transfer-encoding", "keep-alive"]);

describe("CORS: every header supabase-js sends passes the preflight", () => {
  let capture, pair;
  const sent = {}; // sub-client -> Set of header names
  before(async () => {
    capture = await startCapture();
    // What Node's fetch sends by itself (accept, accept-language, sec-fetch-mode, user-agent, ...).
    await fetch(`${capture.url}/baseline`);
    await fetch(`${capture.url}/baseline`, { method: "POST", body: new Uint8Array([1]) }); // no content-type
    const baseline = new Set(capture.seen.flatMap((r) => r.names));
    capture.seen.length = 0;

    const sb = createClient(capture.url, ANON_KEY, { auth: { persistSession: false, autoRefreshToken: false } });
    const run = async (client, fn) => {
      const from = capture.seen.length;
      await fn();
      const names = new Set(sent[client] ?? []);
      for (const r of capture.seen.slice(from)) for (const n of r.names) if (!baseline.has(n) && !TRANSPORT.has(n)) names.add(n);
      sent[client] = names;
    };
    await run("postgrest", async () => {
      await sb.from("contacts").select("*", { count: "exact" }).range(0, 9);
      await sb.from("contacts").insert({ name: "a" }).select();
      await sb.from("contacts").upsert({ id: 1 }, { onConflict: "id" });
      await sb.from("contacts").update({ name: "b" }).eq("id", 1);
      await sb.from("contacts").delete().eq("id", 1);
      await sb.rpc("resolve_tenant", { p_slug: "acme" });
      await sb.schema("other").from("t").select();
      await sb.schema("other").from("t").insert({ a: 1 });
      await sb.from("contacts").select().csv();
      await sb.from("retry_probe").select(); // 503 first, retried with X-Retry-Count
    });
    await run("auth", async () => {
      await sb.auth.signInWithPassword({ email: "a@b.test", password: "password123" });
      await sb.auth.signUp({ email: "a@b.test", password: "password123", options: { data: { x: 1 } } });
      await sb.auth.getUser("a.b.c");
      await sb.auth.resetPasswordForEmail("a@b.test");
      await sb.auth.signInWithOtp({ email: "a@b.test" });
    });
    await run("storage", async () => {
      const bucket = sb.storage.from("b");
      await bucket.upload("a.txt", new Blob(["data"], { type: "text/plain" }), { upsert: true, cacheControl: "60", metadata: { k: "v" }, contentType: "text/plain" });
      await bucket.update("a.txt", new Blob(["data2"]), { upsert: false });
      await bucket.list("", { limit: 1 });
      await bucket.createSignedUrl("a.txt", 60);
      await bucket.download("a.txt");
      await bucket.remove(["a.txt"]);
      await sb.storage.listBuckets();
    });
    await run("functions", async () => {
      await sb.functions.invoke("hello", { body: { a: 1 } });
      await sb.functions.invoke("hello", { body: "text", region: "us-east-1", headers: {} });
    });
    await run("realtime", async () => {
      const ch = sb.channel("room");
      // Not subscribed: realtime-js sends the broadcast over REST (POST /realtime/v1/api/broadcast).
      await ch.send({ type: "broadcast", event: "e", payload: { a: 1 } });
      await sb.removeChannel(ch);
    });
    pair = await startPair();
  });
  after(async () => {
    await pair?.dispose();
    await capture?.close();
  });

  test("the capture saw each sub-client's own headers (the capture itself works)", () => {
    assert.ok(sent.postgrest.has("x-retry-count"), `postgrest: ${[...sent.postgrest]}`);
    assert.ok(sent.postgrest.has("prefer") && sent.postgrest.has("accept-profile") && sent.postgrest.has("content-profile"), `postgrest: ${[...sent.postgrest]}`);
    assert.ok(sent.auth.has("x-supabase-api-version"), `auth: ${[...sent.auth]}`);
    assert.ok(sent.storage.has("x-upsert"), `storage: ${[...sent.storage]}`);
    assert.ok(sent.functions.has("x-region"), `functions: ${[...sent.functions]}`);
    for (const [client, names] of Object.entries(sent)) {
      assert.ok(names.has("apikey") && names.has("authorization") && names.has("content-type"), `${client}: ${[...names]}`);
      if (process.env.CORS_PRINT_HEADERS) console.log(`${client}: ${[...names].sort().join(", ")}`);
    }
  });

  const preflight = (names) =>
    pair.router.request("acme.app.example", "/rest/v1/contacts", {
      method: "OPTIONS",
      headers: { origin: "https://acme.app.example", "access-control-request-method": "POST", "access-control-request-headers": [...names].join(", ") },
    });
  const allowed = (res) => new Set((res.headers["access-control-allow-headers"] ?? "").toLowerCase().split(/\s*,\s*/));

  for (const client of ["postgrest", "auth", "storage", "functions", "realtime"]) {
    test(`${client}: every header it sent is allowed by the router's preflight`, async () => {
      const res = await preflight(sent[client]);
      assert.ok(res.status === 200 || res.status === 204, res.body);
      const allow = allowed(res);
      const missing = [...sent[client]].filter((h) => !allow.has(h));
      assert.deepEqual(missing, [], `${client} sends ${missing.join(", ")}, which the preflight does not allow (src/cors.rs ALLOW_HEADERS)`);
    });
  }

  test("the headers supabase-js lists for CORS (@supabase/supabase-js/cors, trace headers included) are allowed", async () => {
    const listed = corsHeaders["Access-Control-Allow-Headers"].toLowerCase().split(/\s*,\s*/);
    for (const h of ["x-retry-count", "traceparent", "tracestate", "baggage"]) assert.ok(listed.includes(h), `supabase-js no longer lists ${h}`);
    const allow = allowed(await preflight(listed));
    assert.deepEqual(listed.filter((h) => !allow.has(h)), []);
  });

  test("answers to an allowed origin expose Retry-After, Content-Range, X-Supabase-Api-Version and the request ids", async () => {
    const res = await pair.router.request("acme.app.example", "/rest/v1/contacts", { headers: { origin: "https://acme.app.example", ...bearer(hsToken(pair.up)) } });
    assert.equal(res.status, 200, res.body);
    const expose = (res.headers["access-control-expose-headers"] ?? "").toLowerCase().split(/\s*,\s*/);
    for (const h of ["retry-after", "content-range", "x-supabase-api-version", "sb-request-id", "x-request-id"]) assert.ok(expose.includes(h), `expose lacks ${h}: ${expose}`);
  });
});
