// TEST STAND-IN for an email API (Resend-style). Not a mail provider, and never deployed: it is the
// OUTBOX the admin service's Send Email hook sends to in tests, recording each message instead of
// delivering it, with the provider contract the hook relies on (admin/src/mailer.rs):
//
//   POST /emails   Authorization: Bearer <key>   Idempotency-Key: <key>
//                  {from, to: [address], subject, html, text}  ->  200 {id}
//   A second request with the same Idempotency-Key and the same body answers the first id and
//   records nothing (Resend's idempotency); the same key with another body, or while the first
//   request with it is still in progress, is 409 (Resend's `concurrent_idempotent_requests`).
//   A wrong or missing key is 401; an unreadable body 422.
//
//   const outbox = await startEmailStandin();
//   outbox.url ("http://127.0.0.1:<port>/emails"), outbox.key
//   outbox.messages(to?)   // recorded messages, oldest first: {id, from, to, subject, html, text, idempotencyKey}
//   outbox.requests        // how many POSTs arrived (retries included)
//   outbox.failNext(n, status)  // answer the next n sends with `status` (a provider outage)
//   outbox.delayNext(ms)        // the next send takes `ms` before it is recorded (a slow provider)
//   await outbox.stop()

import http from "node:http";
import crypto from "node:crypto";

export async function startEmailStandin({ key = `re_test_${crypto.randomBytes(8).toString("hex")}` } = {}) {
  const sent = [];
  const byKey = new Map();
  let failing = { n: 0, status: 503 };
  let requests = 0;
  let delay = 0;
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", async () => {
      const answer = (status, body) => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(body));
      };
      if (req.method !== "POST" || req.url !== "/emails") return answer(404, { message: "not found" });
      requests++;
      if (req.headers.authorization !== `Bearer ${key}`) return answer(401, { message: "invalid API key" });
      if (failing.n > 0) {
        failing.n--;
        return answer(failing.status, { message: "stand-in outage" });
      }
      const raw = Buffer.concat(chunks).toString("utf8");
      let m;
      try {
        m = JSON.parse(raw);
      } catch {
        return answer(422, { message: "invalid JSON" });
      }
      if (typeof m.from !== "string" || !Array.isArray(m.to) || typeof m.subject !== "string" || typeof m.html !== "string") {
        return answer(422, { message: "from, to, subject and html are required" });
      }
      const idem = req.headers["idempotency-key"];
      if (idem && byKey.has(idem)) {
        const first = byKey.get(idem);
        if (first.pending) return answer(409, { name: "concurrent_idempotent_requests", message: "a request with this key is in progress" });
        return first.raw === raw ? answer(200, { id: first.id }) : answer(409, { message: "idempotency key reused with another body" });
      }
      if (idem) byKey.set(idem, { pending: true });
      if (delay > 0) {
        const ms = delay;
        delay = 0;
        await new Promise((r) => setTimeout(r, ms));
      }
      const id = crypto.randomUUID();
      for (const to of m.to) sent.push({ id, from: m.from, to, subject: m.subject, html: m.html, text: m.text, idempotencyKey: idem ?? null });
      if (idem) byKey.set(idem, { id, raw });
      answer(200, { id });
    });
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}/emails`,
    key,
    get requests() {
      return requests;
    },
    messages(to) {
      return sent.filter((m) => to === undefined || m.to === String(to).toLowerCase()).map((m) => ({ ...m }));
    },
    delayNext(ms) {
      delay = ms;
    },
    failNext(n, status = 503) {
      failing = { n, status };
    },
    stop() {
      return new Promise((r) => server.close(r));
    },
  };
}

/** The one link in a message's text part. */
export function linkOf(message) {
  const m = /https?:\/\/\S+/.exec(message.text);
  return m ? m[0] : null;
}
