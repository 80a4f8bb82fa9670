//! The confirm route on a tenant's host (issue 17, item 2): where email links land.
//!
//! `GET /__router/auth/confirm?token_hash=…&type=…&next=/path` verifies the token hash through
//! Auth (`POST /auth/v1/verify` with `token_hash` and `type`, as GoTrue's `verifyPost` reads them:
//! no PKCE verifier, so the link works on any device) and sends the browser to `next` on the same
//! host with the session in the URL fragment, the way GoTrue's implicit flow hands one over
//! (`#access_token=…&refresh_token=…&expires_in=…&expires_at=…&token_type=bearer&type=…`), which
//! supabase-js's `detectSessionInUrl` reads. A fragment never reaches a server, a log or a
//! `Referer`; the router answers it without a front end of its own. This file holds the pure parts.

use serde_json::Value;

use crate::error::RouterError;

pub use tenant_shared::signed_return::CONFIRM_PATH;

/// The email OTP types GoTrue's `/verify` takes with a token hash.
const TYPES: [&str; 6] = [
    "signup",
    "invite",
    "magiclink",
    "recovery",
    "email_change",
    "email",
];
const MAX_TOKEN_HASH: usize = 256;
const MAX_NEXT: usize = 2048;

#[derive(Debug, PartialEq, Eq)]
pub struct ConfirmRequest {
    pub token_hash: String,
    pub kind: &'static str,
    /// A path on the user's host, `/` when absent.
    pub next: String,
}

fn bad(why: &str) -> RouterError {
    RouterError::InvalidConfirmation(why.into())
}

/// `next` is a path on this host and nothing else: no scheme, no `//host` or `/\host` (which
/// browsers read as another host), no controls, blanks or non-ASCII. Its fragment is dropped:
/// the session takes the fragment.
fn local_path(next: &str) -> Result<String, RouterError> {
    let next = next.split('#').next().unwrap_or("");
    if next.len() > MAX_NEXT
        || !next.starts_with('/')
        || next.starts_with("//")
        || next.contains('\\')
        || !next.bytes().all(|b| b.is_ascii_graphic())
    {
        return Err(bad("next must be a path on this host"));
    }
    Ok(next.to_string())
}

impl ConfirmRequest {
    pub fn parse(query: Option<&str>) -> Result<Self, RouterError> {
        let (mut hash, mut kind, mut next) = (None, None, None);
        for (k, v) in url::form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
            let slot = match k.as_ref() {
                "token_hash" => &mut hash,
                "type" => &mut kind,
                "next" => &mut next,
                _ => continue,
            };
            if slot.replace(v.into_owned()).is_some() {
                return Err(bad("a parameter is repeated"));
            }
        }
        let hash = hash.ok_or_else(|| bad("token_hash is missing"))?;
        if hash.is_empty()
            || hash.len() > MAX_TOKEN_HASH
            || !hash
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(bad("token_hash is malformed"));
        }
        let kind = kind.ok_or_else(|| bad("type is missing"))?;
        let kind = TYPES
            .into_iter()
            .find(|t| *t == kind)
            .ok_or_else(|| bad("unknown type"))?;
        Ok(Self {
            token_hash: hash,
            kind,
            next: local_path(next.as_deref().unwrap_or("/"))?,
        })
    }

    /// The body of `POST /auth/v1/verify`.
    pub fn verify_body(&self) -> String {
        serde_json::json!({"type": self.kind, "token_hash": self.token_hash}).to_string()
    }

    /// Where the browser goes once Auth answered `status` with `body`.
    pub fn location(&self, origin: &str, status: u16, body: &[u8]) -> Result<String, RouterError> {
        let session: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
        if status != 200 {
            let code = session["error_code"]
                .as_str()
                .or(session["code"].as_str())
                .filter(|c| {
                    c.len() <= 64 && c.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
                })
                .unwrap_or("verification_failed");
            return Err(RouterError::ConfirmationFailed(code.into()));
        }
        let text = |k: &str| session[k].as_str().filter(|v| !v.is_empty());
        let number = |k: &str| session[k].as_u64();
        let (Some(access), Some(refresh), Some(expires_in)) = (
            text("access_token"),
            text("refresh_token"),
            number("expires_in"),
        ) else {
            return Err(RouterError::UpstreamUnreachable(
                "Auth answered /verify without a session".into(),
            ));
        };
        let mut f = url::form_urlencoded::Serializer::new(String::new());
        f.append_pair("access_token", access);
        if let Some(at) = number("expires_at") {
            f.append_pair("expires_at", &at.to_string());
        }
        f.append_pair("expires_in", &expires_in.to_string());
        f.append_pair("refresh_token", refresh);
        f.append_pair("token_type", "bearer");
        f.append_pair("type", self.kind);
        Ok(format!("{origin}{}#{}", self.next, f.finish()))
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn a_link_parses_with_next_defaulting_to_the_root() {
        let r = ConfirmRequest::parse(Some("token_hash=ab12&type=signup")).unwrap();
        assert_eq!((r.kind, r.next.as_str()), ("signup", "/"));
        let r = ConfirmRequest::parse(Some("type=recovery&next=%2Freset%3Fa%3D1%23x&token_hash=z"))
            .unwrap();
        assert_eq!(r.next, "/reset?a=1");
        assert_eq!(r.verify_body(), r#"{"token_hash":"z","type":"recovery"}"#);
    }

    #[test]
    fn next_off_this_host_and_malformed_links_are_refused() {
        for q in [
            "token_hash=a&type=signup&next=https://evil.example/",
            "token_hash=a&type=signup&next=//evil.example",
            "token_hash=a&type=signup&next=/%5Cevil.example",
            "token_hash=a&type=signup&next=%2F%2Fevil.example",
            "token_hash=a&type=signup&next=/%09/evil.example",
            "token_hash=a&type=signup&next=javascript:alert(1)",
            "token_hash=a&type=signup&next=/%C3%A9",
            "token_hash=a&type=signup&next=",
            "token_hash=a&type=signup&type=invite",
            "token_hash=a&token_hash=b&type=signup",
            "token_hash=a&type=phone_change",
            "token_hash=a%22&type=signup",
            "type=signup",
            "token_hash=a",
        ] {
            assert!(
                matches!(
                    ConfirmRequest::parse(Some(q)),
                    Err(RouterError::InvalidConfirmation(_))
                ),
                "{q}"
            );
        }
        let long = format!("token_hash={}&type=signup", "a".repeat(300));
        assert!(ConfirmRequest::parse(Some(&long)).is_err());
    }

    #[test]
    fn a_session_goes_into_the_fragment_and_a_refusal_is_an_error() {
        let r = ConfirmRequest::parse(Some("token_hash=a&type=magiclink&next=/app")).unwrap();
        let body = br#"{"access_token":"a.b.c","refresh_token":"r1","expires_in":3600,"expires_at":99,"token_type":"bearer"}"#;
        assert_eq!(
            r.location("https://crm.acme.com", 200, body).unwrap(),
            "https://crm.acme.com/app#access_token=a.b.c&expires_at=99&expires_in=3600&refresh_token=r1&token_type=bearer&type=magiclink"
        );
        let e = r
            .location(
                "https://x",
                403,
                br#"{"code":403,"error_code":"otp_expired"}"#,
            )
            .unwrap_err();
        assert_eq!(e, RouterError::ConfirmationFailed("otp_expired".into()));
        let e = r.location("https://x", 400, b"<html>").unwrap_err();
        assert_eq!(e.code(), "confirmation_failed");
        assert!(r.location("https://x", 200, b"{}").is_err());
    }
}
