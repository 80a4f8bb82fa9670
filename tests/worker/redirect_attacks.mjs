// The redirect attacks of the security suites (not a test file): each one a request that, before
// the router normalised redirect carriers, handed GoTrue a target off the tenant. Shared by
// auth_redirects.test.mjs (GoTrue's reading modelled in JS) and go_oracle.test.mjs (read by Go itself).

export const EVIL = "https://evil.example/steal";
export const FORM = "application/x-www-form-urlencoded";
export const enc = encodeURIComponent;

/** Each attack: a request that, before the fix, handed GoTrue a redirect target off the tenant. */
export function attacks(own) {
  return [
    { name: "query key redirect%5Fto", path: `/auth/v1/authorize?provider=github&redirect%5Fto=${enc(EVIL)}` },
    { name: "query key %72edirect_to", path: `/auth/v1/authorize?provider=github&%72edirect_to=${enc(EVIL)}` },
    { name: "query key redirect_t%6F after an allowed one", path: `/auth/v1/authorize?provider=github&redirect_to=${enc(own)}&redirect_t%6F=${enc(EVIL)}` },
    { name: "redirect_to header", path: "/auth/v1/authorize?provider=github", headers: { redirect_to: EVIL } },
    { name: "Redirect_To header beside an allowed query value", path: `/auth/v1/authorize?provider=github&redirect_to=${enc(own)}`, headers: { Redirect_To: EVIL } },
    { name: "bare Referer", path: "/auth/v1/authorize?provider=github", headers: { referer: EVIL } },
    {
      name: "url-encoded body",
      path: "/auth/v1/recover",
      method: "POST",
      headers: { "content-type": FORM },
      body: `email=a%40example.com&redirect_to=${enc(EVIL)}`,
    },
    {
      name: "url-encoded body, content type in capitals with a charset",
      path: "/auth/v1/resend",
      method: "POST",
      headers: { "content-type": "Application/X-WWW-Form-URLEncoded; charset=UTF-8" },
      body: `redirect%5Fto=${enc(EVIL)}&type=signup`,
    },
    {
      // /recover reads no redirect from JSON: once the form view is gone, no carrier is left.
      name: "a JSON body served with a form content type",
      path: "/auth/v1/recover",
      method: "POST",
      headers: { "content-type": FORM },
      body: JSON.stringify({ email: "a@example.com", pad: `&redirect_to=${enc(EVIL)}&` }),
      json: true,
      none: true,
    },
    {
      name: "a form body to /verify whose JSON view also names a target",
      path: "/auth/v1/verify",
      method: "POST",
      headers: { "content-type": FORM },
      body: JSON.stringify({ type: "signup", token: "123456", email: "a@example.com", redirect_to: EVIL }),
      json: true,
    },
    {
      name: "JSON body of POST /verify",
      path: "/auth/v1/verify",
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ type: "signup", token: "123456", email: "a@example.com", redirect_to: EVIL }),
      json: true,
    },
    {
      name: "JSON body of POST /verify, key in another case",
      path: "/auth/v1/verify",
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ type: "signup", token: "123456", email: "a@example.com", REDIRECT_TO: EVIL }),
      json: true,
    },
    {
      name: "JSON body of POST /sso",
      path: "/auth/v1/sso",
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ domain: "example.com", redirect_to: EVIL }),
      json: true,
    },
  ];
}

