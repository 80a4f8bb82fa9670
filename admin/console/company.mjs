// A company's page: profile and branding (with a preview of its theme), members and pending
// invitations, domain and certificate ("check again"), traffic, suspend / resume, delete then purge
// (each confirmed by typing the slug), and the audit trail of lifecycle actions.
import { h, fill, errorBox, loading, badge, when } from "./dom.mjs";
import { api, ApiError } from "./api.mjs";
import { domainsSection } from "./domains.mjs";
import { trafficCharts } from "./chart.mjs";

const HOUR = 3600_000;

function card(id, title) {
  const body = h("div", {}, loading(title.toLowerCase()));
  return { el: h("section", { class: "card", id }, h("h2", {}, title), body), body };
}

function profile(el, t) {
  const b = t.branding ?? {};
  const bar = h("div", { class: "bar" }, b.logo_url ? h("img", { src: b.logo_url, alt: "" }) : null, b.app_name ?? t.name);
  const preview = h("div", { class: "preview", id: "theme-preview", "aria-label": "Preview of the tenant's theme" }, bar,
    h("div", { class: "body" }, h("p", {}, `Welcome to ${b.app_name ?? t.name}.`), h("button", { type: "button", class: "cta", tabindex: "-1" }, "Sign in")));
  // CSSOM, not a style attribute: the console's CSP has no 'unsafe-inline'.
  if (typeof b.primary_color === "string" && /^#[0-9a-fA-F]{3,8}$/.test(b.primary_color)) preview.style.setProperty("--brand", b.primary_color);
  const kv = (k, v) => [h("dt", {}, k), h("dd", {}, v)];
  fill(el, h("div", { class: "grid" },
    h("dl", { class: "kv" }, ...kv("Slug", h("span", { class: "mono" }, t.slug)), ...kv("Status", badge(t.status)),
      ...kv("Plan", `${t.plan?.name ?? "—"} (${t.subscription_status ?? "no subscription"})`),
      ...kv("Users", `${t.usage?.users?.used ?? 0} / ${t.usage?.users?.limit ?? "∞"}`),
      ...kv("Contacts", `${t.usage?.contacts?.used ?? 0} / ${t.usage?.contacts?.limit ?? "∞"}`),
      ...kv("Sign-up", t.signup), ...kv("Created", when(t.created_at)),
      ...(t.purge_after ? kv("Purge due", when(t.purge_after)) : []),
      ...kv("Branding", h("code", {}, JSON.stringify(b)))),
    preview));
}

async function members(el, id) {
  let r;
  try {
    r = await api("GET", `/admin/v1/tenants/${id}/members`);
  } catch (e) {
    return fill(el, errorBox(e, "Could not read the members"));
  }
  const table = (rows, cols, empty) => rows.length === 0 ? h("p", { class: "state" }, empty)
    : h("div", { class: "table-wrap" }, h("table", {}, h("thead", {}, h("tr", {}, ...cols.map(([c]) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, rows.map((m) => h("tr", {}, ...cols.map(([, f]) => h("td", {}, f(m))))))));
  fill(el, h("h3", {}, "Members"), table(r.members, [["Email", (m) => m.email ?? m.user_id], ["Role", (m) => m.role], ["Since", (m) => when(m.created_at)]], "No members yet."),
    h("h3", {}, "Pending invitations"), h("div", { id: "invitations" }, table(r.invitations, [["Email", (m) => m.email], ["Role", (m) => m.role], ["Sent", (m) => when(m.created_at)], ["Expires", (m) => when(m.expires_at)]], "No pending invitations.")));
}

async function audit(el, id) {
  let r;
  try {
    r = await api("GET", `/admin/v1/tenants/${id}/audit?limit=50`);
  } catch (e) {
    return fill(el, errorBox(e, "Could not read the audit trail"));
  }
  if (!r.entries.length) return fill(el, h("p", { class: "state" }, "No lifecycle actions recorded."));
  fill(el, h("ol", { class: "steps", id: "audit-list" }, r.entries.map((e) => h("li", { "data-event": e.event },
    badge(e.event, e.status), h("span", {}, when(e.at)), h("span", { class: "hint" }, e.actor_email ?? e.actor_id ?? "the system")))));
}

async function traffic(el, id) {
  const until = new Date();
  const since = new Date(until.getTime() - 24 * HOUR);
  const q = new URLSearchParams({ since: since.toISOString(), until: until.toISOString(), step: "3600" });
  let m;
  try {
    m = await api("GET", `/admin/v1/tenants/${id}/metrics?${q}`);
  } catch (e) {
    // A deployment without the metrics route is a deployment without metrics.
    if (e instanceof ApiError && e.status === 404 && e.code === "not_found") m = { enabled: false };
    else return fill(el, errorBox(e, "Could not read the traffic"));
  }
  const charts = trafficCharts(m);
  if (!charts) return fill(el, h("p", { class: "state", id: "metrics-off" }, "Metrics are off: no Analytics Engine binding is configured for the router."));
  const t = m.totals ?? {};
  const figs = charts.map((c) => {
    const fig = h("figure", { class: "chart" }, h("figcaption", {}, c.title));
    fig.insertAdjacentHTML("beforeend", c.html); // built by chart.mjs with every value escaped
    return fig;
  });
  fill(el, h("p", { id: "metrics-totals" }, `Last 24 h: ${t.requests ?? 0} requests, ${((t.error_rate ?? 0) * 100).toFixed(2)}% errors, p95 ${t.p95_ms ?? "—"} ms.`),
    h("div", { class: "charts" }, figs));
}

function confirmForm(id, t, { label, verb, danger, explain, run }) {
  const input = h("input", { id: `${id}-confirm`, autocomplete: "off", spellcheck: "false" });
  const go = h("button", { type: "submit", class: danger ? "danger" : "", id: `${id}-submit`, disabled: true }, verb);
  input.addEventListener("input", () => (go.disabled = input.value.trim() !== t.slug));
  const form = h("form", { class: "confirm", id },
    h("p", {}, explain), h("label", { for: `${id}-confirm` }, `${label}: type `, h("code", {}, t.slug), " to confirm"), input,
    h("div", { class: "row" }, go));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    if (input.value.trim() === t.slug) run(go);
  });
  return form;
}

function actions(el, t, reload) {
  const msg = h("div", { id: "action-message", "aria-live": "polite" });
  const act = async (button, method, path, body, done) => {
    button.disabled = true;
    fill(msg, h("p", { class: "state", role: "status" }, "Working…"));
    try {
      const r = await api(method, path, { body });
      fill(msg, h("div", { class: "success", role: "status" }, done(r)));
      reload();
    } catch (e) {
      button.disabled = false;
      fill(msg, errorBox(e, "Refused"));
    }
  };
  const parts = [];
  if (t.status === "active") {
    const b = h("button", { type: "button", class: "secondary", id: "suspend" }, "Suspend");
    b.addEventListener("click", () => act(b, "POST", `/admin/v1/tenants/${t.id}/suspend`, undefined, () => "Suspended: its members are refused at once; routers follow within their directory TTL."));
    parts.push(b);
  }
  if (t.status === "suspended") {
    const b = h("button", { type: "button", id: "resume" }, "Resume");
    b.addEventListener("click", () => act(b, "POST", `/admin/v1/tenants/${t.id}/resume`, undefined, () => "Resumed."));
    parts.push(b);
  }
  if (t.status !== "deleted") {
    parts.push(confirmForm("delete-form", t, { label: "Delete", verb: "Delete company", danger: true,
      explain: "A delete is soft: the company stops resolving at once and its data is purged after the retention hold (30 days).",
      run: (b) => act(b, "DELETE", `/admin/v1/tenants/${t.id}`, undefined, (r) => `Deleted. Purge due ${when(r?.purge_after)}.`) }));
  } else {
    const early = t.purge_after && new Date(t.purge_after) > new Date();
    parts.push(confirmForm("purge-form", t, { label: "Purge", verb: "Purge for good", danger: true,
      explain: early ? `Purging removes every row, file, custom hostname and orphaned user of the company. The retention hold runs until ${when(t.purge_after)}: purging now overrides it.`
        : "Purging removes every row, file, custom hostname and orphaned user of the company.",
      run: (b) => act(b, "POST", `/admin/v1/tenants/${t.id}/purge`, early ? { override: true } : {}, (r) => `Purged: ${Object.values(r.tables ?? {}).reduce((a, n) => a + n, 0)} rows, ${r.objects} objects, ${r.users?.length ?? 0} users.`) }));
  }
  fill(el, h("div", { class: "row" }, parts.filter((p) => p.tagName === "BUTTON")), ...parts.filter((p) => p.tagName !== "BUTTON"), msg);
}

export async function companyPage(main, id) {
  let alive = true;
  const head = h("div", {}, loading("the company"));
  fill(main, head);
  async function load() {
    let t;
    try {
      t = await api("GET", `/admin/v1/tenants/${id}`);
    } catch (e) {
      if (!alive) return;
      if (e.status === 404) {
        fill(main, h("h1", {}, "Company not found"), h("p", { class: "state", id: "company-gone" }, "No company has this id (a purged company is gone). "), h("a", { href: "#/" }, "Back to the companies"));
        return;
      }
      fill(head, errorBox(e, "Could not read the company"));
      return;
    }
    if (!alive) return;
    const sections = {
      profile: card("profile", "Profile and branding"), actions: card("lifecycle", "Suspend, resume, delete"),
      domains: card("domains", "Domain and certificate"), members: card("members", "Members and invitations"),
      traffic: card("traffic", "Traffic (last 24 hours)"), audit: card("audit", "Audit trail"),
    };
    fill(main, h("h1", { id: "company-title" }, t.name, " ", badge(t.status)), ...Object.values(sections).map((s) => s.el));
    profile(sections.profile.body, t);
    actions(sections.actions.body, t, load);
    domainsSection(sections.domains.el, t);
    members(sections.members.body, id);
    traffic(sections.traffic.body, id);
    audit(sections.audit.body, id);
  }
  await load();
  return () => (alive = false);
}
