// Serves the demo front end (demo/) as FRONTEND_ORIGIN: every non-API path of a tenant host gets
// demo/index.html; /demo/* its assets, supabase-js's UMD build and a config with the anon key.
import http from "node:http";
import fs from "node:fs";
import path from "node:path";
import { repoRoot } from "./router.mjs";

const FILES = {
  "/demo/app.js": path.join(repoRoot, "demo", "app.js"),
  "/demo/supabase.js": path.join(repoRoot, "node_modules", "@supabase", "supabase-js", "dist", "umd", "supabase.js"),
};

/** `config.anonKey` (and `config.oauthProvider`, the demo's "Continue with …" button; none: no
 * button) are read per request, so they can be set once the stack is up. */
export async function startFrontend(config, { port = 0 } = {}) {
  const server = http.createServer((req, res) => {
    const p = new URL(req.url, "http://x").pathname;
    const send = (type, body) => {
      res.writeHead(200, { "content-type": type, "cache-control": "no-store" });
      res.end(body);
    };
    if (p === "/demo/config.js") {
      return send("text/javascript", `window.DEMO_CONFIG = ${JSON.stringify({ anonKey: config.anonKey, oauthProvider: config.oauthProvider ?? null })};`);
    }
    if (FILES[p]) return send("text/javascript", fs.readFileSync(FILES[p]));
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405);
      return res.end();
    }
    send("text/html; charset=utf-8", fs.readFileSync(path.join(repoRoot, "demo", "index.html")));
  });
  await new Promise((r) => server.listen(port, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    close: () => new Promise((r) => server.close(r)),
  };
}
