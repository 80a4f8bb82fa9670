//! The email API behind the Send Email hook: a small trait, and the one JSON shape sent to a
//! Resend-style provider (`POST <EMAIL_API_URL>` with `Authorization: Bearer <EMAIL_API_KEY>`,
//! `Idempotency-Key`, `{from, to: [..], subject, html, text}`). The edge sends it with workerd's
//! fetch; tests use the named stand-in outbox (tests/support/email-standin.mjs).
//!
//! Once per token, not per retry: Auth calls the hook again, with a new `webhook-id`, when it was
//! slow or failed, and a replayed call inside the signature's tolerance is the same message. The
//! idempotency key is derived from what makes a message (action, token hash, recipient), never from
//! the `webhook-id`, so every such call carries the same key and the provider sends once (Resend
//! keeps keys 24 hours, longer than any Auth token lives). No table of sent mail is kept.

use futures::future::LocalBoxFuture;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    pub from: String,
    pub to: String,
    pub subject: String,
    pub html: String,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailError {
    /// The provider answered this status.
    Refused(u16),
    /// Nothing usable came back.
    Unreachable(String),
}

pub trait Mailer {
    fn send<'a>(
        &'a self,
        email: &'a Email,
        idempotency_key: &'a str,
    ) -> LocalBoxFuture<'a, Result<(), MailError>>;
}

/// The provider's JSON body for `email`.
pub fn api_body(email: &Email) -> Value {
    json!({
        "from": email.from,
        "to": [email.to],
        "subject": email.subject,
        "html": email.html,
        "text": email.text,
    })
}

/// The key every call for this one message carries.
pub fn idempotency_key(action: &str, token_hash: &str, to: &str) -> String {
    let mut h = Sha256::new();
    for part in ["tenant-router/send-email", action, token_hash, to] {
        h.update(part.as_bytes());
        h.update(b"\n");
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::idempotency_key;

    #[test]
    fn the_key_is_one_per_message_and_fields_do_not_run_together() {
        let k = idempotency_key("signup", "abc", "a@x");
        assert_eq!(k, idempotency_key("signup", "abc", "a@x"));
        assert_eq!(k.len(), 64);
        for other in [
            idempotency_key("recovery", "abc", "a@x"),
            idempotency_key("signup", "abd", "a@x"),
            idempotency_key("signup", "abc", "b@x"),
            idempotency_key("signup", "ab", "c\na@x"),
        ] {
            assert_ne!(k, other);
        }
    }
}
