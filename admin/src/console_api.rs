//! What the operator console reads besides the provisioning and lifecycle routes (issue 18): a
//! tenant's members and pending invitations, its lifecycle audit trail, the list's usage columns,
//! and the slug the API would suggest for a name (so the page never re-implements the slug rules of
//! crates/shared). Operators only, like every admin route (api.rs authorises before routing here).
//!
//! "Last activity" of a tenant is its newest audit entry (sql/003, sql/020): every change to its
//! tenant row, members, invitations, subscription and application tables is audited by trigger, so
//! it is the last time anything of the tenant changed, by anyone.

use futures::future::join_all;
use serde_json::{json, Map, Value};
use uuid::Uuid;

use crate::backend::{call, Backend, Service};
use crate::config::AdminConfig;
use crate::error::AdminError;
use crate::steps::url_escape;
use tenant_shared::slug;

/// A page with usage is at most this long: it costs one audit query per tenant (subrequests).
pub const USAGE_PAGE_MAX: u32 = 25;
/// The audit trail answers at most this many entries per call.
const AUDIT_MAX: u32 = 200;

async fn rows(b: &dyn Backend, path: &str) -> Result<Vec<Value>, AdminError> {
    Ok(call(b, Service::Rest, "GET", path, None)
        .await?
        .as_array()
        .cloned()
        .unwrap_or_default())
}

fn id_list(ids: &[String]) -> String {
    format!("in.({})", ids.join(","))
}

/// `GET /admin/v1/tenants/:id/members`: `{members: [{user_id, email, role, created_at}],
/// invitations: [{id, email, role, created_at, expires_at}]}` (pending ones only: not accepted).
pub async fn members(b: &dyn Backend, id: Uuid) -> Result<Value, AdminError> {
    tenant_exists(b, id).await?;
    let members = rows(
        b,
        &format!(
            "/tenant_members?tenant_id=eq.{id}&select=user_id,role,created_at&order=created_at"
        ),
    )
    .await?;
    let user_ids: Vec<String> = members
        .iter()
        .filter_map(|m| m.get("user_id").and_then(Value::as_str))
        .filter(|u| Uuid::parse_str(u).is_ok())
        .map(String::from)
        .collect();
    let emails: Map<String, Value> = if user_ids.is_empty() {
        Map::new()
    } else {
        rows(
            b,
            &format!("/users?id={}&select=id,email", id_list(&user_ids)),
        )
        .await?
        .into_iter()
        .filter_map(|u| Some((u.get("id")?.as_str()?.to_string(), u.get("email")?.clone())))
        .collect()
    };
    let members: Vec<Value> = members
        .iter()
        .map(|m| {
            let uid = m.get("user_id").and_then(Value::as_str).unwrap_or_default();
            json!({"user_id": uid, "email": emails.get(uid), "role": m.get("role"), "created_at": m.get("created_at")})
        })
        .collect();
    let invitations = rows(
        b,
        &format!("/tenant_invitations?tenant_id=eq.{id}&accepted_at=is.null&select=id,email,role,created_at,expires_at&order=created_at"),
    )
    .await?;
    Ok(json!({"members": members, "invitations": invitations}))
}

async fn tenant_exists(b: &dyn Backend, id: Uuid) -> Result<(), AdminError> {
    if rows(b, &format!("/tenants?id=eq.{id}&select=id"))
        .await?
        .is_empty()
    {
        return Err(AdminError::NotFound);
    }
    Ok(())
}

/// `GET /admin/v1/tenants/:id/audit?limit=`: the lifecycle trail, newest first — every change to
/// the tenant's own row (created, suspended, resumed, deleted, purged, profile edits), with the
/// operator who made it. It outlives the tenant (a purged tenant's trail is still answered).
pub async fn audit(b: &dyn Backend, id: Uuid, query: Option<&str>) -> Result<Value, AdminError> {
    let mut limit = 50u32;
    for (k, v) in url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        match k.as_ref() {
            "limit" => {
                limit = v
                    .parse()
                    .ok()
                    .filter(|l| (1..=AUDIT_MAX).contains(l))
                    .ok_or_else(|| AdminError::InvalidBody(format!("limit is 1 to {AUDIT_MAX}")))?
            }
            _ => return Err(AdminError::InvalidBody(format!("unknown parameter {k}"))),
        }
    }
    let entries = rows(
        b,
        &format!("/audit_log?tenant_id=eq.{id}&table_name=eq.public.tenants&select=id,occurred_at,actor_id,action,old_data,new_data&order=occurred_at.desc,id.desc&limit={limit}"),
    )
    .await?;
    if entries.is_empty() {
        tenant_exists(b, id).await?;
    }
    let actors: Vec<String> = entries
        .iter()
        .filter_map(|e| e.get("actor_id").and_then(Value::as_str))
        .filter(|u| Uuid::parse_str(u).is_ok())
        .map(String::from)
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let emails: Map<String, Value> = if actors.is_empty() {
        Map::new()
    } else {
        rows(
            b,
            &format!("/users?id={}&select=id,email", id_list(&actors)),
        )
        .await?
        .into_iter()
        .filter_map(|u| Some((u.get("id")?.as_str()?.to_string(), u.get("email")?.clone())))
        .collect()
    };
    let out: Vec<Value> = entries
        .iter()
        .map(|e| {
            let actor = e.get("actor_id").and_then(Value::as_str);
            json!({
                "at": e.get("occurred_at"),
                "event": lifecycle_event(e),
                "actor_id": actor,
                "actor_email": actor.and_then(|a| emails.get(a)),
                "status": e.pointer("/new_data/status").or_else(|| e.pointer("/old_data/status")),
            })
        })
        .collect();
    Ok(json!({ "entries": out }))
}

