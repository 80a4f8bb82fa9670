//! Every failure the router itself produces, and the one place that turns it into a response
//! ([`RouterError::reply`]: JSON in PostgREST's shape, or a page for a person; CORS for a caller
//! allowed to read it). The edge only copies the reply out.
//!
//! Bodies use PostgREST's error shape so supabase-js surfaces them like any Supabase error; on
//! `/auth/v1` paths the body also carries `error_code` and `msg`, which is what the auth client reads.

use serde_json::{json, Value};
use thiserror::Error;

use crate::reply::Reply;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RouterError {
    #[error("router misconfigured: {var}: {reason}")]
    Misconfigured { var: &'static str, reason: String },
    #[error("invalid host: {0}")]
    InvalidHost(String),
    #[error("no tenant is served on this host")]
    NoTenantForHost,
    #[error("no tenant for this host")]
    TenantNotFound,
    #[error("tenant is suspended")]
    TenantSuspended,
    #[error("tenant directory unavailable: {0}")]
    DirectoryUnavailable(String),
    #[error("invalid token: {0}")]
    InvalidToken(String),
    #[error("service_role credentials are not accepted on tenant hosts")]
    ServiceRoleForbidden,
    #[error("the token does not belong to this tenant")]
    TenantMismatch,
    #[error("invalid body: {0}")]
    InvalidBody(String),
    #[error("body larger than {limit} bytes")]
    BodyTooLarge { limit: usize },
    #[error("sign-up is closed on this tenant")]
    SignupClosed,
    /// An `/auth/v1` path spelled so that a router or gateway upstream might read it as another.
    #[error("path not in canonical form: {0}")]
    InvalidPath(String),
    /// Two credentials where Supabase reads one (`apikey` twice, in the header and the query).
    #[error("ambiguous credentials: {0}")]
    AmbiguousCredentials(String),
    /// `Upgrade: websocket` on a method other than GET, or with a body (RFC 6455 §4.1).
    #[error("a WebSocket upgrade must be a GET request without a body")]
    UpgradeNotGet,
    #[error("tenant placement unavailable: {0}")]
    PlacementUnavailable(String),
    /// A signed return that is malformed, tampered with, expired, signed by an unknown key, or
    /// aimed off the signed tenant's hosts: an error page, never a redirect.
    #[error("invalid auth return: {0}")]
    InvalidReturn(String),
    /// A confirm link with missing, repeated or malformed parameters.
    #[error("invalid confirmation link: {0}")]
    InvalidConfirmation(String),
    /// Auth refused the token hash (expired, used, unknown).
    #[error("the link is invalid or has expired")]
    ConfirmationFailed(String),
    #[error("not found")]
    NotFound,
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("upstream unreachable: {0}")]
    UpstreamUnreachable(String),
    #[error("upstream did not answer within {0} ms")]
    UpstreamTimeout(u64),
    /// The runtime refused to build a response object: nothing a request contains leads here.
    #[error("the router could not build its response")]
    ResponseBuildFailed,
}

/// A rendered error: status, extra headers and a JSON body. The adapter only copies it out.
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorResponse {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: Value,
}

