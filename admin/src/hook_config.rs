//! The Send Email hook's vars and secrets, read only when the hook is called, so the admin API
//! works where no email is configured (README, Secrets):
//! `SEND_EMAIL_HOOK_SECRETS` (`v1,whsec_…[|v1,whsec_…]`, the `secrets` of
//! `[auth.hook.send_email]`), `EMAIL_API_URL`, `EMAIL_API_KEY`, `EMAIL_FROM`; and the router's
//! `AUTH_RETURN_HOST` / `AUTH_RETURN_KEYS`, which `AdminConfig` reads.

use crate::config::{AdminConfig, AuthReturnKeys, VarSource};
use crate::hook_error::HookError;
use crate::webhook::{parse_secrets, WebhookSecret};

#[derive(Debug, Clone)]
pub struct HookConfig {
    pub secrets: Vec<WebhookSecret>,
    pub auth_return: AuthReturnKeys,
    pub email_api_url: String,
    pub email_api_key: String,
    pub email_from: String,
}

impl HookConfig {
    pub fn load(src: &dyn VarSource, admin: &AdminConfig) -> Result<Self, HookError> {
        let need = |n: &str| {
            src.var(n)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
                .ok_or_else(|| HookError::Misconfigured(format!("{n} is not set")))
        };
        let bad = |n: &str, e: String| HookError::Misconfigured(format!("{n}: {e}"));
        Ok(HookConfig {
            secrets: parse_secrets(&need("SEND_EMAIL_HOOK_SECRETS")?)
                .map_err(|e| bad("SEND_EMAIL_HOOK_SECRETS", e))?,
            auth_return: admin.auth_return.clone().ok_or_else(|| {
                HookError::Misconfigured("AUTH_RETURN_HOST and AUTH_RETURN_KEYS are not set".into())
            })?,
            email_api_url: need("EMAIL_API_URL")?,
            email_api_key: need("EMAIL_API_KEY")?,
            email_from: need("EMAIL_FROM")?,
        })
    }
}
