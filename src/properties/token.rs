//! Bearer / JWT / JWK parsing and the claim checks (SPEC §1.3). Any `Authorization` value or JWKS
//! body gives a verdict, never a panic; a refusal is a 401; and a token the router accepts is, read
//! again here from its bytes, an HS256 JWS signed with the project's secret whose claims pass
//! every check at the router's clock, within the 30 s leeway and not beyond it.

use std::rc::Rc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use futures::future::LocalBoxFuture;
use hmac::{Hmac, Mac};
use serde_json::Value;

use super::{fields, ready, selector};
use crate::auth::crypto::native::RustCryptoVerifier;
use crate::auth::crypto::SignatureVerifier;
use crate::auth::{bearer, jwks, Authenticator};
use crate::config::Config;
use crate::runtime::{HttpRequest, HttpResponse, Runtime};

pub const NOW_S: u64 = 1_800_000_000;
pub const SECRET: &str = "fuzz-secret-with-at-least-32-characters!";
pub const URL: &str = "https://proj.supabase.co";
const ISSUER: &str = "https://proj.supabase.co/auth/v1";

/// The router's clock, stopped at [`NOW_S`]; nothing here sleeps, and there is no network (only
/// HS256 runs end to end here, so nothing asks for a JWKS).
struct Stopped;

impl Runtime for Stopped {
    fn now_ms(&self) -> u64 {
        NOW_S * 1000
    }
    fn sleep(&self, _ms: u64) -> LocalBoxFuture<'static, ()> {
        Box::pin(futures::future::pending())
    }
    fn fetch(&self, _req: HttpRequest) -> LocalBoxFuture<'static, Result<HttpResponse, String>> {
        Box::pin(futures::future::ready(Err(
            "no network in the token property".into(),
        )))
    }
}

fn config() -> Config {
    let vars: std::collections::HashMap<String, String> = [
        ("SUPABASE_URL", URL),
        ("SUPABASE_ANON_KEY", "sb_publishable_fuzz"),
        ("SUPABASE_JWT_SECRET", SECRET),
        ("BASE_DOMAINS", "app.example"),
        // ES256/RS256 would fetch the JWKS; their parsing is checked below without a network.
        ("JWT_ALGORITHMS", "HS256"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    match Config::from_vars(&vars) {
        Ok(c) => c,
        Err(e) => panic!("the fuzz configuration is invalid: {e}"),
    }
}

/// An HS256 token over `header` and `payload` (as given, not re-encoded), signed with [`SECRET`].
pub fn sign(header: &str, payload: &str) -> String {
    let input = format!("{}.{}", B64.encode(header), B64.encode(payload));
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).expect("any key length");
    mac.update(input.as_bytes());
    format!("{input}.{}", B64.encode(mac.finalize().into_bytes()))
}

/// Input: a selector byte, then `Authorization` as sent (selector bit 0 clear), or a header and a
/// payload to sign (`header\npayload`, bit 0 set, so the claim checks are reached), or a JWKS body
/// with a message and signature (bit 1 set).
pub fn check(data: &[u8]) {
    let (sel, rest) = selector(data);
    if sel & 2 != 0 {
        return check_jwks(rest);
    }
    let authorization = if sel & 1 != 0 {
        let f = fields(rest, 2);
        format!("Bearer {}", sign(&f[0], &f[1]))
    } else {
        String::from_utf8_lossy(rest).into_owned()
    };
    let Ok(Some(token)) = bearer(Some(&authorization)) else {
        return;
    };
    let config = config();
    let auth = Authenticator::new(&config, Rc::new(Stopped), Rc::new(RustCryptoVerifier));
    match ready(auth.verify(token, &config.shared)) {
        Err(e) => assert_eq!(e.status(), 401, "{token:?} refused with {e:?}"),
        Ok(_) => assert_accepted(token),
    }
}

fn assert_accepted(token: &str) {
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "{token:?}");
    let json = |s: &str| -> Value {
        let bytes = B64
            .decode(s)
            .unwrap_or_else(|_| panic!("accepted bad base64 {token:?}"));
        serde_json::from_slice(&bytes).unwrap_or_else(|_| panic!("accepted bad JSON {token:?}"))
    };
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).expect("any key length");
    mac.update(format!("{}.{}", parts[0], parts[1]).as_bytes());
    assert!(
        B64.decode(parts[2])
            .is_ok_and(|s| mac.verify_slice(&s).is_ok()),
        "accepted a bad signature: {token:?}"
    );
    let header = json(parts[0]);
    assert_eq!(header["alg"], "HS256", "{token:?}");
    assert!(header.get("crit").is_none(), "accepted crit: {token:?}");
    let c = json(parts[1]);
    let now = NOW_S as f64;
    let exp = c["exp"]
        .as_f64()
        .unwrap_or_else(|| panic!("accepted without exp: {c}"));
    assert!(now <= exp + 30.0, "accepted expired beyond the leeway: {c}");
    if let Some(nbf) = c.get("nbf").filter(|v| !v.is_null()) {
        let nbf = nbf
            .as_f64()
            .unwrap_or_else(|| panic!("accepted a non-numeric nbf: {c}"));
        assert!(
            now + 30.0 >= nbf,
            "accepted not yet valid beyond the leeway: {c}"
        );
    }
    match c["role"].as_str() {
        Some("authenticated") => {
            assert_eq!(c["iss"], ISSUER, "{c}");
            let aud_ok = c["aud"] == "authenticated"
                || c["aud"]
                    .as_array()
                    .is_some_and(|a| a.iter().any(|x| x == "authenticated"));
            assert!(aud_ok, "accepted a foreign audience: {c}");
            assert!(c["sub"].as_str().is_some_and(|s| !s.is_empty()), "{c}");
        }
        Some("anon" | "service_role") => {
            assert!(c["iss"] == "supabase" || c["iss"] == ISSUER, "{c}")
        }
        _ => panic!("accepted role {:?}", c["role"]),
    }
}

