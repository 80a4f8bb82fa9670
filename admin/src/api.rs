//! The admin API's routes, over a plain request: the edge converts workerd's request into an
//! [`ApiRequest`] and the answer back, and runs [`Answer::then_run`] after answering
//! (`ctx.waitUntil`).

use serde_json::{json, Value};
use uuid::Uuid;

use crate::authz;
use crate::backend::{call, rpc, Backend, Service};
use crate::config::AdminConfig;
use crate::console_api;
use crate::domain_change;
use crate::error::AdminError;
use crate::lifecycle;
use crate::metrics;
use crate::probe;
use crate::request::{self, CreateTenant};
use crate::steps;

pub const MAX_BODY: usize = 64 * 1024;

pub struct ApiRequest<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub query: Option<&'a str>,
    pub authorization: Option<&'a str>,
    pub idempotency_key: Option<&'a str>,
    pub body: &'a [u8],
}

#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
    /// A provisioning to run once the answer is out.
    pub then_run: Option<Uuid>,
}

impl Answer {
    fn ok(status: u16, body: Value) -> Self {
        Answer {
            status,
            body,
            then_run: None,
        }
    }
}

pub async fn handle(b: &dyn Backend, cfg: &AdminConfig, r: &ApiRequest<'_>) -> Answer {
    match route(b, cfg, r).await {
        Ok(a) => a,
        Err(e) => Answer::ok(e.status(), e.body()),
    }
}

async fn route(
    b: &dyn Backend,
    cfg: &AdminConfig,
    r: &ApiRequest<'_>,
) -> Result<Answer, AdminError> {
    let segs: Vec<&str> = r.path.trim_end_matches('/').split('/').skip(1).collect();
    let known = matches!(
        segs.as_slice(),
        ["admin", "v1", "tenants"]
            | ["admin", "v1", "tenants", _]
            | [
                "admin",
                "v1",
                "tenants",
                _,
                "suspend" | "resume" | "purge" | "probe-users"
            ]
            | ["admin", "v1", "provisionings", _]
            | ["admin", "v1", "tenants", _, "metrics"]
            | ["admin", "v1", "metrics", "top"]
            | ["admin", "v1", "tenants", _, "members" | "audit"]
            | ["admin", "v1", "slug" | "plans"]
    );
    if !known {
        return Err(AdminError::NotFound);
    }
    let actor = authz::authorise(b, cfg, r.authorization).await?;
    match (r.method, segs.as_slice()) {
        ("POST", ["admin", "v1", "tenants"]) => create(b, cfg, r, actor).await,
        ("GET", ["admin", "v1", "tenants"]) => list(b, r.query).await,
        ("GET", ["admin", "v1", "tenants", id]) => show(b, cfg, parse_id(id)?).await,
        ("PATCH", ["admin", "v1", "tenants", id]) => {
            let id = parse_id(id)?;
            if r.body.len() > MAX_BODY {
                return Err(AdminError::InvalidBody(format!(
                    "body larger than {MAX_BODY} bytes"
                )));
            }
            domain_change::patch(b, cfg, id, r.body).await?;
            show(b, cfg, id).await
        }
        ("GET", ["admin", "v1", "provisionings", id]) => provisioning(b, parse_id(id)?).await,
        ("GET", ["admin", "v1", "tenants", id, "metrics"]) => {
            let m = metrics::tenant(b, cfg, parse_id(id)?, r.query).await?;
            Ok(Answer::ok(200, m))
        }
        ("GET", ["admin", "v1", "metrics", "top"]) => {
            Ok(Answer::ok(200, metrics::top(b, cfg, r.query).await?))
        }
        ("GET", ["admin", "v1", "tenants", id, "members"]) => Ok(Answer::ok(
            200,
            console_api::members(b, parse_id(id)?).await?,
        )),
        ("GET", ["admin", "v1", "tenants", id, "audit"]) => Ok(Answer::ok(
            200,
            console_api::audit(b, parse_id(id)?, r.query).await?,
        )),
        ("GET", ["admin", "v1", "plans"]) => Ok(Answer::ok(200, console_api::plans(b).await?)),
        ("GET", ["admin", "v1", "slug"]) => Ok(Answer::ok(
            200,
            console_api::slug_check(b, cfg, r.query).await?,
        )),
        ("DELETE", ["admin", "v1", "tenants", id]) => {
            let t = lifecycle::delete(b, parse_id(id)?, actor).await?;
            Ok(Answer::ok(200, t))
        }
        ("POST", ["admin", "v1", "tenants", id, "probe-users"]) => {
            Ok(Answer::ok(201, probe::create_user(b, parse_id(id)?).await?))
        }
        ("POST", ["admin", "v1", "tenants", id, action]) => {
            let id = parse_id(id)?;
            let t = match *action {
                "suspend" => lifecycle::suspend(b, id, actor).await?,
                "resume" => lifecycle::resume(b, id, actor).await?,
                _ if r.body.len() > MAX_BODY => {
                    return Err(AdminError::InvalidBody(format!(
                        "body larger than {MAX_BODY} bytes"
                    )))
                }
                "purge" => {
                    let over = lifecycle::parse_purge(r.body)?;
                    lifecycle::purge(b, cfg, id, actor, over).await?
                }
                // Named, never a default: a POST to any other known segment (e.g. `metrics`) is 405.
                _ => return Err(AdminError::MethodNotAllowed),
            };
            Ok(Answer::ok(200, t))
        }
        _ => Err(AdminError::MethodNotAllowed),
    }
}

