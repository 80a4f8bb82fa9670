//! `PATCH /admin/v1/tenants/:id` and the domain change it may start: the new hostname is added
//! (a `tenant_domains` row, pending, and its Cloudflare custom hostname) while the old one keeps
//! serving; once Cloudflare says the new one is active, [`promote`] makes it the primary
//! (`tenants.custom_domain`, whose trigger drops the old row) and deletes the old custom hostname.
//! `promote` runs wherever hostnames are refreshed: `GET /admin/v1/tenants/:id` and the reconciler.

use serde::Deserialize;
use serde_json::{json, Map, Value};
use uuid::Uuid;

use crate::backend::{call, Backend, Service};
use crate::config::AdminConfig;
use crate::error::AdminError;
use crate::request::normalise_hostname;
use crate::steps::{self, url_escape};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Patch {
    plan: Option<String>,
    branding: Option<Value>,
    signup: Option<String>,
    custom_domain: Option<String>,
}

fn bad(d: &str) -> AdminError {
    AdminError::InvalidBody(d.into())
}

pub async fn patch(
    b: &dyn Backend,
    cfg: &AdminConfig,
    id: Uuid,
    body: &[u8],
) -> Result<Value, AdminError> {
    let p: Patch =
        serde_json::from_slice(body).map_err(|e| AdminError::InvalidBody(e.to_string()))?;
    let rows = call(
        b,
        Service::Rest,
        "GET",
        &format!("/tenants?id=eq.{id}&select=id,custom_domain"),
        None,
    )
    .await?;
    let current = rows.get(0).ok_or(AdminError::NotFound)?;
    let mut fields = Map::new();
    if let Some(s) = p.signup {
        if s != "open" && s != "invite_only" {
            return Err(bad("signup is open or invite_only"));
        }
        fields.insert("signup".into(), json!(s));
    }
    if let Some(br) = p.branding {
        if !br.is_object() {
            return Err(bad("branding is an object"));
        }
        fields.insert("branding".into(), br);
    }
    let new_host = match p.custom_domain {
        Some(d) => {
            Some(normalise_hostname(&d).ok_or_else(|| bad("custom_domain is not a hostname"))?)
        }
        None => None,
    };
    if let Some(plan) = &p.plan {
        if !tenant_shared::plan::is_plan_id(plan) {
            return Err(bad("plan is not a plan id"));
        }
        // An unknown plan is the foreign key's 409, passed on.
        call(
            b,
            Service::Rest,
            "PATCH",
            &format!("/tenant_subscriptions?tenant_id=eq.{id}"),
            Some(json!({"plan_id": plan})),
        )
        .await?;
    }
    if !fields.is_empty() {
        call(
            b,
            Service::Rest,
            "PATCH",
            &format!("/tenants?id=eq.{id}"),
            Some(Value::Object(fields)),
        )
        .await?;
    }
    if let Some(host) = new_host
        .filter(|h| current.get("custom_domain").and_then(Value::as_str) != Some(h.as_str()))
    {
        add_hostname(b, cfg, id, &host).await?;
    }
    Ok(json!({"id": id}))
}

/// The new hostname beside the old: its row, then its Cloudflare hostname; a Cloudflare refusal
/// takes the row back out, so nothing is left half-made.
async fn add_hostname(
    b: &dyn Backend,
    cfg: &AdminConfig,
    id: Uuid,
    host: &str,
) -> Result<(), AdminError> {
    let exists = call(
        b,
        Service::Rest,
        "GET",
        &format!(
            "/tenant_domains?tenant_id=eq.{id}&hostname=eq.{}&select=hostname",
            url_escape(host)
        ),
        None,
    )
    .await?;
    if exists.as_array().is_none_or(Vec::is_empty) {
        call(
            b,
            Service::Rest,
            "POST",
            "/tenant_domains",
            Some(json!({"tenant_id": id, "hostname": host, "status": "pending"})),
        )
        .await?;
    }
    let made = async {
        let ch = match steps::find_hostname(b, cfg, host).await?.into_iter().next() {
            Some(c) => c,
            None => steps::create_hostname(b, cfg, host).await?,
        };
        steps::record_hostname(b, id, host, &ch).await
    };
    if let Err(e) = made.await {
        call(
            b,
            Service::Rest,
            "DELETE",
            &format!(
                "/tenant_domains?tenant_id=eq.{id}&hostname=eq.{}",
                url_escape(host)
            ),
            None,
        )
        .await?;
        return Err(e);
    }
    Ok(())
}

/// The newest active hostname that is not the primary becomes it, and the old primary's custom
/// hostname goes. Returns whether it swapped.
pub async fn promote(b: &dyn Backend, cfg: &AdminConfig, id: Uuid) -> Result<bool, AdminError> {
    let rows = call(
        b,
        Service::Rest,
        "GET",
        &format!("/tenants?id=eq.{id}&select=custom_domain"),
        None,
    )
    .await?;
    let old = rows
        .pointer("/0/custom_domain")
        .and_then(Value::as_str)
        .map(String::from);
    let domains = call(b, Service::Rest, "GET", &format!("/tenant_domains?tenant_id=eq.{id}&status=eq.active&ssl_status=eq.active&select=hostname&order=created_at.desc"), None).await?;
    let Some(new) = domains
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|d| d.get("hostname").and_then(Value::as_str))
        .find(|h| Some(*h) != old.as_deref())
        .map(String::from)
    else {
        return Ok(false);
    };
    // Only a replacement waits here: a tenant whose primary is unset gets its first domain at once.
    call(
        b,
        Service::Rest,
        "PATCH",
        &format!("/tenants?id=eq.{id}"),
        Some(json!({"custom_domain": new})),
    )
    .await?;
    if let Some(old) = old {
        for ch in steps::find_hostname(b, cfg, &old).await? {
            if let Some(cf_id) = ch.get("id").and_then(Value::as_str) {
                steps::delete_hostname(b, cfg, cf_id).await?;
            }
        }
    }
    Ok(true)
}

/// Cloudflare's current view of every hostname of the tenant, kept in `tenant_domains`, then
/// [`promote`]. A hostname Cloudflare does not know (yet) keeps what the table says.
pub async fn refresh(b: &dyn Backend, cfg: &AdminConfig, id: Uuid) -> Result<(), AdminError> {
    let domains = call(
        b,
        Service::Rest,
        "GET",
        &format!("/tenant_domains?tenant_id=eq.{id}&select=hostname"),
        None,
    )
    .await?;
    for host in domains
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|d| d.get("hostname").and_then(Value::as_str))
    {
        if let Some(ch) = steps::find_hostname(b, cfg, host).await?.first() {
            steps::record_hostname(b, id, host, ch).await?;
        }
    }
    promote(b, cfg, id).await.map(|_| ())
}

/// The reconciler's share: every tenant with a hostname whose certificate is not active yet.
pub async fn refresh_pending(b: &dyn Backend, cfg: &AdminConfig) -> Result<usize, AdminError> {
    let rows = call(
        b,
        Service::Rest,
        "GET",
        "/tenant_domains?ssl_status=neq.active&select=tenant_id&limit=100",
        None,
    )
    .await?;
    let mut seen: Vec<Uuid> = Vec::new();
    for t in rows
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r.get("tenant_id").and_then(Value::as_str))
        .filter_map(|s| Uuid::parse_str(s).ok())
    {
        if !seen.contains(&t) {
            seen.push(t);
            refresh(b, cfg, t).await?;
        }
    }
    Ok(seen.len())
}
