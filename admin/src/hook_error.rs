//! Every failure the Send Email hook answers, and the one place that renders it, in the shape
//! Supabase Auth reads from a hook (`{"error": {"http_code", "message"}}`). Auth retries 429 and 503
//! only; anything else fails the user's request and no email is sent.

use serde_json::{json, Value};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HookError {
    /// The standard-webhooks signature, id or timestamp did not verify.
    Unauthorized(&'static str),
    InvalidPayload(String),
    /// `redirect_to` is not a valid signed return, or names no active tenant on its host.
    NoTenant(&'static str),
    /// The directory or the email API could not be used now: Auth may retry.
    Unavailable(String),
    Misconfigured(String),
}

impl HookError {
    pub fn status(&self) -> u16 {
        match self {
            Self::Unauthorized(_) => 401,
            Self::InvalidPayload(_) => 400,
            Self::NoTenant(_) => 422,
            Self::Unavailable(_) => 503,
            Self::Misconfigured(_) => 500,
        }
    }

    pub fn body(&self) -> Value {
        let message = match self {
            Self::Unauthorized(d) => format!("invalid webhook signature: {d}"),
            Self::InvalidPayload(d) => format!("invalid payload: {d}"),
            Self::NoTenant(d) => format!("no tenant for this email: {d}"),
            Self::Unavailable(d) => format!("unavailable: {d}"),
            Self::Misconfigured(d) => format!("send email hook misconfigured: {d}"),
        };
        json!({"error": {"http_code": self.status(), "message": message}})
    }
}