fn parse_id(s: &str) -> Result<Uuid, AdminError> {
    Uuid::parse_str(s).map_err(|_| AdminError::NotFound)
}

async fn create(
    b: &dyn Backend,
    cfg: &AdminConfig,
    r: &ApiRequest<'_>,
    actor: Uuid,
) -> Result<Answer, AdminError> {
    let key = r
        .idempotency_key
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .ok_or(AdminError::MissingIdempotencyKey)?;
    if key.len() > 255 {
        return Err(AdminError::InvalidBody(
            "Idempotency-Key is at most 255 characters".into(),
        ));
    }
    if r.body.len() > MAX_BODY {
        return Err(AdminError::InvalidBody(format!(
            "body larger than {MAX_BODY} bytes"
        )));
    }
    let req = request::parse_create(r.body, &cfg.reserved_labels)?;
    // A retry with the same key answers the first provisioning, whatever became of the slug since.
    let earlier = call(
        b,
        Service::Rest,
        "GET",
        &format!(
            "/provisionings?idempotency_key=eq.{}&select=id",
            steps::url_escape(key)
        ),
        None,
    )
    .await?;
    if earlier.as_array().is_none_or(Vec::is_empty) {
        slug_free(b, &req).await?;
    }
    let journal = rpc(b, "start_provisioning", json!({
        "p_idempotency_key": key, "p_request": req, "p_steps": steps::array_literal(&steps::plan(&req)), "p_actor": actor,
    }))
    .await?;
    let id = journal
        .get("id")
        .and_then(Value::as_str)
        .and_then(|s| Uuid::parse_str(s).ok())
        .ok_or_else(|| AdminError::Unavailable("start_provisioning answered no id".into()))?;
    let unfinished = !matches!(
        journal.get("status").and_then(Value::as_str),
        Some("succeeded" | "failed")
    );
    Ok(Answer {
        status: 202,
        body: json!({"provisioning": public_journal(&journal), "tenant": tenant_summary(&journal, &req, cfg)}),
        then_run: unfinished.then_some(id),
    })
}

