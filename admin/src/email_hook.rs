//! Supabase Auth's Send Email hook (HTTP), on the admin host at [`PATH`]: Auth POSTs
//! `{user, email_data: {token, token_hash, redirect_to, email_action_type, site_url, token_new,
//! token_hash_new}}` signed with standard webhooks, and expects `{}` once the mail is on its way.
//!
//! The tenant is read from `redirect_to`, which the router made a signed return naming the tenant
//! and the host the user is on (crates/shared signed_return): a user can write `user_metadata`
//! and any `redirect_to` Auth's one-entry allow list lets through, but not a signature. The
//! message is branded from that tenant's routing record (`rpc resolve_tenant` on the signed host,
//! which must be the signed tenant's) and its link goes to the confirm route on that host.
//! Order matters: nothing in the body is read before the signature verifies.

use serde::Deserialize;
use serde_json::{json, Value};
use tenant_shared::signed_return::{self, CONFIRM_PATH};
use uuid::Uuid;

use crate::backend::{rpc, Backend};
use crate::config::AdminConfig;
use crate::email_templates::{render, Action, Brand};
use crate::hook_config::HookConfig;
use crate::hook_error::HookError;
use crate::mailer::{idempotency_key, Email, MailError, Mailer};
use crate::webhook;

pub const PATH: &str = "/admin/v1/hooks/send-email";
const MAX_BODY: usize = 64 * 1024;

pub struct HookRequest<'a> {
    pub webhook_id: Option<&'a str>,
    pub webhook_timestamp: Option<&'a str>,
    pub webhook_signature: Option<&'a str>,
    pub body: &'a [u8],
}

#[derive(Deserialize)]
struct Payload {
    user: User,
    email_data: EmailData,
}

#[derive(Deserialize)]
struct User {
    #[serde(default)]
    email: String,
    #[serde(default)]
    new_email: String,
}

#[derive(Deserialize)]
struct EmailData {
    #[serde(default)]
    token: String,
    #[serde(default)]
    token_hash: String,
    #[serde(default)]
    redirect_to: String,
    email_action_type: String,
    #[serde(default)]
    token_new: String,
    #[serde(default)]
    token_hash_new: String,
}

/// Where the links go: the signed target's origin, and its path as `next`.
struct Destination {
    origin: String,
    next: String,
    brand: Brand,
}

/// The status and body Auth gets.
pub async fn handle(
    b: &dyn Backend,
    mailer: &dyn Mailer,
    admin: &AdminConfig,
    hook: Result<HookConfig, HookError>,
    r: &HookRequest<'_>,
) -> (u16, Value) {
    match send(b, mailer, admin, hook, r).await {
        Ok(()) => (200, json!({})),
        Err(e) => (e.status(), e.body()),
    }
}

