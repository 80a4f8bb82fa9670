//! What the admin core asks of the outside world: one HTTP exchange with the project's REST API,
//! its Auth API or Cloudflare's API. The edge sends it with workerd's fetch and the right
//! credentials; the core builds every path and reads every answer, so all of that is tested natively.

use futures::future::LocalBoxFuture;
use serde_json::Value;

use crate::error::AdminError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    /// `<SUPABASE_URL>/rest/v1`, as the service role.
    Rest,
    /// `<SUPABASE_URL>/auth/v1`, as the service role.
    Auth,
    /// `<CLOUDFLARE_API_URL>`, with the API token.
    Cloudflare,
    /// `<SUPABASE_URL>/storage/v1`, as the service role (a purge deletes a tenant's objects there:
    /// deleting `storage.objects` rows in SQL would orphan the files).
    Storage,
    /// `<CLOUDFLARE_API_URL>` with `ANALYTICS_API_TOKEN`: Workers Analytics Engine's SQL API. The
    /// body is a JSON string, sent as the raw SQL text.
    Analytics,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub status: u16,
    pub body: Value,
}

pub trait Backend {
    /// `Err` only when nothing usable came back (network, unreadable body); any status is an `Ok`.
    fn send<'a>(
        &'a self,
        service: Service,
        method: &'a str,
        path: &'a str,
        body: Option<Value>,
    ) -> LocalBoxFuture<'a, Result<Reply, String>>;

    fn now_s(&self) -> f64;
}

/// The 2xx body, or the failure as the caller should see it.
pub async fn call(
    b: &dyn Backend,
    service: Service,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> Result<Value, AdminError> {
    let r = b
        .send(service, method, path, body)
        .await
        .map_err(AdminError::Unavailable)?;
    if (200..300).contains(&r.status) {
        Ok(r.body)
    } else {
        Err(AdminError::Upstream {
            status: r.status,
            body: r.body,
        })
    }
}

/// A PostgREST rpc (POST /rest/v1/rpc/<name>).
pub async fn rpc(b: &dyn Backend, name: &str, args: Value) -> Result<Value, AdminError> {
    call(
        b,
        Service::Rest,
        "POST",
        &format!("/rpc/{name}"),
        Some(args),
    )
    .await
}

/// A failure in words for the journal: the backend's own message first.
pub fn cause(e: &AdminError) -> String {
    match e {
        AdminError::Upstream { status, body } => {
            let msg = body
                .get("message")
                .or_else(|| body.get("msg"))
                .or_else(|| body.pointer("/errors/0/message"))
                .and_then(Value::as_str)
                .unwrap_or("error");
            let code = body
                .get("code")
                .or_else(|| body.get("error_code"))
                .or_else(|| body.pointer("/errors/0/code"))
                .map(|c| c.to_string().trim_matches('"').to_string())
                .unwrap_or_default();
            format!("{status} {code}: {msg}")
        }
        other => format!("{other:?}"),
    }
}
