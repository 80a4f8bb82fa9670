//! Runs one provisioning from its journal: claims its lease (one runner at a time; a runner cut off
//! loses it and the reconciler takes over), runs the steps not yet done in order, and on a failure
//! compensates every step that may have acted, newest first, then records the provisioning failed
//! with the cause. A compensation that itself fails leaves the provisioning `compensating`: the
//! reconciler retries it after the lease.

use serde_json::{json, Value};
use uuid::Uuid;

use crate::backend::{call, cause, rpc, Backend, Service};
use crate::config::AdminConfig;
use crate::error::AdminError;
use crate::request::CreateTenant;
use crate::steps;

/// Long enough for every step's few requests; short enough that the next cron tick takes over.
pub const LEASE_S: u32 = 60;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Another runner holds the lease, or the provisioning is finished.
    NotClaimed,
    Succeeded,
    Failed,
    /// A compensation failed; the reconciler will retry.
    Compensating,
}

async fn record(
    b: &dyn Backend,
    id: Uuid,
    step: &str,
    status: &str,
    error: Option<&str>,
    detail: Option<Value>,
) -> Result<(), AdminError> {
    rpc(b, "record_provisioning_step", json!({"p_id": id, "p_step": step, "p_status": status, "p_error": error, "p_detail": detail}))
        .await
        .map(|_| ())
}

async fn finish(
    b: &dyn Backend,
    id: Uuid,
    status: &str,
    error: Option<&str>,
) -> Result<(), AdminError> {
    rpc(
        b,
        "finish_provisioning",
        json!({"p_id": id, "p_status": status, "p_error": error}),
    )
    .await
    .map(|_| ())
}

pub async fn run(b: &dyn Backend, cfg: &AdminConfig, id: Uuid) -> Result<Outcome, AdminError> {
    let journal = rpc(
        b,
        "claim_provisioning",
        json!({"p_id": id, "p_lease_s": LEASE_S}),
    )
    .await?;
    if journal.is_null() {
        return Ok(Outcome::NotClaimed);
    }
    let rows = call(
        b,
        Service::Rest,
        "GET",
        &format!("/provisionings?id=eq.{id}&select=request,tenant_id"),
        None,
    )
    .await?;
    let row = rows.get(0).ok_or(AdminError::NotFound)?;
    let req: CreateTenant =
        serde_json::from_value(row.get("request").cloned().unwrap_or(Value::Null))
            .map_err(|e| AdminError::Misconfigured(format!("journal request unreadable: {e}")))?;
    let tenant = row
        .get("tenant_id")
        .and_then(Value::as_str)
        .and_then(|s| Uuid::parse_str(s).ok())
        .ok_or(AdminError::NotFound)?;
    let step_list: Vec<(String, String)> = journal
        .get("steps")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|s| (str_of(s, "name"), str_of(s, "status")))
                .collect()
        })
        .unwrap_or_default();

    if journal.get("status").and_then(Value::as_str) == Some("compensating") {
        // The cause is the failed step's error (the provisioning's own is written when it finishes).
        let err = journal
            .get("steps")
            .and_then(Value::as_array)
            .and_then(|a| {
                a.iter()
                    .filter_map(|s| s.get("error").and_then(Value::as_str))
                    .find(|e| !e.starts_with("undoing "))
            })
            .map(String::from);
        return compensate(
            b,
            cfg,
            id,
            tenant,
            &req,
            &step_list,
            err.as_deref().unwrap_or("compensation resumed"),
        )
        .await;
    }
    // The steps' statuses as this run changes them: a compensation must see what it did.
    let mut now = step_list;
    for i in 0..now.len() {
        let (name, status) = now[i].clone();
        if status == "done" || status == "skipped" {
            continue;
        }
        record(b, id, &name, "running", None, None).await?;
        now[i].1 = "running".into();
        match steps::run(b, cfg, &name, tenant, &req).await {
            Ok(detail) => {
                record(b, id, &name, "done", None, Some(detail)).await?;
                now[i].1 = "done".into();
            }
            Err(e) => {
                let why = format!("{name}: {}", cause(&e));
                record(b, id, &name, "failed", Some(&why), None).await?;
                now[i].1 = "failed".into();
                return compensate(b, cfg, id, tenant, &req, &now, &why).await;
            }
        }
    }
    finish(b, id, "succeeded", None).await?;
    Ok(Outcome::Succeeded)
}

async fn compensate(
    b: &dyn Backend,
    cfg: &AdminConfig,
    id: Uuid,
    tenant: Uuid,
    req: &CreateTenant,
    step_list: &[(String, String)],
    why: &str,
) -> Result<Outcome, AdminError> {
    for (name, status) in step_list.iter().rev() {
        // A step that never started did nothing; every other one may have acted, even a failed one
        // whose answer was lost.
        if status == "pending" || status == "compensated" || status == "skipped" {
            continue;
        }
        // The failed step keeps its cause through its compensation (record_provisioning_step writes
        // the error it is given).
        let cause_kept = why.starts_with(&format!("{name}: ")).then_some(why);
        record(b, id, name, "compensating", cause_kept, None).await?;
        if let Err(e) = steps::undo(b, cfg, name, tenant, req).await {
            let msg = format!("undoing {name}: {}", cause(&e));
            record(b, id, name, "compensating", Some(&msg), None).await?;
            return Ok(Outcome::Compensating);
        }
        record(b, id, name, "compensated", cause_kept, None).await?;
    }
    finish(b, id, "failed", Some(why)).await?;
    Ok(Outcome::Failed)
}

/// The reconciler: every provisioning not finished (the lease decides whether it is stuck). One
/// that cannot run now (a backend down) does not hold up the others: its error is in the list and
/// its lease lets the next tick retry it.
pub async fn reconcile(
    b: &dyn Backend,
    cfg: &AdminConfig,
) -> Result<Vec<(Uuid, Result<Outcome, AdminError>)>, AdminError> {
    let rows = call(b, Service::Rest, "GET", "/provisionings?status=in.(pending,running,compensating)&select=id&order=created_at&limit=50", None).await?;
    let mut out = Vec::new();
    for id in rows
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r.get("id").and_then(Value::as_str))
        .filter_map(|s| Uuid::parse_str(s).ok())
    {
        out.push((id, run(b, cfg, id).await));
    }
    Ok(out)
}

fn str_of(v: &Value, k: &str) -> String {
    v.get(k)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}
