// How Supabase Auth (GoTrue, Go) reads a request the router forwarded, for the security suites.
// (Not a test file.) Each function follows the Go source it names, so a test can ask "what would
// GoTrue see?" of what the recording upstream received:
//   - Go's url.ParseQuery (net/url): pairs split on '&', a key holding ';' is an error and skipped,
//     '+' is a space, a bad %-escape is an error and that pair is skipped; any error makes
//     `r.ParseForm()` fail, and GoTrue's getRedirectTo then ignores the whole form.
//   - GoTrue internal/utilities/request.go getRedirectTo/GetReferrer: the `redirect_to` header, then
//     r.Form (url-encoded body values before query values), then Referer.
//   - Go's encoding/json: object keys match a struct field case-insensitively with Unicode simple
//     folding (K/k/U+212A Kelvin sign, S/s/U+017F long s), and the last match wins.

/** Go's url.QueryUnescape; null on error. */
export function goQueryUnescape(s) {
  const bytes = [];
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === "%") {
      const h = s.slice(i + 1, i + 3);
      if (!/^[0-9a-fA-F]{2}$/.test(h)) return null;
      bytes.push(parseInt(h, 16));
      i += 2;
    } else if (c === "+") {
      bytes.push(0x20);
    } else {
      for (const b of Buffer.from(c, "utf8")) bytes.push(b);
    }
  }
  return Buffer.from(bytes).toString("latin1");
}

/** Go's url.ParseQuery: { pairs: [[key, value]...], error: bool }. Keys and values as byte strings. */
export function goParseQuery(raw) {
  const pairs = [];
  let error = false;
  for (const part of raw.split("&")) {
    if (part === "") continue;
    if (part.includes(";")) {
      error = true;
      continue;
    }
    const eq = part.indexOf("=");
    const k = goQueryUnescape(eq < 0 ? part : part.slice(0, eq));
    const v = goQueryUnescape(eq < 0 ? "" : part.slice(eq + 1));
    if (k === null || v === null) {
      error = true;
      continue;
    }
    pairs.push([k, v]);
  }
  return { pairs, error };
}

/** Go's mime.ParseMediaType, as far as "is this an url-encoded form" goes. */
export function isFormContentType(ct) {
  return (ct ?? "").split(";")[0].trim().toLowerCase() === "application/x-www-form-urlencoded";
}

/** encoding/json's key folding (appendFoldedName): ASCII upper case, and the two non-ASCII runes folding to ASCII. */
export function goFold(key) {
  let out = "";
  for (const ch of key) {
    if (ch === "\u212a") out += "K";
    else if (ch === "\u017f") out += "S";
    else if (ch.length === 1 && ch.charCodeAt(0) < 0x80) out += ch.toUpperCase();
    else out += ch;
  }
  return out;
}

/** Every top-level key of a JSON object text, in order, duplicates kept (JSON.parse would drop them). */
export function jsonKeys(text) {
  const keys = [];
  let depth = 0;
  let i = 0;
  const s = text;
  while (i < s.length) {
    const c = s[i];
    if (c === '"') {
      let j = i + 1;
      while (j < s.length && s[j] !== '"') j += s[j] === "\\" ? 2 : 1;
      const str = JSON.parse(s.slice(i, j + 1));
      i = j + 1;
      while (i < s.length && /\s/.test(s[i])) i++;
      if (depth === 1 && s[i] === ":") keys.push(str);
      continue;
    }
    if (c === "{" || c === "[") depth++;
    if (c === "}" || c === "]") depth--;
    i++;
  }
  return keys;
}

/** The value of `field` as encoding/json decodes it into a struct: the last key folding to it. */
export function goJsonField(text, field) {
  let obj;
  try {
    obj = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (obj === null || typeof obj !== "object" || Array.isArray(obj)) return undefined;
  // JSON.parse keeps the last of exact duplicates, which is also what Go keeps for them.
  let found;
  for (const k of jsonKeys(text)) if (goFold(k) === goFold(field)) found = obj[k];
  return found;
}

/** Every redirect target any of GoTrue's readers could take from recorded request `rec`. */
export function redirectCarriers(rec, { json = false } = {}) {
  const out = [];
  if (rec.headers["redirect_to"] !== undefined) out.push(["header", rec.headers["redirect_to"]]);
  const body = rec.body.toString("latin1");
  if (["POST", "PUT", "PATCH"].includes(rec.method) && isFormContentType(rec.headers["content-type"])) {
    for (const [k, v] of goParseQuery(body).pairs) if (k === "redirect_to") out.push(["form body", v]);
  }
  const rawQuery = rec.url.includes("?") ? rec.url.slice(rec.url.indexOf("?") + 1) : "";
  for (const [k, v] of goParseQuery(rawQuery).pairs) if (k === "redirect_to") out.push(["query", v]);
  if (json) {
    const v = goJsonField(rec.body.toString("utf8"), "redirect_to");
    if (typeof v === "string" && v !== "") out.push(["json body", v]);
  }
  if (rec.headers.referer !== undefined) out.push(["referer", rec.headers.referer]);
  return out;
}
