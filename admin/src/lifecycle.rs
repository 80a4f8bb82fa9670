//! Suspend, resume, delete and purge a tenant (issue 15). The state changes are the database's
//! (sql/020: `suspend_tenant`, `resume_tenant`, `delete_tenant`, `purge_tenant`, each attributed to
//! the operator); the purge is orchestrated here, because part of a tenant lives outside the
//! database's reach:
//!
//! 1. the gate — deleted, past the retention hold (or the override), not on a dedicated project —
//!    checked before anything is destroyed (the database checks it again);
//! 2. its storage objects, deleted through the Storage API (SQL would orphan the files);
//! 3. its custom hostnames at Cloudflare;
//! 4. `purge_tenant`: every row of the tenant in every table with `tenant_id`, the trail redacted;
//! 5. the Auth users it left without a tenant, deleted through Auth's admin API.
//!
//! Every step is idempotent, so a purge cut off is finished by asking again: before step 4 it simply
//! runs again; after it, the tenant is gone but the purge's own audit entry names the users still to
//! delete (sql/020), and a second purge finds it and finishes.

use serde_json::{json, Value};
use uuid::Uuid;

use crate::backend::{call, rpc, Backend, Service};
use crate::config::AdminConfig;
use crate::error::AdminError;
use crate::steps;

/// The bucket whose objects live under their tenant's folder (sql/009).
pub const BUCKET: &str = "tenant-files";
/// The Storage API lists and deletes at most this many objects per request.
const PAGE: usize = 1000;

pub async fn suspend(b: &dyn Backend, id: Uuid, actor: Uuid) -> Result<Value, AdminError> {
    rpc(
        b,
        "suspend_tenant",
        json!({"p_tenant": id, "p_actor": actor}),
    )
    .await
}

pub async fn resume(b: &dyn Backend, id: Uuid, actor: Uuid) -> Result<Value, AdminError> {
    rpc(
        b,
        "resume_tenant",
        json!({"p_tenant": id, "p_actor": actor}),
    )
    .await
}

/// Soft delete: the tenant stops resolving at once; the purge is due after the hold (30 days, the
/// default of `delete_tenant`), answered as `purge_after`.
pub async fn delete(b: &dyn Backend, id: Uuid, actor: Uuid) -> Result<Value, AdminError> {
    rpc(
        b,
        "delete_tenant",
        json!({"p_tenant": id, "p_actor": actor}),
    )
    .await
}

/// `{}` or `{"override": true}` (an empty body is `{}`).
pub fn parse_purge(body: &[u8]) -> Result<bool, AdminError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(false);
    }
    let v: Value = serde_json::from_slice(body)
        .map_err(|e| AdminError::InvalidBody(format!("not JSON: {e}")))?;
    let obj = v
        .as_object()
        .ok_or_else(|| AdminError::InvalidBody("the body is a JSON object".into()))?;
    if let Some(k) = obj.keys().find(|k| k.as_str() != "override") {
        return Err(AdminError::InvalidBody(format!("unknown field {k}")));
    }
    match obj.get("override") {
        None => Ok(false),
        Some(Value::Bool(o)) => Ok(*o),
        Some(_) => Err(AdminError::InvalidBody("override is true or false".into())),
    }
}

pub async fn purge(
    b: &dyn Backend,
    cfg: &AdminConfig,
    id: Uuid,
    actor: Uuid,
    override_hold: bool,
) -> Result<Value, AdminError> {
    let rows = call(
        b,
        Service::Rest,
        "GET",
        &format!("/tenants?id=eq.{id}&select=id,slug,status,purge_after,placement_project"),
        None,
    )
    .await?;
    let Some(tenant) = rows.get(0) else {
        return finish_earlier_purge(b, id).await;
    };
    gate(b, id, tenant, override_hold).await?;
    let objects = delete_objects(b, id).await?;
    let hostnames = delete_hostnames(b, cfg, id).await?;
    let report = rpc(
        b,
        "purge_tenant",
        json!({"p_tenant": id, "p_actor": actor, "p_override": override_hold}),
    )
    .await?;
    let users = delete_users(b, report.get("users_without_tenant")).await?;
    Ok(json!({
        "tenant_id": id, "slug": report.get("slug"), "tables": report.get("tables"),
        "audit_entries_redacted": report.get("audit_entries_redacted"),
        "objects": objects, "hostnames": hostnames, "users": users, "resumed": false,
    }))
}

async fn gate(
    b: &dyn Backend,
    id: Uuid,
    tenant: &Value,
    override_hold: bool,
) -> Result<(), AdminError> {
    if !tenant.get("placement_project").is_none_or(Value::is_null) {
        return Err(AdminError::Conflict(
            "the tenant is placed on a dedicated project; moving placements is not supported yet"
                .into(),
        ));
    }
    if tenant.get("status").and_then(Value::as_str) != Some("deleted") {
        return Err(AdminError::Conflict(
            "only a deleted tenant is purged: delete it first".into(),
        ));
    }
    if override_hold {
        return Ok(());
    }
    let due = call(
        b,
        Service::Rest,
        "GET",
        &format!(
            "/tenants?id=eq.{id}&purge_after=lte.{}&select=id",
            steps::url_escape(&iso_utc(b.now_s()))
        ),
        None,
    )
    .await?;
    if due.as_array().is_none_or(Vec::is_empty) {
        return Err(AdminError::Conflict(format!(
            "the retention hold runs until {}; purge with {{\"override\": true}} to purge now",
            tenant
                .get("purge_after")
                .and_then(Value::as_str)
                .unwrap_or("later")
        )));
    }
    Ok(())
}

