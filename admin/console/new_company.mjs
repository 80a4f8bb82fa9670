// New company: the provisioning form (slug suggested by the API as the name is typed), then each
// step's progress from the journal (GET /admin/v1/provisionings/:id, polled), the failure and what
// was rolled back, and once done the DNS records and the certificate's status.
import { h, fill, errorBox, badge } from "./dom.mjs";
import { api } from "./api.mjs";
import { domainsSection } from "./domains.mjs";

const POLL_MS = 500;

const STEP_NAMES = { create_tenant: "Database: the company, its subscription and owner invitation", custom_hostname: "Domain: the Cloudflare custom hostname", invite_admin: "Invitation mailed to the company's admin" };
const STEP_WORDS = { pending: "waiting", running: "running", done: "done", failed: "failed", compensating: "rolling back", compensated: "rolled back", skipped: "skipped" };

export async function newCompanyPage(main) {
  let alive = true;
  const field = (id, label, input, hint) => [h("label", { for: id }, label, hint ? h("span", { class: "hint" }, ` — ${hint}`) : null), input];
  const name = h("input", { id: "company-name", required: true, maxlength: "200", autocomplete: "organization" });
  const slug = h("input", { id: "company-slug", autocomplete: "off", spellcheck: "false" });
  const slugNote = h("p", { class: "hint", id: "slug-note", "aria-live": "polite" });
  const plan = h("select", { id: "company-plan", required: true }, h("option", { value: "" }, "Loading plans…"));
  const email = h("input", { id: "company-admin-email", type: "email", required: true, autocomplete: "off" });
  const domain = h("input", { id: "company-domain", autocomplete: "off", placeholder: "crm.example.com", spellcheck: "false" });
  const signup = h("select", { id: "company-signup" }, h("option", { value: "invite_only" }, "Invitation only"), h("option", { value: "open" }, "Open sign-up"));
  const submit = h("button", { type: "submit", id: "create-company" }, "Create company");
  const msg = h("div", { "aria-live": "polite" });
  const progress = h("section", { class: "card", id: "progress", hidden: true });
  const form = h("form", { class: "card", id: "new-company" },
    h("h1", {}, "New company"),
    ...field("company-name", "Name", name),
    ...field("company-slug", "Slug", slug, "suggested from the name; its host is <slug>.<base domain>"), slugNote,
    ...field("company-plan", "Plan", plan),
    ...field("company-admin-email", "Admin's email", email, "invited as the company's owner"),
    ...field("company-domain", "Custom domain (optional)", domain),
    ...field("company-signup", "Sign-up", signup),
    h("div", { class: "row" }, submit), msg);
  fill(main, form, progress);

  api("GET", "/admin/v1/plans").then((r) => {
    if (!alive) return;
    fill(plan, ...r.plans.map((p) => h("option", { value: p.id }, `${p.name} (${p.max_users ?? "∞"} users, ${p.max_contacts ?? "∞"} contacts)`)));
  }, (e) => alive && fill(msg, errorBox(e, "Could not load the plans")));

  // The slug: the API's suggestion for the name until the operator types their own.
  let slugEdited = false;
  let asked = 0;
  async function check() {
    const n = ++asked;
    const params = new URLSearchParams();
    if (slugEdited && slug.value.trim()) params.set("slug", slug.value.trim());
    else if (name.value.trim()) params.set("name", name.value.trim());
    else return fill(slugNote);
    try {
      const r = await api("GET", `/admin/v1/slug?${params}`);
      if (n !== asked || !alive) return;
      if (!slugEdited) slug.value = r.slug;
      fill(slugNote, !r.valid ? h("span", { class: "error" }, r.slug ? `“${r.slug}”: ${r.problem}` : "No slug can be made of this name: type one.")
        : r.taken ? h("span", { class: "error" }, `“${r.slug}” is taken.`) : `Host: ${r.host}`);
    } catch (e) {
      if (n === asked && alive) fill(slugNote, errorBox(e));
    }
  }
  let timer;
  const soon = () => { clearTimeout(timer); timer = setTimeout(check, 200); };
  name.addEventListener("input", soon);
  slug.addEventListener("input", () => { slugEdited = slug.value.trim() !== ""; soon(); });

  let key = null; // one Idempotency-Key per company: a retry of the same form asks for the same provisioning
  let lastBody = null;
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const body = { name: name.value.trim(), plan: plan.value, admin_email: email.value.trim(), signup: signup.value };
    if (slug.value.trim()) body.slug = slug.value.trim();
    if (domain.value.trim()) body.custom_domain = domain.value.trim();
    if (JSON.stringify(body) !== lastBody) key = crypto.randomUUID();
    lastBody = JSON.stringify(body);
    submit.disabled = true;
    fill(msg, h("p", { class: "state", role: "status" }, "Recording the provisioning…"));
    let r;
    try {
      r = await api("POST", "/admin/v1/tenants", { body, idempotencyKey: key });
    } catch (e) {
      submit.disabled = false;
      return fill(msg, errorBox(e, "The company was not created"));
    }
    fill(msg);
    follow(r.provisioning, r.tenant);
  });

  async function follow(journal, tenant) {
    progress.hidden = false;
    const steps = h("ol", { class: "steps", id: "steps" });
    const outcome = h("div", { id: "outcome", "aria-live": "polite" });
    const dns = h("div", { id: "dns" });
    fill(progress, h("h2", {}, `Provisioning ${tenant.name} (${tenant.slug})`), steps, outcome, dns);
    let j = journal;
    for (;;) {
      fill(steps, ...(j.steps ?? []).map((s) => h("li", { "data-step": s.name, "data-status": s.status },
        // A step still pending once the provisioning failed never ran.
        j.status === "failed" && s.status === "pending" ? badge("not run", "skipped") : badge(STEP_WORDS[s.status] ?? s.status, s.status),
        h("span", {}, STEP_NAMES[s.name] ?? s.name),
        s.error ? h("span", { class: "error mono" }, s.error) : null)));
      if (j.status === "succeeded" || j.status === "failed") break;
      await new Promise((r) => setTimeout(r, POLL_MS));
      if (!alive) return;
      try {
        j = await api("GET", `/admin/v1/provisionings/${journal.id}`);
      } catch (e) {
        fill(outcome, errorBox(e, "Lost track of the provisioning (it goes on; reload to follow it)"));
        await new Promise((r) => setTimeout(r, POLL_MS * 4));
      }
    }
    if (j.status === "failed") {
      // The failed step is compensated too (it may have acted before failing): it is the one with an error.
      const failed = j.steps.find((s) => s.status === "failed") ?? j.steps.find((s) => s.error);
      const undone = j.steps.filter((s) => s.status === "compensated").map((s) => STEP_NAMES[s.name] ?? s.name);
      fill(outcome, h("div", { class: "alert", role: "alert", id: "failed" },
        h("p", {}, `Failed at: ${STEP_NAMES[failed?.name] ?? failed?.name ?? "a step"}.`),
        h("p", { class: "mono" }, j.error ?? failed?.error ?? ""),
        h("p", { id: "rolled-back" }, undone.length ? `Rolled back: ${undone.join("; ")}. Nothing of the company is left.` : "Nothing had to be rolled back.")));
      submit.disabled = false;
      return;
    }
    fill(outcome, h("div", { class: "success", id: "succeeded" }, "Every step is done. ", h("a", { href: `#/c/${j.tenant_id}`, id: "open-company" }, `Open ${tenant.name}`)));
    try {
      const t = await api("GET", `/admin/v1/tenants/${j.tenant_id}`);
      if (alive) domainsSection(dns, t);
    } catch (e) {
      if (alive) fill(dns, errorBox(e, "Could not read the company's domain"));
    }
  }
  name.focus();
  return () => { alive = false; clearTimeout(timer); };
}
