//! The provisioning steps, each idempotent (a runner cut off mid-way runs it again) with its
//! compensation. Order matters: the invitation is last, because an email cannot be unsent.
//!
//! - `create_tenant`: `provision_tenant` (tenant, subscription, owner invitation, pending hostname in
//!   one transaction); undone by `unprovision_tenant`.
//! - `custom_hostname`: the Cloudflare for SaaS custom hostname (ssl `http`, `dv`), found by name
//!   first so a retry never makes a second one; its id and status written to `tenant_domains`. The
//!   certificate then waits for the customer's DNS as a status, not as a step. Undone by deleting it.
//! - `invite_admin`: Auth's admin invite with `data.tenant_id` and a redirect to the tenant's host;
//!   an address that already has an account gets a sign-in link instead and accepts the same
//!   invitation (rpc accept_invitation). Its compensation is nothing: the invitation row goes with the
//!   tenant, so a link already mailed grants nothing. Not planned for a probe tenant.

use serde_json::{json, Value};
use uuid::Uuid;

use crate::backend::{call, rpc, Backend, Service};
use crate::config::AdminConfig;
use crate::error::AdminError;
use crate::request::CreateTenant;

pub const CREATE_TENANT: &str = "create_tenant";
pub const CUSTOM_HOSTNAME: &str = "custom_hostname";
pub const INVITE_ADMIN: &str = "invite_admin";

pub fn plan(req: &CreateTenant) -> Vec<&'static str> {
    let mut steps = vec![CREATE_TENANT];
    if req.custom_domain.is_some() {
        steps.push(CUSTOM_HOSTNAME);
    }
    // A probe tenant's owner address is made up: nothing is mailed to it.
    if !req.probe {
        steps.push(INVITE_ADMIN);
    }
    steps
}

/// A text[] argument as Postgres's array literal `{a,b}`: PostgREST hands a string to the type's input
/// function, and step names are `[a-z_]` (nothing to quote).
pub fn array_literal(names: &[&str]) -> String {
    format!("{{{}}}", names.join(","))
}

pub async fn run(
    b: &dyn Backend,
    cfg: &AdminConfig,
    step: &str,
    tenant: Uuid,
    req: &CreateTenant,
) -> Result<Value, AdminError> {
    match step {
        CREATE_TENANT => {
            rpc(b, "provision_tenant", json!({
                "p_tenant_id": tenant, "p_name": req.name, "p_slug": req.slug, "p_plan": req.plan,
                "p_admin_email": req.admin_email, "p_signup": req.signup, "p_branding": req.branding,
                "p_custom_domain": req.custom_domain,
            }))
            .await?;
            Ok(json!({}))
        }
        CUSTOM_HOSTNAME => {
            let Some(host) = req.custom_domain.as_deref() else {
                return Ok(json!({}));
            };
            let ch = match find_hostname(b, cfg, host).await?.into_iter().next() {
                Some(existing) => existing,
                None => create_hostname(b, cfg, host).await?,
            };
            let id = ch.get("id").and_then(Value::as_str).ok_or_else(|| {
                AdminError::Unavailable("Cloudflare answered no custom hostname id".into())
            })?;
            record_hostname(b, tenant, host, &ch).await?;
            Ok(json!({"cloudflare_id": id}))
        }
        INVITE_ADMIN => {
            let redirect = cfg.invite_redirect(tenant, &req.slug, b.now_s() as u64);
            let r = b
                .send(
                    Service::Auth,
                    "POST",
                    &format!("/invite?redirect_to={}", url_escape(&redirect)),
                    Some(json!({
                        "email": req.admin_email, "data": {"tenant_id": tenant},
                    })),
                )
                .await
                .map_err(AdminError::Unavailable)?;
            if (200..300).contains(&r.status) {
                return Ok(json!({"user_id": r.body.get("id"), "existing_account": false}));
            }
            let exists = r.status == 422
                && r.body.get("error_code").and_then(Value::as_str) == Some("email_exists");
            if !exists {
                return Err(AdminError::Upstream {
                    status: r.status,
                    body: r.body,
                });
            }
            call(
                b,
                Service::Auth,
                "POST",
                &format!("/otp?redirect_to={}", url_escape(&redirect)),
                Some(json!({
                    "email": req.admin_email, "create_user": false,
                })),
            )
            .await?;
            Ok(json!({"existing_account": true}))
        }
        other => Err(AdminError::Misconfigured(format!("unknown step {other}"))),
    }
}

