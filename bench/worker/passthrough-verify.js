// Benchmark reference (a'''): the pass-through doing the router's runtime work (passthrough.js with
// its flags on) after a whole ES256/HS256 verification of the caller's token in JS with WebCrypto
// (verify.js), every request. With a new token each request nothing can be cached, so this is
// what scenario (c) "new token each request" costs done in JS with no routing decisions at all.
import passthrough from "./passthrough.js";
import { verifyToken } from "./verify.js";

export default {
  async fetch(request, env, ctx) {
    const token = (request.headers.get("authorization") ?? "").replace(/^Bearer\s+/i, "");
    try {
      await verifyToken(token, env);
    } catch (e) {
      return Response.json({ code: "invalid_token", message: String(e) }, { status: 401 });
    }
    return passthrough.fetch(request, env, ctx);
  },
};