/// What an audit entry of `public.tenants` records, in the operator's words.
pub fn lifecycle_event(e: &Value) -> &'static str {
    let status = |side: &str| {
        e.pointer(&format!("/{side}/status"))
            .and_then(Value::as_str)
    };
    match e.get("action").and_then(Value::as_str) {
        Some("INSERT") => "created",
        // The purge writes one DELETE entry marked purged (sql/020); a plain row delete is rarer.
        Some("DELETE") if e.pointer("/new_data/purged") == Some(&Value::Bool(true)) => "purged",
        Some("DELETE") => "removed",
        // delete_tenant sets the retention hold first, then the status (sql/020).
        Some("UPDATE")
            if e.pointer("/old_data/deleted_at").is_none_or(Value::is_null)
                && e.pointer("/new_data/deleted_at")
                    .is_some_and(|d| !d.is_null()) =>
        {
            "purge_scheduled"
        }
        Some("UPDATE") => match (status("old_data"), status("new_data")) {
            (Some(a), Some(b)) if a == b => "updated",
            (_, Some("suspended")) => "suspended",
            (Some("suspended"), Some("active")) => "resumed",
            (_, Some("deleted")) => "deleted",
            (_, Some("active")) => "restored",
            _ => "updated",
        },
        _ => "changed",
    }
}

/// The list's usage columns, added to each tenant row of a page: `plan` (`{id, name, max_users,
/// max_contacts}`), `usage` (`users` and `contacts`, each `{used, limit}`), `domains` (`[{hostname,
/// status, ssl_status}]`) and `last_activity` (the newest audit entry's time, or null).
pub async fn add_usage(b: &dyn Backend, tenants: &mut [Value]) -> Result<(), AdminError> {
    let ids: Vec<String> = tenants
        .iter()
        .filter_map(|t| t.get("id").and_then(Value::as_str))
        .filter(|u| Uuid::parse_str(u).is_ok())
        .map(String::from)
        .collect();
    if ids.is_empty() {
        return Ok(());
    }
    let ids_in = id_list(&ids);
    let subs = rows(
        b,
        &format!("/tenant_subscriptions?tenant_id={ids_in}&select=tenant_id,plan_id"),
    )
    .await?;
    let plan_ids: Vec<String> = subs
        .iter()
        .filter_map(|s| s.get("plan_id").and_then(Value::as_str))
        .map(url_escape)
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let plans = if plan_ids.is_empty() {
        Vec::new()
    } else {
        rows(
            b,
            &format!(
                "/subscription_plans?id={}&select=id,name,max_users,max_contacts",
                id_list(&plan_ids)
            ),
        )
        .await?
    };
    let count = |table: &'static str| {
        let path = format!("/{table}?tenant_id={ids_in}&select=tenant_id");
        async move {
            let mut n: std::collections::HashMap<String, u64> = Default::default();
            for r in rows(b, &path).await? {
                if let Some(t) = r.get("tenant_id").and_then(Value::as_str) {
                    *n.entry(t.to_string()).or_default() += 1;
                }
            }
            Ok::<_, AdminError>(n)
        }
    };
    let users = count("tenant_members").await?;
    let contacts = count("contacts").await?;
    let domains = rows(
        b,
        &format!("/tenant_domains?tenant_id={ids_in}&select=tenant_id,hostname,status,ssl_status&order=created_at"),
    )
    .await?;
    let latest = join_all(ids.iter().map(|id| async move {
        rows(
            b,
            &format!(
                "/audit_log?tenant_id=eq.{id}&select=occurred_at&order=occurred_at.desc&limit=1"
            ),
        )
        .await
        .map(|r| {
            (
                id.clone(),
                r.first().and_then(|e| e.get("occurred_at")).cloned(),
            )
        })
    }))
    .await;
    let mut last: std::collections::HashMap<String, Value> = Default::default();
    for r in latest {
        let (id, at) = r?;
        last.insert(id, at.unwrap_or(Value::Null));
    }
    for t in tenants.iter_mut() {
        let Some(id) = t.get("id").and_then(Value::as_str).map(String::from) else {
            continue;
        };
        let plan_id = subs
            .iter()
            .find(|s| s.get("tenant_id").and_then(Value::as_str) == Some(id.as_str()))
            .and_then(|s| s.get("plan_id"))
            .cloned();
        let plan = plans
            .iter()
            .find(|p| p.get("id") == plan_id.as_ref())
            .cloned()
            .unwrap_or(Value::Null);
        t["usage"] = json!({
            "users": {"used": users.get(&id).copied().unwrap_or(0), "limit": plan.get("max_users")},
            "contacts": {"used": contacts.get(&id).copied().unwrap_or(0), "limit": plan.get("max_contacts")},
        });
        t["plan"] = plan;
        t["domains"] = Value::Array(
            domains
                .iter()
                .filter(|d| d.get("tenant_id").and_then(Value::as_str) == Some(id.as_str()))
                .map(|d| json!({"hostname": d.get("hostname"), "status": d.get("status"), "ssl_status": d.get("ssl_status")}))
                .collect(),
        );
        t["last_activity"] = last.remove(&id).unwrap_or(Value::Null);
    }
    Ok(())
}

