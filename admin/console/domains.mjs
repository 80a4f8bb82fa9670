// A tenant's hostnames as the show route answers them (refreshed from Cloudflare on every read): the
// DNS records the customer must set, copyable, and the certificate's status — which waits on the
// customer's DNS, so it says so instead of spinning.
import { h, fill, badge, copyButton, errorBox } from "./dom.mjs";
import { api } from "./api.mjs";

const meta = (name) => document.querySelector(`meta[name="${name}"]`)?.content ?? "";

const WAITING = new Set(["initializing", "pending_validation", "pending_issuance", "pending_deployment"]);

export function certificateSentence(d) {
  const s = d.ssl_status;
  if (s === "active") return "The certificate is active: the domain is served over HTTPS.";
  if (s && s.endsWith("_timed_out")) return `Cloudflare gave up (${s}): check the customer's DNS records, then ask again.`;
  if (!s || WAITING.has(s)) {
    return `Waiting on the customer's DNS (${s ?? "not asked yet"}): Cloudflare issues the certificate once the CNAME below resolves. Nothing to do here meanwhile; check again later.`;
  }
  return `Certificate status: ${s}.`;
}

function record(type, name, value) {
  return h("tr", {}, h("td", {}, type), h("td", { class: "mono" }, name), h("td", { class: "mono" }, value),
    h("td", {}, copyButton(value, "Copy value")));
}

function dnsTable(d) {
  const target = meta("console-cname-target");
  const rows = [record("CNAME", d.hostname, target || "your fallback origin (set CNAME_TARGET on the admin Worker)")];
  for (const v of d.verification ?? []) {
    if (v.purpose === "ownership" && v.name) rows.push(record(String(v.type ?? "TXT").toUpperCase(), v.name, v.value ?? ""));
    if (v.purpose === "certificate" && v.txt_name) rows.push(record("TXT", v.txt_name, v.txt_value ?? ""));
    if (v.purpose === "certificate" && v.http_url) rows.push(record("HTTP", v.http_url, v.http_body ?? ""));
  }
  return h("div", { class: "table-wrap" }, h("table", { class: "dns" },
    h("thead", {}, h("tr", {}, ...["Type", "Name", "Value", ""].map((c) => h("th", { scope: "col" }, c)))),
    h("tbody", {}, rows)));
}

/** Renders `tenant.hostnames` into `el`; "Check again" re-reads the tenant (a refresh at Cloudflare). */
export function domainsSection(el, tenant, onRefreshed) {
  const list = tenant.hostnames ?? [];
  const msg = h("div", { "aria-live": "polite" });
  const again = h("button", { type: "button", class: "secondary", id: "check-again" }, "Check again");
  again.addEventListener("click", async () => {
    again.disabled = true;
    fill(msg, h("p", { class: "state", role: "status" }, "Asking Cloudflare…"));
    try {
      const t = await api("GET", `/admin/v1/tenants/${tenant.id}`);
      onRefreshed?.(t);
      domainsSection(el, t, onRefreshed);
    } catch (e) {
      again.disabled = false;
      fill(msg, errorBox(e, "Could not check"));
    }
  });
  const parts = list.length === 0
    ? [h("p", { class: "state", id: "no-custom-domain" }, "No custom domain: the company is served on its slug host only.")]
    : list.map((d) => h("div", { class: "domain", "data-hostname": d.hostname },
      h("p", {}, h("strong", { class: "mono" }, d.hostname), " ", badge(d.status ?? "pending", d.status), " ",
        badge(`certificate ${d.ssl_status ?? "not asked"}`, d.ssl_status === "active" ? "active" : "waiting")),
      h("p", { class: "cert-status" }, certificateSentence(d)),
      h("p", {}, "DNS records the customer must set:"), dnsTable(d)));
  fill(el, h("h2", {}, "Domain and certificate"), ...parts, list.length ? h("div", { class: "row" }, again) : null, msg);
}
