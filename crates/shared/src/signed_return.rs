//! The signed return: how Supabase Auth, whose allow list holds one entry, sends a user back to any
//! tenant host (issue 17, item 1).
//!
//! A redirect target on a tenant's host is wrapped into a URL on the one platform host
//! `AUTH_RETURN_HOST`:
//!
//! ```text
//! https://<AUTH_RETURN_HOST>/__router/auth/return?rt=v1.<kid>.<tenant uuid>.<exp>.<b64url(target)>.<b64url(mac)>
//! mac = HMAC-SHA256(key[kid], "tenant-router/return\n" + "v1.<kid>.<tenant uuid>.<exp>.<b64url(target)>")
//! ```
//!
//! `exp` is Unix seconds, `b64url` is RFC 4648 §5 without padding. The MAC covers the token's exact
//! bytes before the last `.`, so no other spelling of the same fields verifies (no malleability);
//! the domain-separation prefix keeps the key from meaning anything elsewhere. Everything here is
//! pure, so the admin service's Send Email hook can call [`verify`] on the hook's `redirect_to` to
//! learn the tenant without trusting `user_metadata`.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use uuid::Uuid;

/// The path of the return endpoint on `AUTH_RETURN_HOST`.
pub const RETURN_PATH: &str = "/__router/auth/return";
/// The confirm route on every tenant host, where email links land (`?token_hash=…&type=…&next=…`).
pub const CONFIRM_PATH: &str = "/__router/auth/confirm";
/// The query key that carries the token.
pub const TOKEN_PARAM: &str = "rt";
const VERSION: &str = "v1";
const DOMAIN: &[u8] = b"tenant-router/return\n";
/// Longest target signed: beyond it browsers and mail clients start truncating URLs.
pub const MAX_TARGET_BYTES: usize = 2048;
/// Longest token read: a maximal target, base64-grown, plus the other fields.
const MAX_TOKEN_BYTES: usize = MAX_TARGET_BYTES * 4 / 3 + 200;

type HmacSha256 = Hmac<Sha256>;

/// A signing key: `kid` names it in the token so two can be accepted during a rotation.
#[derive(Clone, PartialEq, Eq)]
pub struct ReturnKey {
    pub kid: String,
    pub secret: Vec<u8>,
}

impl std::fmt::Debug for ReturnKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ReturnKey({}, <secret>)", self.kid)
    }
}

/// What a valid token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedReturn {
    pub tenant: Uuid,
    pub target: String,
    pub exp_s: u64,
    pub kid: String,
}

/// Most keys accepted at once: one rotation in progress.
pub const MAX_KEYS: usize = 2;
/// Shortest secret accepted: an HMAC-SHA256 key should carry 256 bits.
pub const MIN_SECRET_BYTES: usize = 32;

/// `AUTH_RETURN_KEYS` (`kid:secret[,kid:secret]`, the first signs), as the router and the admin
/// service both read it; the error names what is wrong, never a secret.
pub fn parse_keys(keys: &str) -> Result<Vec<ReturnKey>, String> {
    let mut parsed: Vec<ReturnKey> = Vec::new();
    for entry in keys.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (kid, secret) = entry
            .split_once(':')
            .ok_or("expected kid:secret[,kid:secret]")?;
        if kid.is_empty()
            || kid.len() > 32
            || !kid
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err("a kid is 1-32 of [A-Za-z0-9_-]".into());
        }
        if secret.len() < MIN_SECRET_BYTES {
            return Err(format!(
                "the secret of {kid:?} is shorter than {MIN_SECRET_BYTES} bytes"
            ));
        }
        if parsed.iter().any(|k| k.kid == kid) {
            return Err(format!("kid {kid:?} twice"));
        }
        parsed.push(ReturnKey {
            kid: kid.to_string(),
            secret: secret.as_bytes().to_vec(),
        });
    }
    if parsed.is_empty() || parsed.len() > MAX_KEYS {
        return Err("one or two kid:secret entries".into());
    }
    Ok(parsed)
}

/// Why a token is refused; the detail reaches the client, so it names no key material.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReturnError {
    Malformed,
    UnknownKey,
    BadSignature,
    Expired,
}

impl ReturnError {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Malformed => "malformed return token",
            Self::UnknownKey => "unknown signing key",
            Self::BadSignature => "bad signature",
            Self::Expired => "expired return",
        }
    }
}

fn mac(secret: &[u8], signed: &str) -> HmacSha256 {
    // HMAC takes keys of any length; new_from_slice cannot fail for it.
    let mut m = <HmacSha256 as Mac>::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
    m.update(DOMAIN);
    m.update(signed.as_bytes());
    m
}

/// The token for `target` (fragment dropped: the browser keeps Auth's own fragment only when the
/// final `Location` has none), signed with `key`, valid until `exp_s`.
pub fn sign(key: &ReturnKey, tenant: Uuid, target: &str, exp_s: u64) -> String {
    let target = target.split('#').next().unwrap_or("");
    let signed = format!(
        "{VERSION}.{}.{}.{exp_s}.{}",
        key.kid,
        tenant.hyphenated(),
        URL_SAFE_NO_PAD.encode(target)
    );
    let tag = mac(&key.secret, &signed).finalize().into_bytes();
    format!("{signed}.{}", URL_SAFE_NO_PAD.encode(tag))
}

/// The return URL for a token: `scheme://return_host/__router/auth/return?rt=…`.
pub fn return_url(scheme: &str, return_host: &str, token: &str) -> String {
    format!("{scheme}://{return_host}{RETURN_PATH}?{TOKEN_PARAM}={token}")
}

