// Signing in to the console: supabase-js against this very origin (the admin Worker passes
// /auth/v1/* through to the project's Auth), password first, then the TOTP second factor — enrolled
// here the first time — until the session is aal2. Who is an operator is the admin API's decision
// (platform_role admin + aal2): the page asks it, and shows its refusal.
import { createClient } from "@supabase/supabase-js";
import { h, fill, errorBox } from "./dom.mjs";

const meta = (name) => document.querySelector(`meta[name="${name}"]`)?.content ?? "";

let client = null;

export function supabase() {
  if (client) return client;
  const key = meta("console-anon-key");
  if (!key) throw new Error("The admin Worker has no SUPABASE_ANON_KEY (the project's publishable key): the console cannot sign in.");
  client = createClient(location.origin, key, {
    auth: { persistSession: true, autoRefreshToken: true, detectSessionInUrl: false, storageKey: "operator-console-auth" },
  });
  return client;
}

export async function accessToken() {
  const { data } = await supabase().auth.getSession();
  return data.session?.access_token ?? null;
}

export async function currentSession() {
  const { data } = await supabase().auth.getSession();
  return data.session ?? null;
}

export async function signOut() {
  await supabase().auth.signOut({ scope: "local" });
}

/**
 * Answers once the session is aal2 (rendering the sign-in and second-factor forms into `main`
 * meanwhile) — or at once for a user who claims no platform role: asking them for a second factor
 * would be pointless, and the admin API's refusal is what they are shown.
 */
export async function ensureSignedIn(main) {
  for (;;) {
    const session = await currentSession();
    if (!session) {
      await passwordForm(main);
      continue;
    }
    if (session.user?.app_metadata?.platform_role !== "admin") return session;
    const { data: aal, error } = await supabase().auth.mfa.getAuthenticatorAssuranceLevel();
    if (error) {
      await signOut();
      continue;
    }
    if (aal.currentLevel === "aal2") return session;
    if (aal.nextLevel === "aal2") await challengeForm(main);
    else await enrollForm(main);
  }
}

function passwordForm(main) {
  return new Promise((resolve) => {
    const msg = h("div", { "aria-live": "polite" });
    const email = h("input", { id: "signin-email", type: "email", autocomplete: "username", required: true });
    const password = h("input", { id: "signin-password", type: "password", autocomplete: "current-password", required: true });
    const submit = h("button", { type: "submit", id: "signin-submit" }, "Sign in");
    const form = h("form", { class: "card", id: "signin" },
      h("h1", {}, "Sign in"),
      h("p", { class: "hint" }, "Platform administrators only; a second factor (TOTP) follows."),
      h("label", { for: "signin-email" }, "Email"), email,
      h("label", { for: "signin-password" }, "Password"), password,
      h("div", { class: "row" }, submit), msg);
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      submit.disabled = true;
      fill(msg, h("p", { class: "state", role: "status" }, "Signing in…"));
      const { error } = await supabase().auth.signInWithPassword({ email: email.value.trim(), password: password.value });
      submit.disabled = false;
      if (error) fill(msg, errorBox(error, "Sign-in failed"));
      else resolve();
    });
    fill(main, form);
    email.focus();
  });
}

function codeField() {
  return h("input", { id: "mfa-code", inputmode: "numeric", autocomplete: "one-time-code", pattern: "[0-9]{6}", maxlength: "6", required: true });
}

async function verify(factorId, code, msg) {
  const { error } = await supabase().auth.mfa.challengeAndVerify({ factorId, code });
  if (error) {
    fill(msg, errorBox(error, "The code was not accepted"));
    return false;
  }
  return true;
}

function challengeForm(main) {
  return new Promise((resolve) => {
    const msg = h("div", { "aria-live": "polite" });
    const code = codeField();
    const form = h("form", { class: "card", id: "mfa-challenge" },
      h("h1", {}, "Second factor"),
      h("p", {}, "This console needs multi-factor sign-in (aal2). Enter the 6-digit code from your authenticator app."),
      h("label", { for: "mfa-code" }, "Code"), code,
      h("div", { class: "row" }, h("button", { type: "submit", id: "mfa-submit" }, "Verify"),
        h("button", { type: "button", class: "secondary", onclick: async () => { await signOut(); resolve(); } }, "Sign out")),
      msg);
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const { data, error } = await supabase().auth.mfa.listFactors();
      if (error) return fill(msg, errorBox(error));
      const factor = data.totp[0];
      if (!factor) return resolve();
      if (await verify(factor.id, code.value.trim(), msg)) resolve();
    });
    fill(main, form);
    code.focus();
  });
}

function enrollForm(main) {
  return new Promise((resolve) => {
    const msg = h("div", { "aria-live": "polite" });
    const area = h("div", {}, h("p", { class: "state", role: "status" }, "Preparing a new authenticator…"));
    fill(main, h("section", { class: "card", id: "mfa-enroll" },
      h("h1", {}, "Set up your second factor"),
      h("p", {}, "Operators sign in with a TOTP authenticator. Add this key to your authenticator app, then enter the code it shows."),
      area, msg));
    (async () => {
      // An unverified factor left by an abandoned enrolment is replaced.
      const { data: listed } = await supabase().auth.mfa.listFactors();
      for (const f of listed?.all ?? []) if (f.status !== "verified") await supabase().auth.mfa.unenroll({ factorId: f.id });
      const { data, error } = await supabase().auth.mfa.enroll({ factorType: "totp", friendlyName: `console ${new Date().toISOString().slice(0, 10)}`, issuer: "Operator console" });
      if (error) return fill(area, errorBox(error, "Could not start the enrolment"));
      const code = codeField();
      const form = h("form", {},
        h("p", {}, "Key: ", h("code", { id: "mfa-secret" }, data.totp.secret)),
        h("p", { class: "hint" }, "Or open: ", h("code", { id: "mfa-uri" }, data.totp.uri)),
        h("label", { for: "mfa-code" }, "Code from the app"), code,
        h("div", { class: "row" }, h("button", { type: "submit", id: "mfa-submit" }, "Verify and continue")));
      form.addEventListener("submit", async (ev) => {
        ev.preventDefault();
        if (await verify(data.id, code.value.trim(), msg)) resolve();
      });
      fill(area, form);
      code.focus();
    })();
  });
}
