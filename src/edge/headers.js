// The header operations the edge does in JS itself (src/edge/headers.rs, which imports this): a
// header list crosses the wasm boundary as one string, one line per name and per value, where a
// call per header or a JSON round trip cost more. Fetch forbids "\n" in header names and values,
// so the lines need no escaping; headers.rs checks what it sends.

/** Every header of `headers`, in order, as `name\nvalue\n` lines. */
export function headerLines(headers) {
  let s = "";
  for (const [k, v] of headers) s += k + "\n" + v + "\n";
  return s;
}

/**
 * A copy of `headers` with `edits` applied: lines in pairs, an operation and name (`-name`
 * removes it, `=name` sets it, `+name` appends) then the value. A refused edit throws the string
 * `header <name> refused: <the runtime's error as JSON>`.
 */
export function editedHeaders(headers, edits) {
  let out;
  try {
    out = new Headers(headers);
  } catch (e) {
    throw refused("(copy)", e);
  }
  const lines = edits.split("\n");
  for (let i = 0; i + 1 < lines.length; i += 2) {
    const op = lines[i][0];
    const name = lines[i].slice(1);
    try {
      if (op === "-") out.delete(name);
      else if (op === "=") out.set(name, lines[i + 1]);
      else out.append(name, lines[i + 1]);
    } catch (e) {
      throw refused(name, e);
    }
  }
  return out;
}

function refused(name, e) {
  return `header ${name} refused: ${typeof e === "string" ? e : (JSON.stringify(e) ?? "")}`;
}
