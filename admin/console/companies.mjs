// Companies: a searchable, paginated table (GET /admin/v1/tenants?include=usage), 25 a page, pages
// by the API's slug cursor.
import { h, fill, errorBox, loading, badge, when } from "./dom.mjs";
import { api, ApiError } from "./api.mjs";

const PAGE = 25;
const HOUR = 3600_000;

/** The busiest companies of the last hour (GET /admin/v1/metrics/top), or "metrics are off". */
async function busiest(el) {
  const until = new Date();
  const q = new URLSearchParams({ since: new Date(until.getTime() - HOUR).toISOString(), until: until.toISOString(), limit: "5" });
  let r;
  try {
    r = await api("GET", `/admin/v1/metrics/top?${q}`);
  } catch (e) {
    // A deployment without the metrics route is a deployment without metrics.
    if (e instanceof ApiError && e.status === 404 && e.code === "not_found") r = { enabled: false };
    else return fill(el, h("h2", {}, "Busiest in the last hour"), errorBox(e, "Could not read the metrics"));
  }
  if (r.enabled !== true) {
    return fill(el, h("h2", {}, "Busiest in the last hour"), h("p", { class: "state", id: "top-metrics-off" }, "Metrics are off: no Analytics Engine binding is configured for the router."));
  }
  const rows = (r.tenants ?? []).map((t) => h("tr", {},
    h("td", {}, t.tenant_id ? h("a", { href: `#/c/${t.tenant_id}` }, t.name ?? t.slug) : t.slug),
    h("td", {}, String(t.requests ?? 0)), h("td", {}, `${((t.error_rate ?? 0) * 100).toFixed(2)}%`), h("td", {}, t.p95_ms == null ? "—" : `${Math.round(t.p95_ms)} ms`)));
  fill(el, h("h2", {}, "Busiest in the last hour"), rows.length === 0 ? h("p", { class: "state" }, "No traffic in the last hour.")
    : h("div", { class: "table-wrap" }, h("table", { id: "top-table" },
      h("thead", {}, h("tr", {}, ...["Company", "Requests", "Errors", "p95"].map((c) => h("th", { scope: "col" }, c)))), h("tbody", {}, rows))));
}

function usage(u) {
  if (!u) return "—";
  return `${u.used} / ${u.limit ?? "∞"}`;
}

function domainCell(t) {
  const d = (t.domains ?? []).find((x) => x.hostname === t.custom_domain) ?? (t.domains ?? [])[0];
  if (!d) return h("span", { class: "hint" }, "slug host only");
  return [h("div", { class: "mono" }, d.hostname), badge(d.status ?? "pending", d.status), " ", badge(`cert ${d.ssl_status ?? "not asked"}`, d.ssl_status === "active" ? "active" : "pending")];
}

export async function companiesPage(main) {
  const q = h("input", { id: "search", type: "search", placeholder: "Name contains…", autocomplete: "off" });
  const status = h("select", { id: "status-filter" },
    h("option", { value: "" }, "Any status"), h("option", { value: "active" }, "Active"),
    h("option", { value: "suspended" }, "Suspended"), h("option", { value: "deleted" }, "Deleted"));
  const body = h("div", { id: "companies" });
  const prev = h("button", { type: "button", class: "secondary", id: "prev-page" }, "Previous page");
  const next = h("button", { type: "button", class: "secondary", id: "next-page" }, "Next page");
  const form = h("form", { class: "row", role: "search" },
    h("div", {}, h("label", { for: "search" }, "Search"), q),
    h("div", {}, h("label", { for: "status-filter" }, "Status"), status),
    h("button", { type: "submit" }, "Search"));
  const top = h("section", { class: "card", id: "busiest" }, loading("the busiest companies"));
  fill(main, h("h1", {}, "Companies"), form, body, h("nav", { class: "pager", "aria-label": "Pages" }, prev, next), top);
  busiest(top);

  const cursors = [null]; // the cursor of each page shown so far
  let page = 0;
  let nextCursor = null;
  let alive = true;
  async function load() {
    fill(body, loading("companies"));
    prev.disabled = next.disabled = true;
    const params = new URLSearchParams({ include: "usage", limit: String(PAGE) });
    if (q.value.trim()) params.set("q", q.value.trim());
    if (status.value) params.set("status", status.value);
    if (cursors[page]) params.set("cursor", cursors[page]);
    let r;
    try {
      r = await api("GET", `/admin/v1/tenants?${params}`);
    } catch (e) {
      if (alive) fill(body, errorBox(e, "Could not list companies"));
      return;
    }
    if (!alive) return;
    nextCursor = r.next_cursor ?? null;
    prev.disabled = page === 0;
    next.disabled = !nextCursor;
    if (!r.tenants.length) {
      const filtered = q.value.trim() || status.value;
      fill(body, h("p", { class: "state", id: "companies-empty" }, filtered ? "No company matches." : "No companies yet. ", filtered ? null : h("a", { href: "#/new" }, "Create the first one.")));
      return;
    }
    const rows = r.tenants.map((t) => h("tr", { "data-slug": t.slug },
      h("td", {}, h("a", { href: `#/c/${t.id}` }, t.name)),
      h("td", {}, h("div", { class: "mono" }, t.slug), t.custom_domain ? h("div", { class: "mono hint" }, t.custom_domain) : null),
      h("td", {}, badge(t.status)),
      h("td", {}, t.plan?.name ?? t.plan?.id ?? "—"),
      h("td", {}, usage(t.usage?.users)),
      h("td", {}, usage(t.usage?.contacts)),
      h("td", {}, domainCell(t)),
      h("td", {}, when(t.created_at)),
      h("td", {}, when(t.last_activity))));
    fill(body, h("div", { class: "table-wrap" }, h("table", {},
      h("caption", { class: "hint" }, `Page ${page + 1}: ${r.tenants.length} companies`),
      h("thead", {}, h("tr", {}, ...["Name", "Slug / domain", "Status", "Plan", "Users", "Contacts", "Domain & certificate", "Created", "Last activity"].map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, rows))));
  }
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    cursors.length = 1;
    page = 0;
    load();
  });
  status.addEventListener("change", () => form.requestSubmit());
  next.addEventListener("click", () => {
    if (!nextCursor) return;
    cursors[page + 1] = nextCursor;
    page += 1;
    load();
  });
  prev.addEventListener("click", () => {
    if (page === 0) return;
    page -= 1;
    load();
  });
  load();
  return () => (alive = false);
}