/// 409 when a tenant or an unfinished provisioning holds the slug. Two creates racing past this
/// check meet the unique index in `provision_tenant`: the second's provisioning fails, compensated,
/// with that cause.
async fn slug_free(b: &dyn Backend, req: &CreateTenant) -> Result<(), AdminError> {
    let s = steps::url_escape(&req.slug);
    let tenants = call(
        b,
        Service::Rest,
        "GET",
        &format!("/tenants?slug=eq.{s}&select=id"),
        None,
    )
    .await?;
    // Unfinished provisionings are few (each finishes within a lease or two), so they are read whole.
    let pending = call(
        b,
        Service::Rest,
        "GET",
        "/provisionings?status=in.(pending,running,compensating)&select=request",
        None,
    )
    .await?;
    let held = pending
        .as_array()
        .into_iter()
        .flatten()
        .any(|p| p.pointer("/request/slug").and_then(Value::as_str) == Some(req.slug.as_str()));
    if tenants.as_array().is_some_and(|a| !a.is_empty()) || held {
        return Err(AdminError::SlugTaken(req.slug.clone()));
    }
    Ok(())
}

fn public_journal(j: &Value) -> Value {
    let steps: Vec<Value> = j.get("steps").and_then(Value::as_array).into_iter().flatten()
        .map(|s| json!({"name": s.get("name"), "status": s.get("status"), "error": s.get("error"), "at": s.get("at")}))
        .collect();
    json!({"id": j.get("id"), "status": j.get("status"), "error": j.get("error"), "tenant_id": j.get("tenant_id"), "steps": steps})
}

fn tenant_summary(j: &Value, req: &CreateTenant, cfg: &AdminConfig) -> Value {
    json!({"id": j.get("tenant_id"), "slug": req.slug, "name": req.name, "plan": req.plan,
           "host": cfg.slug_host(&req.slug), "custom_domain": req.custom_domain})
}

async fn provisioning(b: &dyn Backend, id: Uuid) -> Result<Answer, AdminError> {
    let rows = call(
        b,
        Service::Rest,
        "GET",
        &format!("/provisionings?id=eq.{id}&select=id,tenant_id,status,error"),
        None,
    )
    .await?;
    let mut row = rows.get(0).cloned().ok_or(AdminError::NotFound)?;
    let steps = call(b, Service::Rest, "GET", &format!("/provisioning_steps?provisioning_id=eq.{id}&select=name,status,error,updated_at&order=ord"), None).await?;
    let steps: Vec<Value> = steps.as_array().into_iter().flatten()
        .map(|s| json!({"name": s.get("name"), "status": s.get("status"), "error": s.get("error"), "at": s.get("updated_at")}))
        .collect();
    row["steps"] = Value::Array(steps);
    Ok(Answer::ok(200, public_journal(&row)))
}

const TENANT_SELECT: &str =
    "id,slug,name,status,custom_domain,signup,branding,created_at,deleted_at,purge_after";

