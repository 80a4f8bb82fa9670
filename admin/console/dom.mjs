// A small element builder: h("button", { type: "button", onclick }, "Save"). Text children are text
// nodes (never parsed as HTML), so nothing from the API can inject markup.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else if (v === true) el.setAttribute(k, "");
    else el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** Replaces the content of `el`. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

export const loading = (what) => h("p", { class: "state", role: "status" }, `Loading ${what}…`);

/** An API (or Auth) failure as the operator reads it: its PostgREST `message`, then details and hint. */
export function errorBox(e, what) {
  const parts = [e?.message ?? String(e)];
  if (e?.details) parts.push(`(${e.details})`);
  return h("div", { class: "alert", role: "alert" }, what ? `${what}: ` : "", parts.join(" "), e?.hint ? h("div", { class: "hint" }, e.hint) : null);
}

export function badge(text, kind = text) {
  return h("span", { class: `badge ${String(kind ?? "").replace(/[^a-z_]/g, "")}` }, text ?? "—");
}

export function when(iso) {
  if (!iso) return "—";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : d.toISOString().replace("T", " ").slice(0, 16) + " UTC";
}

/** A button that copies `text` to the clipboard and says so. */
export function copyButton(text, label = "Copy") {
  const b = h("button", { type: "button", class: "secondary", "aria-label": `${label}: ${text}` }, label);
  b.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(text);
      b.textContent = "Copied";
    } catch {
      b.textContent = "Select and copy";
    }
    setTimeout(() => (b.textContent = label), 2000);
  });
  return b;
}