/// The token's fields if one of `keys` signed it and it is not past `exp` at `now_s`.
/// The MAC is checked before anything the token says is believed, in constant time.
pub fn verify(token: &str, keys: &[ReturnKey], now_s: u64) -> Result<SignedReturn, ReturnError> {
    use ReturnError::*;
    if token.len() > MAX_TOKEN_BYTES {
        return Err(Malformed);
    }
    let (signed, tag) = token.rsplit_once('.').ok_or(Malformed)?;
    let mut parts = signed.split('.');
    let (Some(version), Some(kid), Some(tenant), Some(exp), Some(target), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return Err(Malformed);
    };
    if version != VERSION {
        return Err(Malformed);
    }
    let key = keys.iter().find(|k| k.kid == kid).ok_or(UnknownKey)?;
    let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| BadSignature)?;
    mac(&key.secret, signed)
        .verify_slice(&tag)
        .map_err(|_| BadSignature)?;
    // Signed by us from here on; still parsed strictly.
    let exp_s: u64 = exp.parse().map_err(|_| Malformed)?;
    let tenant = Uuid::try_parse(tenant).map_err(|_| Malformed)?;
    let target = URL_SAFE_NO_PAD
        .decode(target)
        .ok()
        .and_then(|t| String::from_utf8(t).ok())
        .ok_or(Malformed)?;
    if now_s >= exp_s {
        return Err(Expired);
    }
    Ok(SignedReturn {
        tenant,
        target,
        exp_s,
        kid: kid.to_string(),
    })
}

/// The token of a URL that is a return URL on `return_host` (any scheme the router signs with),
/// with exactly one `rt` and nothing else; `None` for any other URL.
pub fn token_of_return_url<'a>(url: &'a str, return_host: &str) -> Option<&'a str> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))?;
    let rest = rest.strip_prefix(return_host)?;
    let query = rest.strip_prefix(RETURN_PATH)?.strip_prefix('?')?;
    let token = query.strip_prefix(TOKEN_PARAM)?.strip_prefix('=')?;
    token
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        .then_some(token)
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    const T: &str = "6f1c2a3e-0000-4000-8000-00000000ac4e";

    fn key(kid: &str, s: &str) -> ReturnKey {
        ReturnKey {
            kid: kid.into(),
            secret: s.as_bytes().to_vec(),
        }
    }

    fn tenant() -> Uuid {
        Uuid::parse_str(T).unwrap()
    }

    #[test]
    fn a_signed_target_verifies_with_either_of_two_keys() {
        let (old, new) = (key("k1", "old-secret"), key("k2", "new-secret"));
        let both = [new.clone(), old.clone()];
        for k in [&old, &new] {
            let tok = sign(k, tenant(), "https://crm.acme.com/a?b=1#frag", 1000);
            let r = verify(&tok, &both, 999).unwrap();
            assert_eq!(r.target, "https://crm.acme.com/a?b=1");
            assert_eq!(r.tenant, tenant());
            assert_eq!(r.kid, k.kid);
        }
        let tok = sign(&old, tenant(), "https://x/", 1000);
        assert_eq!(verify(&tok, &[new], 0), Err(ReturnError::UnknownKey));
    }

    #[test]
    fn expiry_is_exclusive() {
        let k = key("k1", "s");
        let tok = sign(&k, tenant(), "https://x/", 1000);
        assert!(verify(&tok, std::slice::from_ref(&k), 999).is_ok());
        assert_eq!(verify(&tok, &[k], 1000), Err(ReturnError::Expired));
    }

    #[test]
    fn every_tampered_field_or_spelling_fails_the_mac() {
        let k = key("k1", "s");
        let tok = sign(&k, tenant(), "https://crm.acme.com/", 1000);
        let parts: Vec<&str> = tok.split('.').collect();
        let with = |i: usize, v: &str| {
            let mut p = parts.clone();
            p[i] = v;
            p.join(".")
        };
        let other_target = URL_SAFE_NO_PAD.encode("https://evil.example/");
        let cases = [
            with(3, "1001"),
            with(3, "01000"),
            with(2, "7a2d3b4f-1111-4111-8111-0000000091be"),
            with(2, &T.to_uppercase()),
            with(4, &other_target),
            with(5, "AAAA"),
            with(5, ""),
            format!("{tok}="),
            format!(
                "{}{}",
                &tok[..tok.len() - 1],
                if tok.ends_with('A') { 'Q' } else { 'A' }
            ),
        ];
        for c in cases {
            let r = verify(&c, std::slice::from_ref(&k), 0);
            assert!(matches!(r, Err(ReturnError::BadSignature)), "{c}: {r:?}");
        }
        for c in [
            "".to_string(),
            "v1".into(),
            with(0, "v2"),
            format!("x.{tok}"),
            "a".repeat(10_000),
        ] {
            assert!(verify(&c, std::slice::from_ref(&k), 0).is_err(), "{c}");
        }
    }

    #[test]
    fn return_urls_are_recognised_only_in_their_one_plain_form() {
        let u = return_url("https", "auth.app.example", "v1.k.t.1.x.y");
        assert_eq!(
            token_of_return_url(&u, "auth.app.example"),
            Some("v1.k.t.1.x.y")
        );
        for bad in [
            "https://auth.app.example.evil/__router/auth/return?rt=a",
            "https://auth.app.example@evil/__router/auth/return?rt=a",
            "https://auth.app.example/__router/auth/return?rt=a&rt=b",
            "https://auth.app.example/__router/auth/return?x=1&rt=a",
            "https://auth.app.example/__router/auth/return/?rt=a",
            "https://auth.app.example/__router/auth/return?rt=a%2e",
        ] {
            assert_eq!(token_of_return_url(bad, "auth.app.example"), None, "{bad}");
        }
    }
}
