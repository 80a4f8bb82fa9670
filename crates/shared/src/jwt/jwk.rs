//! A public verification key, as much of RFC 7517 as ES256/RS256 need, and the JWKS read.

use serde::Deserialize;

use super::JwtAlg;

const MAX_JWKS_BYTES: usize = 256 * 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Jwk {
    Ec {
        kid: Option<String>,
        x: String,
        y: String,
    },
    Rsa {
        kid: Option<String>,
        n: String,
        e: String,
    },
}

impl Jwk {
    pub fn kid(&self) -> Option<&str> {
        match self {
            Jwk::Ec { kid, .. } | Jwk::Rsa { kid, .. } => kid.as_deref(),
        }
    }
    pub fn alg(&self) -> JwtAlg {
        match self {
            Jwk::Ec { .. } => JwtAlg::Es256,
            Jwk::Rsa { .. } => JwtAlg::Rs256,
        }
    }
    /// Identity of the key material, for caches of imported keys (a `kid` can be reused).
    pub fn fingerprint(&self) -> String {
        match self {
            Jwk::Ec { x, y, .. } => format!("ec:{x}:{y}"),
            Jwk::Rsa { n, e, .. } => format!("rsa:{n}:{e}"),
        }
    }
}

#[derive(Deserialize)]
struct RawJwk {
    kty: String,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    alg: Option<String>,
    #[serde(default, rename = "use")]
    use_: Option<String>,
    #[serde(default)]
    crv: Option<String>,
    #[serde(default)]
    x: Option<String>,
    #[serde(default)]
    y: Option<String>,
    #[serde(default)]
    n: Option<String>,
    #[serde(default)]
    e: Option<String>,
}

#[derive(Deserialize)]
struct RawJwks {
    keys: Vec<serde_json::Value>,
}

/// Keep the signature keys we can use; skip (never fail on) the rest, e.g. `oct` or Ed25519.
pub fn parse_jwks(body: &[u8]) -> Result<Vec<Jwk>, String> {
    if body.len() > MAX_JWKS_BYTES {
        return Err("JWKS too large".into());
    }
    let raw: RawJwks = serde_json::from_slice(body).map_err(|e| format!("JWKS malformed: {e}"))?;
    let mut out = Vec::new();
    for v in raw.keys {
        let Ok(k) = serde_json::from_value::<RawJwk>(v) else {
            continue;
        };
        if k.use_.as_deref().is_some_and(|u| u != "sig") {
            continue;
        }
        match (
            k.kty.as_str(),
            k.alg.as_deref(),
            k.crv.as_deref(),
            k.x,
            k.y,
            k.n,
            k.e,
        ) {
            ("EC", None | Some("ES256"), Some("P-256"), Some(x), Some(y), _, _) => {
                out.push(Jwk::Ec { kid: k.kid, x, y })
            }
            ("RSA", None | Some("RS256"), _, _, _, Some(n), Some(e)) => {
                out.push(Jwk::Rsa { kid: k.kid, n, e })
            }
            _ => {}
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_keeps_es256_and_rs256_and_skips_the_rest() {
        let body = br#"{"keys":[
            {"kty":"EC","crv":"P-256","x":"AA","y":"BB","kid":"ec1","alg":"ES256","use":"sig"},
            {"kty":"RSA","n":"CC","e":"AQAB","kid":"rsa1"},
            {"kty":"oct","k":"secret","kid":"hs"},
            {"kty":"EC","crv":"P-384","x":"AA","y":"BB","kid":"p384"},
            {"kty":"EC","crv":"P-256","x":"AA","y":"BB","kid":"enc","use":"enc"},
            {"kty":"OKP","crv":"Ed25519","x":"AA","kid":"ed"},
            {"kty":"RSA","n":"CC","e":"AQAB","kid":"rs512","alg":"RS512"},
            "garbage"
        ]}"#;
        let keys = parse_jwks(body).unwrap();
        assert_eq!(keys.len(), 2);
        assert_eq!(keys[0].kid(), Some("ec1"));
        assert_eq!(keys[1].alg(), JwtAlg::Rs256);
    }

    #[test]
    fn malformed_jwks_is_an_error() {
        assert!(parse_jwks(b"not json").is_err());
        assert!(parse_jwks(b"{}").is_err());
    }
}
