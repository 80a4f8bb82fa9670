// TEST STAND-IN for Supabase Storage (storage-api), the part the admin service and the tests use,
// behaving as Supabase documents it: an object is a `storage.objects` row (on the stack's real
// Postgres) AND a file (here under a temporary directory); deleting through the API removes both,
// which is why a purge goes through it (deleting the row in SQL would orphan the file).
//
//   POST   /storage/v1/object/:bucket/:name   upload (body = the bytes; `x-upsert: true` to replace)
//   GET    /storage/v1/object/:bucket/:name   download
//   POST   /storage/v1/object/list/:bucket    {prefix, limit=100, offset=0, sortBy, search}: one folder
//          level, files with their id and metadata, sub-folders as entries whose id is null
//   DELETE /storage/v1/object/:bucket         {prefixes: [name, …]} (at most 1000): the objects
//          removed, as rows; names that do not exist are skipped
// Only the service role (the secret key) is served: the stand-in does not evaluate the bucket's RLS
// for user tokens, and answers them 403 rather than pretend.
//
//   const st = createStorageStandin({ pool, verify }); st.handle(req, res, body)
//   st.files(bucket) -> names of the files on disk; st.dir

import fs from "node:fs";
import os from "node:os";
import path from "node:path";

class StorageError extends Error {
  constructor(status, error, message) {
    super(message);
    this.status = status;
    this.error = error;
  }
}

function send(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

export function createStorageStandin({ pool, verify }) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "storage-standin-"));
  const fileOf = (bucket, name) => {
    const p = path.resolve(dir, bucket, name);
    if (!p.startsWith(path.resolve(dir, bucket) + path.sep)) throw new StorageError(400, "InvalidKey", `Invalid key: ${name}`);
    return p;
  };

  function requireServiceRole(req) {
    const token = String(req.headers.authorization ?? "").replace(/^Bearer\s+/i, "");
    const v = token ? verify(token) : { ok: false };
    if (!v.ok) throw new StorageError(400, "InvalidJWT", "invalid signature");
    if (v.claims.role !== "service_role") throw new StorageError(403, "Unauthorized", "this test stand-in serves the service role only");
  }

  async function bucketExists(bucket) {
    const r = await pool.query("select 1 from storage.buckets where id = $1", [bucket]);
    if (!r.rowCount) throw new StorageError(404, "Bucket not found", "Bucket not found");
  }

  async function upload(req, bucket, name, body) {
    await bucketExists(bucket);
    const upsert = String(req.headers["x-upsert"] ?? "") === "true";
    const meta = { size: body.length, mimetype: req.headers["content-type"] ?? "application/octet-stream" };
    const sql = upsert
      ? `insert into storage.objects (bucket_id, name, metadata) values ($1, $2, $3)
           on conflict (bucket_id, name) do update set metadata = excluded.metadata, updated_at = now() returning id`
      : "insert into storage.objects (bucket_id, name, metadata) values ($1, $2, $3) on conflict do nothing returning id";
    const r = await pool.query(sql, [bucket, name, meta]);
    if (!r.rowCount) throw new StorageError(409, "Duplicate", "The resource already exists");
    const f = fileOf(bucket, name);
    fs.mkdirSync(path.dirname(f), { recursive: true });
    fs.writeFileSync(f, body);
    return { Key: `${bucket}/${name}`, Id: r.rows[0].id };
  }

  async function list(bucket, { prefix = "", limit = 100, offset = 0, search = "" }) {
    await bucketExists(bucket);
    const folder = String(prefix).replace(/\/+$/, "");
    const base = folder ? `${folder}/` : "";
    const r = await pool.query(
      "select id, name, created_at, updated_at, last_accessed_at, metadata from storage.objects where bucket_id = $1 and starts_with(name, $2) order by name",
      [bucket, base],
    );
    const entries = new Map();
    for (const o of r.rows) {
      const rest = o.name.slice(base.length);
      const slash = rest.indexOf("/");
      const label = slash < 0 ? rest : rest.slice(0, slash);
      if (search && !label.includes(search)) continue;
      if (slash >= 0) {
        if (!entries.has(label)) entries.set(label, { name: label, id: null, updated_at: null, created_at: null, last_accessed_at: null, metadata: null });
      } else entries.set(label, { ...o, name: label });
    }
    return [...entries.values()].sort((a, b) => a.name.localeCompare(b.name)).slice(Number(offset), Number(offset) + Number(limit));
  }

  async function remove(bucket, { prefixes }) {
    if (!Array.isArray(prefixes) || prefixes.length < 1 || prefixes.length > 1000 || prefixes.some((p) => typeof p !== "string")) {
      throw new StorageError(400, "Invalid Input", "prefixes is an array of 1 to 1000 object names");
    }
    await bucketExists(bucket);
    const r = await pool.query(
      "delete from storage.objects where bucket_id = $1 and name = any($2::text[]) returning id, bucket_id, name, metadata, created_at, updated_at",
      [bucket, prefixes],
    );
    for (const o of r.rows) fs.rmSync(fileOf(bucket, o.name), { force: true });
    return r.rows;
  }

  async function handle(req, res, body) {
    const url = new URL(req.url, "http://standin");
    const p = decodeURIComponent(url.pathname);
    try {
      requireServiceRole(req);
      const json = () => {
        try {
          return JSON.parse(body.toString("utf8") || "{}");
        } catch {
          throw new StorageError(400, "Invalid Input", "body is not JSON");
        }
      };
      let m;
      if (req.method === "POST" && (m = p.match(/^\/storage\/v1\/object\/list\/([^/]+)$/))) return send(res, 200, await list(m[1], json()));
      if (req.method === "DELETE" && (m = p.match(/^\/storage\/v1\/object\/([^/]+)$/))) return send(res, 200, await remove(m[1], json()));
      if (req.method === "POST" && (m = p.match(/^\/storage\/v1\/object\/([^/]+)\/(.+)$/))) return send(res, 200, await upload(req, m[1], m[2], body));
      if (req.method === "GET" && (m = p.match(/^\/storage\/v1\/object\/([^/]+)\/(.+)$/))) {
        const f = fileOf(m[1], m[2]);
        const r = await pool.query("select 1 from storage.objects where bucket_id = $1 and name = $2", [m[1], m[2]]);
        if (!r.rowCount || !fs.existsSync(f)) throw new StorageError(404, "not_found", "Object not found");
        res.writeHead(200, { "content-type": "application/octet-stream" });
        return res.end(fs.readFileSync(f));
      }
      throw new StorageError(404, "not_found", "Route not implemented by the Storage test stand-in");
    } catch (e) {
      if (e instanceof StorageError) return send(res, e.status, { statusCode: String(e.status), error: e.error, message: e.message });
      throw e;
    }
  }

  return {
    dir,
    handle,
    /** Names of the files on disk in `bucket` (what a row deleted in SQL would leave behind). */
    files(bucket) {
      const root = path.join(dir, bucket);
      if (!fs.existsSync(root)) return [];
      return fs.readdirSync(root, { recursive: true }).filter((f) => fs.statSync(path.join(root, f)).isFile()).map((f) => f.split(path.sep).join("/")).sort();
    },
    stop() {
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
