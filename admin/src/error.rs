//! Every failure the admin service answers, and the one place that renders it: PostgREST's
//! `{code, message, details, hint}` (the shared crate's shape), so supabase-js and the CLI read
//! them alike.

use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
pub enum AdminError {
    Unauthorized(String),
    Forbidden(String),
    InvalidBody(String),
    /// A query parameter out of its bounds (the metrics routes).
    InvalidQuery(String),
    MissingIdempotencyKey,
    SlugTaken(String),
    Conflict(String),
    NotFound,
    MethodNotAllowed,
    /// A backend (database, Auth, Cloudflare) answered with an error we pass on: its status and body.
    Upstream {
        status: u16,
        body: Value,
    },
    /// A backend could not be reached or answered something unreadable.
    Unavailable(String),
    Misconfigured(String),
    /// Workers Analytics Engine's SQL API failed or answered something unreadable.
    AnalyticsUnavailable(String),
}

impl AdminError {
    pub fn status(&self) -> u16 {
        use AdminError::*;
        match self {
            Unauthorized(_) => 401,
            Forbidden(_) => 403,
            InvalidBody(_) | InvalidQuery(_) | MissingIdempotencyKey => 400,
            SlugTaken(_) | Conflict(_) => 409,
            NotFound => 404,
            MethodNotAllowed => 405,
            // A backend's 5xx is ours to report as unavailable; its 4xx is the caller's.
            Upstream { status, .. } if (400..500).contains(status) => *status,
            Upstream { .. } | Unavailable(_) => 503,
            Misconfigured(_) => 500,
            AnalyticsUnavailable(_) => 502,
        }
    }

    /// The single place where an `AdminError` becomes a body.
    pub fn body(&self) -> Value {
        use tenant_shared::pg_error::body;
        use AdminError::*;
        match self {
            Unauthorized(d) => body(
                "invalid_token",
                "Invalid or missing admin token",
                Some(d),
                Some("Sign in with MFA as a platform administrator."),
            ),
            Forbidden(d) => body(
                "not_platform_admin",
                "Not allowed",
                Some(d),
                Some("Platform administrators sign in with MFA (aal2)."),
            ),
            InvalidBody(d) => body("invalid_body", "Invalid request body", Some(d), None),
            InvalidQuery(d) => body(
                "invalid_parameter",
                "Invalid query parameter",
                Some(d),
                None,
            ),
            MissingIdempotencyKey => body(
                "idempotency_key_required",
                "An Idempotency-Key header is required",
                None,
                Some("Send a unique key per company; retry with the same key."),
            ),
            SlugTaken(s) => body(
                "slug_taken",
                "This slug is taken",
                Some(s),
                Some("Choose another slug."),
            ),
            Conflict(d) => body("conflict", "Conflict", Some(d), None),
            NotFound => body("not_found", "Not found", None, None),
            MethodNotAllowed => body("method_not_allowed", "Method not allowed", None, None),
            Upstream { body: b, .. } if b.get("message").is_some() => {
                tenant_shared::pg_error::body(
                    b.get("code")
                        .and_then(Value::as_str)
                        .unwrap_or("upstream_error"),
                    b.get("message")
                        .and_then(Value::as_str)
                        .unwrap_or("Upstream error"),
                    b.get("details").and_then(Value::as_str),
                    b.get("hint").and_then(Value::as_str),
                )
            }
            // Cloudflare's envelope: {success: false, errors: [{code, message}]}.
            Upstream { body: b, .. } if b.pointer("/errors/0/message").is_some() => {
                tenant_shared::pg_error::body(
                    &format!(
                        "cloudflare_{}",
                        b.pointer("/errors/0/code")
                            .map(Value::to_string)
                            .unwrap_or_default()
                    ),
                    b.pointer("/errors/0/message")
                        .and_then(Value::as_str)
                        .unwrap_or("Cloudflare error"),
                    None,
                    None,
                )
            }
            Upstream { status, .. } => body(
                "upstream_error",
                "A backend refused the request",
                Some(&format!("status {status}")),
                None,
            ),
            Unavailable(d) => body(
                "backend_unavailable",
                "A backend is unavailable",
                Some(d),
                Some("Retry shortly."),
            ),
            AnalyticsUnavailable(d) => body(
                "analytics_unavailable",
                "Workers Analytics Engine is unavailable",
                Some(d),
                Some("Retry shortly; the router keeps writing."),
            ),
            Misconfigured(d) => body(
                "admin_misconfigured",
                "The admin service is misconfigured",
                Some(d),
                None,
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::AdminError;
    use serde_json::json;

    #[test]
    fn backend_client_errors_pass_through_server_errors_become_503() {
        let e = AdminError::Upstream {
            status: 422,
            body: json!({"code": "PT422", "message": "m", "details": null, "hint": "h"}),
        };
        assert_eq!(
            (e.status(), e.body()["code"].clone()),
            (422, json!("PT422"))
        );
        let e = AdminError::Upstream {
            status: 500,
            body: json!("oops"),
        };
        assert_eq!(
            (e.status(), e.body()["code"].clone()),
            (503, json!("upstream_error"))
        );
    }

    #[test]
    fn every_body_has_the_postgrest_shape() {
        for e in [
            AdminError::NotFound,
            AdminError::MissingIdempotencyKey,
            AdminError::Unauthorized("x".into()),
        ] {
            let b = e.body();
            for k in ["code", "message", "details", "hint"] {
                assert!(b.get(k).is_some(), "{k} in {b}");
            }
        }
    }
}