impl RouterError {
    pub fn code(&self) -> &'static str {
        use RouterError::*;
        match self {
            Misconfigured { .. } => "router_misconfigured",
            InvalidHost(_) => "invalid_host",
            NoTenantForHost => "no_tenant_for_host",
            TenantNotFound => "tenant_not_found",
            TenantSuspended => "tenant_suspended",
            DirectoryUnavailable(_) => "directory_unavailable",
            InvalidToken(_) => "invalid_token",
            ServiceRoleForbidden => "service_role_forbidden",
            TenantMismatch => "tenant_mismatch",
            InvalidBody(_) => "invalid_body",
            BodyTooLarge { .. } => "body_too_large",
            SignupClosed => "signup_closed",
            InvalidPath(_) => "invalid_path",
            AmbiguousCredentials(_) => "ambiguous_credentials",
            UpgradeNotGet => "invalid_upgrade",
            PlacementUnavailable(_) => "placement_unavailable",
            InvalidReturn(_) => "invalid_return",
            InvalidConfirmation(_) => "invalid_confirmation",
            ConfirmationFailed(_) => "confirmation_failed",
            NotFound => "not_found",
            MethodNotAllowed => "method_not_allowed",
            UpstreamUnreachable(_) => "upstream_unreachable",
            UpstreamTimeout(_) => "upstream_timeout",
            ResponseBuildFailed => "router_internal",
        }
    }

    pub fn status(&self) -> u16 {
        use RouterError::*;
        match self {
            Misconfigured { .. } | ResponseBuildFailed => 500,
            InvalidHost(_)
            | InvalidBody(_)
            | InvalidPath(_)
            | AmbiguousCredentials(_)
            | UpgradeNotGet
            | InvalidReturn(_)
            | InvalidConfirmation(_) => 400,
            InvalidToken(_) => 401,
            TenantSuspended
            | ServiceRoleForbidden
            | TenantMismatch
            | SignupClosed
            | ConfirmationFailed(_) => 403,
            NoTenantForHost | TenantNotFound | NotFound => 404,
            MethodNotAllowed => 405,
            BodyTooLarge { .. } => 413,
            UpstreamUnreachable(_) => 502,
            DirectoryUnavailable(_) | PlacementUnavailable(_) => 503,
            UpstreamTimeout(_) => 504,
        }
    }

    fn hint(&self) -> Option<&'static str> {
        use RouterError::*;
        match self {
            Misconfigured { .. } => {
                Some("Check the Worker's vars and secrets (wrangler.toml, wrangler secret put).")
            }
            InvalidToken(_) => Some("Sign in again to obtain a fresh access token."),
            TenantMismatch => Some("Sign in on this tenant's domain."),
            SignupClosed => Some("Ask an administrator of this tenant for an invitation."),
            InvalidPath(_) => Some("Send the path as supabase-js does: no %-escapes, `;` or `//`."),
            AmbiguousCredentials(_) => Some("Send one apikey and one Authorization header."),
            DirectoryUnavailable(_) => Some("Retry shortly."),
            InvalidReturn(_) | InvalidConfirmation(_) | ConfirmationFailed(_) => {
                Some("Start again from the sign-in page of your own site.")
            }
            ResponseBuildFailed => Some("Retry the request."),
            _ => None,
        }
    }

    /// Details are for operators and clients alike, so they never echo secrets or tokens.
    fn details(&self) -> Option<String> {
        use RouterError::*;
        match self {
            Misconfigured { reason, .. } => Some(reason.clone()),
            InvalidHost(d)
            | InvalidToken(d)
            | InvalidBody(d)
            | InvalidPath(d)
            | AmbiguousCredentials(d)
            | DirectoryUnavailable(d)
            | PlacementUnavailable(d)
            | InvalidReturn(d)
            | InvalidConfirmation(d)
            | ConfirmationFailed(d)
            | UpstreamUnreachable(d) => Some(d.clone()),
            _ => None,
        }
    }

    fn message(&self) -> String {
        use RouterError::*;
        match self {
            Misconfigured { var, .. } => format!("Router misconfigured: {var}"),
            InvalidHost(_) => "Invalid Host header".into(),
            NoTenantForHost => "No tenant is served on this host".into(),
            TenantNotFound => "No tenant found for this host".into(),
            TenantSuspended => "This tenant is suspended".into(),
            DirectoryUnavailable(_) => "Tenant directory unavailable".into(),
            InvalidToken(_) => "Invalid or expired access token".into(),
            other => {
                let s = other.to_string();
                let mut c = s.chars();
                match c.next() {
                    Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
                    None => s,
                }
            }
        }
    }

    /// The error's status, extra headers and JSON body; [`RouterError::reply`] makes the reply.
    pub fn to_response(&self, path: &str) -> ErrorResponse {
        let code = self.code();
        let message = self.message();
        let details = self.details();
        let mut body =
            tenant_shared::pg_error::body(code, &message, details.as_deref(), self.hint());
        if path == "/auth/v1" || path.starts_with("/auth/v1/") {
            body["error_code"] = json!(code);
            body["msg"] = json!(message);
        }
        let mut headers = vec![(
            "content-type",
            "application/json; charset=utf-8".to_string(),
        )];
        match self {
            RouterError::InvalidToken(_) => headers.push((
                "www-authenticate",
                "Bearer error=\"invalid_token\", error_description=\"invalid or expired access token\""
                    .to_string(),
            )),
            RouterError::DirectoryUnavailable(_) => headers.push(("retry-after", "5".into())),
            RouterError::MethodNotAllowed => headers.push(("allow", crate::route::METHODS_HEADER.into())),
            _ => {}
        }
        ErrorResponse {
            status: self.status(),
            headers,
            body,
        }
    }
}