async fn send(
    b: &dyn Backend,
    mailer: &dyn Mailer,
    admin: &AdminConfig,
    hook: Result<HookConfig, HookError>,
    r: &HookRequest<'_>,
) -> Result<(), HookError> {
    let cfg = hook?;
    if r.body.len() > MAX_BODY {
        return Err(HookError::InvalidPayload(format!(
            "body larger than {MAX_BODY} bytes"
        )));
    }
    webhook::verify(
        &cfg.secrets,
        r.webhook_id,
        r.webhook_timestamp,
        r.webhook_signature,
        r.body,
        b.now_s() as i64,
    )
    .map_err(|e| HookError::Unauthorized(e.as_str()))?;
    let p: Payload =
        serde_json::from_slice(r.body).map_err(|e| HookError::InvalidPayload(e.to_string()))?;
    let d = &p.email_data;
    let action = Action::parse(&d.email_action_type)
        .ok_or_else(|| HookError::InvalidPayload("unknown email_action_type".into()))?;
    let dest = destination(b, admin, &cfg, &d.redirect_to).await?;
    // GoTrue's pairing for a (secure) email change: `token_hash` goes to the NEW address,
    // `token_hash_new` to the current one (internal/api/mail.go).
    let mut messages = vec![];
    if action == Action::EmailChange {
        messages.push((
            p.user.new_email.as_str(),
            d.token_hash.as_str(),
            d.token.as_str(),
        ));
        if !d.token_hash_new.is_empty() {
            messages.push((
                p.user.email.as_str(),
                d.token_hash_new.as_str(),
                d.token_new.as_str(),
            ));
        }
    } else {
        messages.push((
            p.user.email.as_str(),
            d.token_hash.as_str(),
            d.token.as_str(),
        ));
    }
    for (to, token_hash, code) in messages {
        if !to.contains('@') || to.len() > 320 || to.chars().any(char::is_control) {
            return Err(HookError::InvalidPayload("no recipient address".into()));
        }
        let link = match action.verify_type() {
            Some(kind) => {
                if token_hash.is_empty() || token_hash.len() > 256 {
                    return Err(HookError::InvalidPayload("token_hash is missing".into()));
                }
                let q = url::form_urlencoded::Serializer::new(String::new())
                    .append_pair("token_hash", token_hash)
                    .append_pair("type", kind)
                    .append_pair("next", &dest.next)
                    .finish();
                Some(format!("{}{CONFIRM_PATH}?{q}", dest.origin))
            }
            None => None,
        };
        let m = render(action, &dest.brand, link.as_deref(), code);
        let email = Email {
            from: cfg.email_from.clone(),
            to: to.to_string(),
            subject: m.subject,
            html: m.html,
            text: m.text,
        };
        // Keyed on the token, not on the webhook-id: Auth's retries send nothing twice.
        let key = idempotency_key(
            &d.email_action_type,
            if token_hash.is_empty() {
                code
            } else {
                token_hash
            },
            to,
        );
        mailer.send(&email, &key).await.map_err(|e| match e {
            MailError::Refused(s) => HookError::Unavailable(format!("the email API answered {s}")),
            MailError::Unreachable(s) => HookError::Unavailable(s),
        })?;
    }
    Ok(())
}

/// The tenant and host of a signed `redirect_to`, checked against the directory.
async fn destination(
    b: &dyn Backend,
    admin: &AdminConfig,
    cfg: &HookConfig,
    redirect_to: &str,
) -> Result<Destination, HookError> {
    let token = signed_return::token_of_return_url(redirect_to, &cfg.auth_return.host)
        .ok_or(HookError::NoTenant("redirect_to is not a signed return"))?;
    let signed = signed_return::verify(token, &cfg.auth_return.keys, b.now_s() as u64)
        .map_err(|e| HookError::NoTenant(e.as_str()))?;
    let target = url::Url::parse(&signed.target)
        .map_err(|_| HookError::NoTenant("the signed target is not a URL"))?;
    let host = match (target.scheme(), target.host_str()) {
        ("https" | "http", Some(h)) => h.to_ascii_lowercase(),
        _ => {
            return Err(HookError::NoTenant(
                "the signed target is not an http(s) URL",
            ))
        }
    };
    let record = resolve(b, admin, &host).await?;
    let id = record
        .get("id")
        .and_then(Value::as_str)
        .and_then(|s| Uuid::parse_str(s).ok());
    if id != Some(signed.tenant) {
        return Err(HookError::NoTenant(
            "the signed host is not the signed tenant's",
        ));
    }
    if record.get("status").and_then(Value::as_str) != Some("active") {
        return Err(HookError::NoTenant("the tenant is not active"));
    }
    let origin = target.origin().ascii_serialization();
    let next = match target.query() {
        Some(q) => format!("{}?{q}", target.path()),
        None => target.path().to_string(),
    };
    let brand = Brand::from_record(
        record.get("name").and_then(Value::as_str).unwrap_or(""),
        record.get("branding").unwrap_or(&Value::Null),
    );
    Ok(Destination {
        origin,
        next,
        brand,
    })
}

/// The routing record serving `host`: a slug host under the base domain, else a custom domain.
async fn resolve(b: &dyn Backend, admin: &AdminConfig, host: &str) -> Result<Value, HookError> {
    let args = match host.strip_suffix(&format!(".{}", admin.base_domain)) {
        Some(slug) if !slug.contains('.') => json!({"p_slug": slug}),
        _ => json!({"p_domain": host}),
    };
    let record = rpc(b, "resolve_tenant", args)
        .await
        .map_err(|e| HookError::Unavailable(crate::backend::cause(&e)))?;
    if record.is_null() {
        return Err(HookError::NoTenant("no tenant serves the signed host"));
    }
    Ok(record)
}