/// The tenant's objects (everything under `<tenant id>/` in the bucket), listed and deleted through
/// the Storage API as supabase-js's `list` and `remove` do. Answers how many went.
async fn delete_objects(b: &dyn Backend, id: Uuid) -> Result<usize, AdminError> {
    let mut names = Vec::new();
    let mut folders = vec![id.to_string()];
    while let Some(folder) = folders.pop() {
        let mut offset = 0;
        loop {
            let page = call(
                b,
                Service::Storage,
                "POST",
                &format!("/object/list/{BUCKET}"),
                Some(json!({"prefix": folder, "limit": PAGE, "offset": offset,
                            "sortBy": {"column": "name", "order": "asc"}})),
            )
            .await?;
            let entries = page.as_array().cloned().unwrap_or_default();
            for e in &entries {
                let Some(name) = e.get("name").and_then(Value::as_str) else {
                    continue;
                };
                let full = format!("{folder}/{name}");
                // A folder is listed with a null id (Storage's convention).
                if e.get("id").is_none_or(Value::is_null) {
                    folders.push(full);
                } else {
                    names.push(full);
                }
            }
            if entries.len() < PAGE {
                break;
            }
            offset += PAGE;
        }
    }
    for chunk in names.chunks(PAGE) {
        call(
            b,
            Service::Storage,
            "DELETE",
            &format!("/object/{BUCKET}"),
            Some(json!({ "prefixes": chunk })),
        )
        .await?;
    }
    Ok(names.len())
}

/// The tenant's custom hostnames, deleted at Cloudflare by id and by name (a hostname whose id was
/// never recorded is still found). Answers their names.
async fn delete_hostnames(
    b: &dyn Backend,
    cfg: &AdminConfig,
    id: Uuid,
) -> Result<Vec<String>, AdminError> {
    let rows = call(
        b,
        Service::Rest,
        "GET",
        &format!("/tenant_domains?tenant_id=eq.{id}&select=hostname,cloudflare_id"),
        None,
    )
    .await?;
    let mut gone = Vec::new();
    for row in rows.as_array().into_iter().flatten() {
        let Some(host) = row.get("hostname").and_then(Value::as_str) else {
            continue;
        };
        if let Some(cf) = row.get("cloudflare_id").and_then(Value::as_str) {
            steps::delete_hostname(b, cfg, cf).await?;
        }
        for ch in steps::find_hostname(b, cfg, host).await? {
            if let Some(cf) = ch.get("id").and_then(Value::as_str) {
                steps::delete_hostname(b, cfg, cf).await?;
            }
        }
        gone.push(host.to_string());
    }
    Ok(gone)
}

/// Deletes each user through Auth's admin API; one gone already is what we wanted.
async fn delete_users(b: &dyn Backend, users: Option<&Value>) -> Result<Vec<String>, AdminError> {
    let ids: Vec<String> = users
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .filter(|u| Uuid::parse_str(u).is_ok())
        .map(String::from)
        .collect();
    for u in &ids {
        let r = b
            .send(Service::Auth, "DELETE", &format!("/admin/users/{u}"), None)
            .await
            .map_err(AdminError::Unavailable)?;
        if !(200..300).contains(&r.status) && r.status != 404 {
            return Err(AdminError::Upstream {
                status: r.status,
                body: r.body,
            });
        }
    }
    Ok(ids)
}

/// The tenant is gone: either it never existed (404) or a purge removed it, whose audit entry names
/// the users to delete; a purge cut off after the database's part is finished here.
async fn finish_earlier_purge(b: &dyn Backend, id: Uuid) -> Result<Value, AdminError> {
    let entries = call(
        b,
        Service::Rest,
        "GET",
        &format!("/audit_log?tenant_id=eq.{id}&table_name=eq.public.tenants&action=eq.DELETE&select=new_data&order=occurred_at.desc&limit=5"),
        None,
    )
    .await?;
    let purged = entries
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e.get("new_data"))
        .find(|d| d.get("purged") == Some(&Value::Bool(true)))
        .cloned()
        .ok_or(AdminError::NotFound)?;
    let users = delete_users(b, purged.get("users_without_tenant")).await?;
    Ok(json!({
        "tenant_id": id, "tables": purged.get("tables"),
        "audit_entries_redacted": purged.get("audit_entries_redacted"),
        "objects": 0, "hostnames": [], "users": users, "resumed": true,
    }))
}

/// `YYYY-MM-DDTHH:MM:SSZ` for seconds since the epoch, for PostgREST's timestamp filters.
pub fn iso_utc(secs: f64) -> String {
    tenant_shared::time::rfc3339_utc((secs.max(0.0) * 1000.0) as u64, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_utc_matches_known_instants() {
        assert_eq!(iso_utc(0.0), "1970-01-01T00:00:00Z");
        assert_eq!(iso_utc(951_782_400.0), "2000-02-29T00:00:00Z");
        assert_eq!(iso_utc(1_796_169_599.0), "2026-12-01T23:59:59Z");
    }

    #[test]
    fn purge_body_is_empty_or_an_override_flag() {
        assert_eq!(parse_purge(b""), Ok(false));
        assert_eq!(parse_purge(br#"{"override": true}"#), Ok(true));
        for bad in [&b"[]"[..], b"{\"override\": 1}", b"{\"force\": true}", b"{"] {
            assert_eq!(parse_purge(bad).map_err(|e| e.status()), Err(400));
        }
    }
}
