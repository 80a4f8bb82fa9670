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
  // Implicit flow: the confirm route hands the session over in the fragment, which this reads.
  const sb = supabase.createClient(location.origin, window.DEMO_CONFIG.anonKey, {
    auth: { flowType: "implicit", detectSessionInUrl: true, persistSession: true },
  });
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
    if (user) {
      const { data: rows, error } = await sb.from("contacts").select("name").order("name");
      $("contacts").replaceChildren(
        ...(rows ?? []).map((r) => Object.assign(document.createElement("li"), { textContent: r.name })),
      );
      if (error) say(error.message, true);
    }
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
  $("accept-invitation").onclick = async () => {
    report(await sb.rpc("accept_invitation", { p_tenant_id: tenant.id }), "Invitation accepted.");
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
  sb.auth.onAuthStateChange(() => setTimeout(render, 0));
  render();
})().catch((e) => {
  document.getElementById("status").textContent = `Error: ${e.message}`;
});