/// `body\nmessage\nsignature`: every key kept is one the verifier can be asked about, and asking
/// never panics, whatever the key material.
fn check_jwks(data: &[u8]) {
    let mut parts = data.splitn(3, |b| *b == b'\n');
    let (body, msg, sig) = (
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
    );
    let Ok(keys) = jwks::parse_jwks(body) else {
        return;
    };
    for key in &keys {
        let _ = ready(RustCryptoVerifier.verify(key.alg(), key, msg, sig));
    }
}

#[cfg(test)]
mod tests {
    use super::super::strategies::{config, from};
    use super::*;
    use proptest::prelude::*;

    fn payload() -> impl Strategy<Value = String> {
        let role = prop::sample::select(vec!["authenticated", "anon", "service_role", "x"]);
        let iss = prop::sample::select(vec![ISSUER, "supabase", "https://evil/auth/v1"]);
        let aud = prop::sample::select(vec![
            r#""authenticated""#,
            r#"["x","authenticated"]"#,
            r#""x""#,
            "null",
        ]);
        (
            role,
            iss,
            aud,
            -40i64..40,
            prop::option::of(-40i64..40),
            any::<bool>(),
        )
            .prop_map(|(role, iss, aud, exp, nbf, sub)| {
                let nbf = nbf.map_or(String::new(), |n| format!(r#","nbf":{}"#, NOW_S as i64 + n));
                let sub = if sub { r#","sub":"u1""# } else { "" };
                format!(
                    r#"{{"role":"{role}","iss":"{iss}","aud":{aud},"exp":{}{nbf}{sub}}}"#,
                    NOW_S as i64 + exp
                )
            })
    }

    fn header() -> impl Strategy<Value = String> {
        prop::sample::select(vec![
            r#"{"alg":"HS256","typ":"JWT"}"#,
            r#"{"alg":"HS256","crit":[]}"#,
            r#"{"alg":"none"}"#,
            r#"{"alg":"ES256","kid":"k"}"#,
            r#"{"alg":"HS256","alg":"HS256"}"#,
        ])
        .prop_map(String::from)
    }

    #[test]
    fn a_valid_token_is_accepted_and_the_leeway_edges_hold() {
        let c = super::config();
        let auth = Authenticator::new(&c, Rc::new(Stopped), Rc::new(RustCryptoVerifier));
        let at = |exp: i64| {
            let p = format!(
                r#"{{"role":"authenticated","iss":"{ISSUER}","aud":"authenticated","sub":"u","exp":{}}}"#,
                NOW_S as i64 + exp
            );
            ready(auth.verify(&sign(r#"{"alg":"HS256"}"#, &p), &c.shared)).is_ok()
        };
        assert!(at(-30) && !at(-31), "the 30 s leeway");
    }

    proptest! {
        #![proptest_config(config(1000))]
        #[test]
        fn signed_tokens(h in header(), p in payload()) {
            check(format!("\u{1}{h}\n{p}").as_bytes());
        }

        #[test]
        fn authorization_values(v in from(&["Bearer", "bearer", " ", "a.b.c", "eyJ", ".", "=", "\t"], 8)) {
            check(format!("\u{0}{v}").as_bytes());
        }

        #[test]
        fn jwks_bodies(kty in prop::sample::select(vec!["EC", "RSA", "oct"]), x in "[A-Za-z0-9_-]{0,60}") {
            let body = format!(r#"{{"keys":[{{"kty":"{kty}","crv":"P-256","x":"{x}","y":"{x}","n":"{x}","e":"AQAB"}}]}}"#);
            check(format!("\u{2}{body}\nmsg\n{x}").as_bytes());
        }
    }
}
