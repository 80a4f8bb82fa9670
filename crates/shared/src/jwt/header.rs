//! A compact JWS taken apart: its header read (algorithm against the configured policy, `kid`,
//! `crit` refused), its payload and signature left for the caller's key to check.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use serde_json::Value;

use super::JwtAlg;

/// Real Supabase access tokens are 1–2 KB; anything far larger is not worth parsing.
pub const MAX_TOKEN_BYTES: usize = 16 * 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Jws<'a> {
    pub alg: JwtAlg,
    pub kid: Option<String>,
    /// `header.payload`, the bytes the signature covers.
    pub signing_input: &'a str,
    pub payload_b64: &'a str,
    pub signature_b64: &'a str,
}

/// Why a token was refused before any key was looked at; the words are safe to show a client.
pub type Refusal = &'static str;

/// Takes `token` apart and checks its header. The algorithm is matched exactly against `allowed`:
/// `none`, `HS384`, a lowercase `es256` or a missing `alg` are never allowed.
pub fn parse<'a>(token: &'a str, allowed: &[JwtAlg]) -> Result<Jws<'a>, Refusal> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err("token too large");
    }
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err("malformed token");
    };
    let raw = B64.decode(h).map_err(|_| "malformed token header")?;
    let header: Value = serde_json::from_slice(&raw).map_err(|_| "malformed token header")?;
    let header = header.as_object().ok_or("malformed token header")?;
    // RFC 7515 §4.1.11: a recipient must reject a JWS whose `crit` names extensions it does not
    // understand. We understand none, so any `crit` is refused (`null` and `[]` included).
    if header.contains_key("crit") {
        return Err("critical header extensions are not supported");
    }
    let alg = header
        .get("alg")
        .and_then(Value::as_str)
        .ok_or("malformed token header")?;
    let alg = JwtAlg::parse(alg)
        .filter(|a| allowed.contains(a))
        .ok_or("algorithm not allowed")?;
    let kid = match header.get("kid") {
        None => None,
        Some(Value::String(k)) => Some(k.clone()),
        Some(_) => return Err("malformed token header"),
    };
    Ok(Jws {
        alg,
        kid,
        signing_input: &token[..h.len() + 1 + p.len()],
        payload_b64: p,
        signature_b64: s,
    })
}

impl Jws<'_> {
    pub fn signature(&self) -> Result<Vec<u8>, Refusal> {
        B64.decode(self.signature_b64)
            .map_err(|_| "malformed signature")
    }

    /// The claims, read only once the signature has been checked.
    pub fn claims<T: serde::de::DeserializeOwned>(&self) -> Result<T, Refusal> {
        let payload = B64
            .decode(self.payload_b64)
            .map_err(|_| "malformed payload")?;
        serde_json::from_slice(&payload).map_err(|_| "malformed claims")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tok(header: &str) -> String {
        format!("{}.e30.c2ln", B64.encode(header))
    }

    #[test]
    fn the_header_decides_nothing_the_policy_does_not_allow() {
        let all = [JwtAlg::Es256, JwtAlg::Rs256, JwtAlg::Hs256];
        let t = tok(r#"{"alg":"ES256","kid":"k1"}"#);
        let j = parse(&t, &all).unwrap();
        assert_eq!((j.alg, j.kid.as_deref()), (JwtAlg::Es256, Some("k1")));
        assert_eq!(j.signature().unwrap(), b"sig");
        for (header, allowed, why) in [
            (r#"{"alg":"none"}"#, &all[..], "algorithm not allowed"),
            (r#"{"alg":"es256"}"#, &all[..], "algorithm not allowed"),
            (r#"{"alg":"HS256"}"#, &all[..2], "algorithm not allowed"),
            (r#"{"kid":"k"}"#, &all[..], "malformed token header"),
            (
                r#"{"alg":"ES256","kid":1}"#,
                &all[..],
                "malformed token header",
            ),
            (
                r#"{"alg":"ES256","crit":[]}"#,
                &all[..],
                "critical header extensions are not supported",
            ),
            (
                r#"{"alg":"ES256","crit":null}"#,
                &all[..],
                "critical header extensions are not supported",
            ),
        ] {
            assert_eq!(parse(&tok(header), allowed).err(), Some(why), "{header}");
        }
        assert_eq!(parse("a.b", &all).err(), Some("malformed token"));
        assert_eq!(parse("a.b.c.d", &all).err(), Some("malformed token"));
    }
}
