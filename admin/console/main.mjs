// The operator console (issue 18): hash routes over one page — #/ companies, #/new the provisioning
// form, #/c/<id> a company. Signed in with MFA first (auth.mjs); the admin API decides who is an
// operator, and its refusal is shown as it says it.
import { h, fill, errorBox, loading } from "./dom.mjs";
import { ensureSignedIn, signOut, currentSession } from "./auth.mjs";
import { api } from "./api.mjs";
import { companiesPage } from "./companies.mjs";
import { newCompanyPage } from "./new_company.mjs";
import { companyPage } from "./company.mjs";

const main = document.getElementById("main");
const nav = document.getElementById("nav");
const who = document.getElementById("who");
let stopPage = null;

function showWho(session) {
  fill(who, session ? [h("span", { id: "who-email" }, session.user?.email ?? ""),
    h("button", { type: "button", class: "secondary", id: "sign-out", onclick: async () => { await signOut(); location.hash = "#/"; start(); } }, "Sign out")] : []);
}

async function route() {
  if (stopPage) stopPage();
  stopPage = null;
  const hash = location.hash.replace(/^#/, "") || "/";
  const m = hash.match(/^\/c\/([0-9a-f-]{36})$/);
  for (const a of nav.querySelectorAll("a")) a.toggleAttribute("aria-current", a.getAttribute("href") === `#${hash}`);
  let page;
  if (hash === "/new") page = newCompanyPage;
  else if (m) page = (el) => companyPage(el, m[1]);
  else page = companiesPage;
  fill(main);
  stopPage = (await page(main)) ?? null;
  main.focus({ preventScroll: true });
}

async function start() {
  nav.hidden = true;
  try {
    const session = await ensureSignedIn(main);
    showWho(session);
    fill(main, loading("your operator access"));
    // The admin API is the judge of who operates the platform (platform_role admin + aal2).
    try {
      await api("GET", "/admin/v1/tenants?limit=1");
    } catch (e) {
      fill(main, h("section", { class: "card", id: "refused" },
        h("h1", {}, "Not an operator"),
        h("p", {}, `Signed in as ${session.user?.email ?? "this user"}, but the admin API refuses this account.`),
        errorBox(e, `The admin API answered ${e.status}`),
        h("p", { class: "hint" }, "Operators are users whose app_metadata.platform_role is \"admin\", signed in with a second factor.")));
      return;
    }
    nav.hidden = false;
    await route();
  } catch (e) {
    fill(main, errorBox(e, "The console could not start"));
  }
}

window.addEventListener("hashchange", async () => {
  if (nav.hidden) return;
  if (!(await currentSession())) return start();
  route();
});
start();