async fn list(b: &dyn Backend, query: Option<&str>) -> Result<Answer, AdminError> {
    let (mut status, mut q, mut limit, mut cursor, mut usage) = (None, None, None, None, false);
    for (k, v) in url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        match k.as_ref() {
            "include" if v == "usage" => usage = true,
            "status" if ["active", "suspended", "deleted"].contains(&v.as_ref()) => {
                status = Some(v.to_string())
            }
            "status" => {
                return Err(AdminError::InvalidBody(
                    "status is active, suspended or deleted".into(),
                ))
            }
            "q" => q = Some(v.to_string()),
            "limit" => {
                limit = Some(
                    v.parse()
                        .ok()
                        .filter(|l| (1..=200).contains(l))
                        .ok_or_else(|| AdminError::InvalidBody("limit is 1 to 200".into()))?,
                )
            }
            // The cursor is the last slug of the previous page (slugs are unique and ordered).
            "cursor" => cursor = Some(v.to_string()),
            _ => return Err(AdminError::InvalidBody(format!("unknown parameter {k}"))),
        }
    }
    // With usage, a page is shorter by default (each tenant costs subrequests).
    let limit = limit.unwrap_or(if usage {
        console_api::USAGE_PAGE_MAX
    } else {
        50
    });
    if usage && limit > console_api::USAGE_PAGE_MAX {
        return Err(AdminError::InvalidBody(format!(
            "with include=usage, limit is at most {}",
            console_api::USAGE_PAGE_MAX
        )));
    }
    let mut path = format!(
        "/tenants?select={TENANT_SELECT}&order=slug&limit={}",
        limit + 1
    );
    if let Some(s) = status {
        path.push_str(&format!("&status=eq.{s}"));
    }
    if let Some(q) = q {
        let q: String = q
            .chars()
            .filter(|c| c.is_alphanumeric() || *c == '-' || *c == ' ')
            .collect();
        let q = steps::url_escape(&format!("*{q}*"));
        path.push_str(&format!("&name=ilike.{q}"));
    }
    if let Some(c) = cursor {
        path.push_str(&format!("&slug=gt.{}", steps::url_escape(&c)));
    }
    let mut rows: Vec<Value> = call(b, Service::Rest, "GET", &path, None)
        .await?
        .as_array()
        .cloned()
        .unwrap_or_default();
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    if usage {
        console_api::add_usage(b, &mut rows).await?;
    }
    let next = if more {
        rows.last().and_then(|r| r.get("slug")).cloned()
    } else {
        None
    };
    Ok(Answer::ok(
        200,
        json!({"tenants": rows, "next_cursor": next}),
    ))
}

async fn show(b: &dyn Backend, cfg: &AdminConfig, id: Uuid) -> Result<Answer, AdminError> {
    // Each hostname refreshed from Cloudflare first (a replacement that went active is promoted).
    domain_change::refresh(b, cfg, id).await?;
    let rows = call(
        b,
        Service::Rest,
        "GET",
        &format!("/tenants?id=eq.{id}&select={TENANT_SELECT}"),
        None,
    )
    .await?;
    let mut t = rows.get(0).cloned().ok_or(AdminError::NotFound)?;
    let sub = call(
        b,
        Service::Rest,
        "GET",
        &format!("/tenant_subscriptions?tenant_id=eq.{id}&select=plan_id,status"),
        None,
    )
    .await?;
    let plan_id = sub
        .pointer("/0/plan_id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let plans = call(
        b,
        Service::Rest,
        "GET",
        &format!(
            "/subscription_plans?id=eq.{}&select=id,name,max_users,max_contacts,max_campaigns",
            steps::url_escape(&plan_id)
        ),
        None,
    )
    .await?;
    let plan = plans.get(0).cloned().unwrap_or(Value::Null);
    t["subscription_status"] = sub.pointer("/0/status").cloned().unwrap_or(Value::Null);
    let count = |table: &'static str| async move {
        call(
            b,
            Service::Rest,
            "GET",
            &format!("/{table}?tenant_id=eq.{id}&select=tenant_id"),
            None,
        )
        .await
        .map(|v| v.as_array().map_or(0, Vec::len))
    };
    let members = count("tenant_members").await?;
    let contacts = count("contacts").await?;
    let campaigns = count("campaigns").await?;
    t["usage"] = json!({
        "users": {"used": members, "limit": plan.get("max_users")},
        "contacts": {"used": contacts, "limit": plan.get("max_contacts")},
        "campaigns": {"used": campaigns, "limit": plan.get("max_campaigns")},
    });
    t["member_count"] = json!(members);
    t["plan"] = plan;
    let domains = call(b, Service::Rest, "GET", &format!("/tenant_domains?tenant_id=eq.{id}&select=hostname,status,ssl_status,verification,cloudflare_id&order=created_at"), None).await?;
    let hostnames = domains.as_array().cloned().unwrap_or_default();
    t["hostnames"] = Value::Array(hostnames);
    Ok(Answer::ok(200, t))
}