pub async fn undo(
    b: &dyn Backend,
    cfg: &AdminConfig,
    step: &str,
    tenant: Uuid,
    req: &CreateTenant,
) -> Result<(), AdminError> {
    match step {
        CREATE_TENANT => rpc(b, "unprovision_tenant", json!({"p_tenant_id": tenant}))
            .await
            .map(|_| ()),
        CUSTOM_HOSTNAME => {
            let Some(host) = req.custom_domain.as_deref() else {
                return Ok(());
            };
            for ch in find_hostname(b, cfg, host).await? {
                if let Some(id) = ch.get("id").and_then(Value::as_str) {
                    delete_hostname(b, cfg, id).await?;
                }
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// A new custom hostname: HTTP validation (the router passes the token's path through), DV.
pub async fn create_hostname(
    b: &dyn Backend,
    cfg: &AdminConfig,
    host: &str,
) -> Result<Value, AdminError> {
    let r = call(b, Service::Cloudflare, "POST", &format!("/zones/{}/custom_hostnames", cfg.zone_id), Some(json!({
        "hostname": host, "ssl": {"method": "http", "type": "dv", "settings": {"min_tls_version": "1.2"}},
    })))
    .await?;
    Ok(r.get("result").cloned().unwrap_or(Value::Null))
}

/// Deletes a custom hostname; gone already is what we wanted.
pub async fn delete_hostname(
    b: &dyn Backend,
    cfg: &AdminConfig,
    id: &str,
) -> Result<(), AdminError> {
    let r = b
        .send(
            Service::Cloudflare,
            "DELETE",
            &format!("/zones/{}/custom_hostnames/{id}", cfg.zone_id),
            None,
        )
        .await
        .map_err(AdminError::Unavailable)?;
    if !(200..300).contains(&r.status) && r.status != 404 {
        return Err(AdminError::Upstream {
            status: r.status,
            body: r.body,
        });
    }
    Ok(())
}

/// Cloudflare's custom hostnames of that exact name on our zone.
pub async fn find_hostname(
    b: &dyn Backend,
    cfg: &AdminConfig,
    host: &str,
) -> Result<Vec<Value>, AdminError> {
    let r = call(
        b,
        Service::Cloudflare,
        "GET",
        &format!(
            "/zones/{}/custom_hostnames?hostname={}",
            cfg.zone_id,
            url_escape(host)
        ),
        None,
    )
    .await?;
    Ok(r.get("result")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter(|c| c.get("hostname").and_then(Value::as_str) == Some(host))
                .cloned()
                .collect()
        })
        .unwrap_or_default())
}

/// Cloudflare's view of a hostname written to `tenant_domains`: status, certificate status and the
/// records the customer must set (ownership TXT, HTTP token, certificate TXT records).
pub async fn record_hostname(
    b: &dyn Backend,
    tenant: Uuid,
    host: &str,
    ch: &Value,
) -> Result<(), AdminError> {
    let mut verification = Vec::new();
    if let Some(o) = ch.get("ownership_verification").filter(|v| v.is_object()) {
        verification.push(json!({"purpose": "ownership", "type": o.get("type"), "name": o.get("name"), "value": o.get("value")}));
    }
    if let Some(recs) = ch
        .pointer("/ssl/validation_records")
        .and_then(Value::as_array)
    {
        for r in recs {
            verification.push(json!({"purpose": "certificate", "txt_name": r.get("txt_name"), "txt_value": r.get("txt_value"),
                                     "http_url": r.get("http_url"), "http_body": r.get("http_body")}));
        }
    }
    call(
        b,
        Service::Rest,
        "PATCH",
        &format!(
            "/tenant_domains?tenant_id=eq.{tenant}&hostname=eq.{}",
            url_escape(host)
        ),
        Some(json!({
            "cloudflare_id": ch.get("id"),
            "status": ch.get("status").and_then(Value::as_str).unwrap_or("pending"),
            "ssl_status": ch.pointer("/ssl/status"),
            "verification": verification,
        })),
    )
    .await
    .map(|_| ())
}

/// Percent-encodes everything but unreserved characters (RFC 3986 §2.3).
pub fn url_escape(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