impl RouterError {
    /// The reply for this error on `path`: a page when a person's browser asked for one
    /// (`html`), with CORS for `cors_origin` (an origin allowed to read our answers). Also
    /// what answers before any router exists (bad configuration, an unparseable request).
    pub fn reply(&self, path: &str, html: bool, cors_origin: Option<&str>) -> Reply {
        let r = self.to_response(path);
        let mut headers: Vec<(String, String)> = r
            .headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        headers.push(("cache-control".into(), "no-store".into()));
        let body = if html {
            for (k, v) in headers.iter_mut() {
                if k == "content-type" {
                    *v = "text/html; charset=utf-8".into();
                }
            }
            html_page(&r).into_bytes()
        } else {
            r.body.to_string().into_bytes()
        };
        if let Some(o) = cors_origin {
            headers.extend(crate::cors::allow_origin_headers(o));
        }
        Reply {
            status: r.status,
            headers,
            body,
        }
    }
}

/// The same error as a small HTML page, for a person who followed a link (`Accept: text/html`).
pub fn html_page(r: &ErrorResponse) -> String {
    let field = |k: &str| tenant_shared::html::escape(r.body[k].as_str().unwrap_or(""));
    format!(
        "<!doctype html><meta charset=utf-8><meta name=robots content=noindex><title>{m}</title>\
         <h1>{m}</h1><p>{h}</p><p><small>{c}: {d}</small></p>",
        m = field("message"),
        h = field("hint"),
        c = field("code"),
        d = field("details"),
    )
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn the_html_page_escapes_what_it_shows() {
        let r = RouterError::InvalidReturn("<script>x</script>".into()).to_response("/");
        let page = html_page(&r);
        assert!(page.contains("&lt;script&gt;"), "{page}");
        assert!(!page.contains("<script>"), "{page}");
        assert_eq!(r.status, 400);
    }

    #[test]
    fn errors_use_postgrest_shape() {
        let r = RouterError::TenantNotFound.to_response("/rest/v1/contacts");
        assert_eq!(r.status, 404);
        assert_eq!(r.body["code"], "tenant_not_found");
        for k in ["message", "details", "hint"] {
            assert!(r.body.get(k).is_some(), "missing {k}");
        }
        assert!(r.body.get("error_code").is_none());
    }

    #[test]
    fn auth_paths_also_carry_error_code_and_msg() {
        let r = RouterError::SignupClosed.to_response("/auth/v1/signup");
        assert_eq!(r.status, 403);
        assert_eq!(r.body["error_code"], "signup_closed");
        assert_eq!(r.body["msg"], r.body["message"]);
    }

    #[test]
    fn invalid_token_carries_www_authenticate() {
        let r = RouterError::InvalidToken("expired".into()).to_response("/rest/v1/x");
        assert_eq!(r.status, 401);
        assert!(r
            .headers
            .iter()
            .any(|(k, v)| *k == "www-authenticate"
                && v.starts_with("Bearer error=\"invalid_token\"")));
    }

    #[test]
    fn directory_unavailable_carries_retry_after() {
        let r = RouterError::DirectoryUnavailable("timeout".into()).to_response("/");
        assert_eq!(r.status, 503);
        assert!(r.headers.iter().any(|(k, _)| *k == "retry-after"));
    }

    #[test]
    fn a_response_the_runtime_would_not_build_is_a_500_in_the_same_shape() {
        let r = RouterError::ResponseBuildFailed.to_response("/rest/v1/contacts");
        assert_eq!(r.status, 500);
        assert_eq!(r.body["code"], "router_internal");
        assert_eq!(r.body["details"], serde_json::Value::Null);
        assert_eq!(r.body["hint"], "Retry the request.");
    }

    #[test]
    fn misconfiguration_names_the_variable() {
        let r = RouterError::Misconfigured {
            var: "BASE_DOMAINS",
            reason: "required".into(),
        }
        .to_response("/");
        assert_eq!(r.status, 500);
        assert!(r.body["message"]
            .as_str()
            .unwrap_or("")
            .contains("BASE_DOMAINS"));
    }
}