/// `GET /admin/v1/plans`: the plans a company can be on, cheapest first (the form's choices).
pub async fn plans(b: &dyn Backend) -> Result<Value, AdminError> {
    let plans = rows(
        b,
        "/subscription_plans?select=id,name,max_users,max_contacts,max_campaigns&order=price_cents,id",
    )
    .await?;
    Ok(json!({ "plans": plans }))
}

/// `GET /admin/v1/slug?name=<name>[&slug=<slug>]`: the slug the create route would use (the one
/// given, else the one suggested from the name), whether it is valid by crates/shared's rules
/// (`problem` says why not) and whether a tenant holds it already.
pub async fn slug_check(
    b: &dyn Backend,
    cfg: &AdminConfig,
    query: Option<&str>,
) -> Result<Value, AdminError> {
    let (mut name, mut given) = (None, None);
    for (k, v) in url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        match k.as_ref() {
            "name" => name = Some(v.to_string()),
            "slug" => given = Some(v.trim().to_string()),
            _ => return Err(AdminError::InvalidBody(format!("unknown parameter {k}"))),
        }
    }
    let candidate = match (given, name) {
        (Some(s), _) if !s.is_empty() => s,
        (_, Some(n)) => slug::suggest(n.trim()),
        _ => return Err(AdminError::InvalidBody("name or slug is required".into())),
    };
    if candidate.len() > 253 {
        return Err(AdminError::InvalidBody("slug too long".into()));
    }
    let problem = slug::validate(&candidate, &cfg.reserved_labels)
        .err()
        .map(|e| e.describe());
    let taken = if problem.is_none() {
        !rows(
            b,
            &format!("/tenants?slug=eq.{}&select=id", url_escape(&candidate)),
        )
        .await?
        .is_empty()
    } else {
        false
    };
    Ok(json!({
        "slug": candidate, "valid": problem.is_none(), "problem": problem, "taken": taken,
        "host": problem.is_none().then(|| cfg.slug_host(&candidate)),
    }))
}

#[cfg(test)]
mod tests {
    use super::lifecycle_event;
    use serde_json::json;

    #[test]
    fn audit_entries_of_the_tenant_row_read_as_lifecycle_events() {
        let u = |a: &str, b: &str| json!({"action": "UPDATE", "old_data": {"status": a}, "new_data": {"status": b}});
        assert_eq!(
            lifecycle_event(&json!({"action": "INSERT", "new_data": {"status": "active"}})),
            "created"
        );
        assert_eq!(lifecycle_event(&u("active", "suspended")), "suspended");
        assert_eq!(lifecycle_event(&u("suspended", "active")), "resumed");
        assert_eq!(lifecycle_event(&u("suspended", "deleted")), "deleted");
        assert_eq!(lifecycle_event(&u("active", "active")), "updated");
        assert_eq!(
            lifecycle_event(&json!({"action": "DELETE", "new_data": {"purged": true}})),
            "purged"
        );
        assert_eq!(lifecycle_event(&json!({"action": "DELETE"})), "removed");
        let hold = json!({"action": "UPDATE", "old_data": {"status": "active", "deleted_at": null},
                          "new_data": {"status": "active", "deleted_at": "2026-12-01T00:00:00Z"}});
        assert_eq!(lifecycle_event(&hold), "purge_scheduled");
    }
}
