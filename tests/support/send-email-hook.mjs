// The Send Email hook wired into a running local stack (not a test file): the built admin Worker in
// workerd with the hook's configuration, the email API stand-in outbox it sends to, and the Auth
// stand-in told to call the hook as GoTrue does instead of writing its mailbox.
//
//   const hook = await startSendEmailHook(stack, { returnHost, returnKeys: "kid:secret" });
//   hook.outbox (tests/support/email-standin.mjs), hook.url, hook.secret (v1,whsec_…), await hook.stop()

import crypto from "node:crypto";
import { startRouter } from "./router.mjs";
import { startEmailStandin } from "./email-standin.mjs";
import { DEFAULT_JWT_SECRET } from "./supabase-standin.mjs";

export const HOOK_PATH = "/admin/v1/hooks/send-email";

export async function startSendEmailHook(stack, { returnHost, returnKeys, adminBuildDir }) {
  const secret = `v1,whsec_${crypto.randomBytes(32).toString("base64")}`;
  // A retired secret listed first: the admin tries every one (rotation).
  const retired = `v1,whsec_${crypto.randomBytes(32).toString("base64")}`;
  const outbox = await startEmailStandin();
  const admin = await startRouter(
    {
      SUPABASE_URL: stack.supabase.url,
      SUPABASE_SECRET_KEY: stack.supabase.serviceKey,
      SUPABASE_JWT_SECRET: DEFAULT_JWT_SECRET,
      CLOUDFLARE_API_TOKEN: "unused-by-the-hook",
      CLOUDFLARE_ZONE_ID: "unused-by-the-hook",
      BASE_DOMAINS: "localhost",
      SEND_EMAIL_HOOK_SECRETS: `${retired}|${secret}`,
      AUTH_RETURN_HOST: returnHost,
      AUTH_RETURN_KEYS: returnKeys,
      EMAIL_API_URL: outbox.url,
      EMAIL_API_KEY: outbox.key,
      EMAIL_FROM: "auth@platform.test",
    },
    {
      buildDir: adminBuildDir,
      name: "tenant-admin",
      // The Worker's subrequests (the stand-ins on 127.0.0.1), sent from Node.
      outboundService: async (request) => {
        const body = ["GET", "HEAD"].includes(request.method) ? undefined : await request.arrayBuffer();
        return fetch(request.url, { method: request.method, headers: request.headers, body, redirect: "manual" });
      },
    },
  );
  const url = `${admin.url}${HOOK_PATH}`;
  stack.supabase.auth.sendEmailHook = { uri: url, secrets: secret };
  return {
    admin,
    outbox,
    url,
    secret,
    async stop() {
      stack.supabase.auth.sendEmailHook = null;
      await Promise.allSettled([admin.dispose(), outbox.stop()]);
    },
  };
}
