// The demo front end's logic. The Supabase URL is the page's own origin: the router in front of it
// is the API, on every tenant host. Sessions live in this origin's localStorage only (issue 17 item 6).
(async () => {
  const $ = (id) => document.getElementById(id);
  const say = (text, error = false) => {
    $("message").textContent = text;
    $("message").className = error ? "error" : "";
  };
  const here = location.origin + "/";
  const tenant = await fetch("/__router/tenant").then((r) => r.json());
  document.title = tenant.name;
  $("tenant-name").textContent = tenant.name;
  if (tenant.branding?.primary_color) document.documentElement.style.setProperty("--brand", tenant.branding.primary_color);
  if (tenant.branding?.logo_url) Object.assign($("logo"), { src: tenant.branding.logo_url, hidden: false });

  const recovering = location.hash.includes("type=recovery");
  const config = window.DEMO_CONFIG;
  // Back from an OAuth provider (through the signed return): `?code=` for the PKCE exchange below.
  const oauthCode = new URLSearchParams(location.search).get("code");
  // Implicit flow: the confirm route hands the session over in the fragment, which this reads.
  const sb = supabase.createClient(location.origin, config.anonKey, {
    auth: { flowType: "implicit", detectSessionInUrl: !oauthCode, persistSession: true },
  });
  // OAuth uses PKCE: the verifier stays in this origin's storage, so the code is useless elsewhere.
  // Same origin, same storage key: the session it stores is the one `sb` reads.
  const pkce = () => supabase.createClient(location.origin, config.anonKey, {
    auth: { flowType: "pkce", detectSessionInUrl: false, persistSession: true, autoRefreshToken: false },
  });
  const claimsOf = (jwt) => JSON.parse(atob(jwt.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));
  const email = () => $("email").value.trim();
  const password = () => $("password").value;
  const report = ({ error }, ok) => (error ? say(error.message, true) : say(ok));

  async function render() {
    const { data } = await sb.auth.getSession();
    const user = data.session?.user;
    $("signed-in").hidden = !user;
    $("signed-out").hidden = !!user;
    $("recovery").hidden = !(user && recovering);
    $("status").textContent = user ? `Signed in as ${user.email}` : "Signed out";
    // The router refuses this tenant's data to a token that does not list it (tenant_ids): until an
    // invitation is accepted, say so instead of asking.
    const member = !!user && (claimsOf(data.session.access_token).tenant_ids ?? []).includes(tenant.id);
    $("accept-invitation").hidden = member;
    $("membership").textContent = user && !member ? `Not a member of ${tenant.name} yet.` : "";
    $("contacts").replaceChildren();
    if (member) {
      const { data: rows, error } = await sb.from("contacts").select("name").order("name");
      $("contacts").replaceChildren(
        ...(rows ?? []).map((r) => Object.assign(document.createElement("li"), { textContent: r.name })),
      );
      if (error) say(error.message, true);
    }
  }

  // On an invite-only host the router refuses OAuth (it would create an account): no button there.
  $("oauth").hidden = !(config.oauthProvider && tenant.signup === "open");
  $("oauth").textContent = `Continue with ${config.oauthProvider ?? "OAuth"}`;
  $("oauth").onclick = async () => {
    const { error } = await pkce().auth.signInWithOAuth({ provider: config.oauthProvider, options: { redirectTo: here } });
    if (error) say(error.message, true);
  };

  // A user an OAuth provider just created belongs to no tenant: join this one, once (sql/021). A
  // returning user's token already lists it, and the database refuses a second join anyway.
  async function finishOAuth() {
    const errorText = new URLSearchParams(location.search).get("error_description");
    if (!oauthCode) return errorText ? say(errorText, true) : undefined;
    const { data, error } = await pkce().auth.exchangeCodeForSession(oauthCode);
    history.replaceState(history.state, "", location.pathname);
    if (error) return say(error.message, true);
    if ((claimsOf(data.session.access_token).tenant_ids ?? []).includes(tenant.id)) return say("Signed in.");
    const joined = await sb.rpc("join_tenant_after_oauth");
    if (joined.error) return say(joined.error.message, true);
    // A new token, whose tenant_ids lists this tenant now.
    await sb.auth.refreshSession();
    say(`Welcome to ${tenant.name}.`);
  }

  $("sign-up").onclick = async () =>
    report(await sb.auth.signUp({ email: email(), password: password(), options: { emailRedirectTo: here } }), "Check your email to confirm.");
  $("sign-in").onclick = async () => {
    report(await sb.auth.signInWithPassword({ email: email(), password: password() }), "Signed in.");
    render();
  };
  $("magic-link").onclick = async () =>
    report(await sb.auth.signInWithOtp({ email: email(), options: { emailRedirectTo: here } }), "Check your email for a sign-in link.");
  $("reset").onclick = async () =>
    report(await sb.auth.resetPasswordForEmail(email(), { redirectTo: here }), "Check your email for a reset link.");
  $("set-password").onclick = async () => report(await sb.auth.updateUser({ password: $("new-password").value }), "Password set.");
  $("change-email").onclick = async () =>
    report(await sb.auth.updateUser({ email: $("new-email").value.trim() }, { emailRedirectTo: here }), "Check your new address to confirm the change.");
  $("accept-invitation").onclick = async () => {
    const accepted = await sb.rpc("accept_invitation", { p_tenant_id: tenant.id });
    // A new token, whose tenant_ids lists this tenant now.
    if (!accepted.error) await sb.auth.refreshSession();
    report(accepted, "Invitation accepted.");
    render();
  };
  $("add-contact").onclick = async () => {
    report(await sb.from("contacts").insert({ tenant_id: tenant.id, name: $("contact-name").value }), "Contact added.");
    render();
  };
  $("sign-out").onclick = async () => {
    await sb.auth.signOut({ scope: "local" });
    say("Signed out.");
    render();
  };
  // Joined first: before that, this tenant's data is not the new user's to read.
  await finishOAuth();
  sb.auth.onAuthStateChange(() => setTimeout(render, 0));
  render();
})().catch((e) => {
  document.getElementById("status").textContent = `Error: ${e.message}`;
});
