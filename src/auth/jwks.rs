//! The project's JSON Web Key Set: fetched once, selected by `kid`, fetched again for an unknown
//! `kid` at most once per `JWKS_MIN_REFRESH_S`, and refreshed when it grows old.

use std::cell::RefCell;
use std::rc::Rc;

use serde::Deserialize;

use crate::config::JwtAlg;
use crate::flight::SingleFlight;
use crate::runtime::{timeout, HttpRequest, Runtime};

/// Keys are re-read after this long even when every `kid` is known, so a revoked key stops
/// verifying without waiting for a new isolate.
const MAX_AGE_MS: u64 = 10 * 60 * 1000;
const FETCH_TIMEOUT_MS: u64 = 5_000;
const MAX_JWKS_BYTES: usize = 256 * 1024;

/// A public verification key, as much of RFC 7517 as ES256/RS256 need.
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

#[derive(Default)]
struct State {
    keys: Vec<Jwk>,
    fetched_ms: Option<u64>,
    last_attempt_ms: Option<u64>,
}

pub struct JwksCache {
    url: String,
    rt: Rc<dyn Runtime>,
    min_refresh_ms: u64,
    state: RefCell<State>,
    /// One key set per cache, so one flight: the key is `()`.
    flight: SingleFlight<Result<(), String>, ()>,
}

#[derive(Debug, PartialEq, Eq)]
pub enum KeyLookup {
    Found(Jwk),
    /// No such key, and it is too soon to ask the project again.
    Unknown,
    /// The JWKS could not be fetched and nothing is cached.
    Unavailable(String),
}

impl JwksCache {
    pub fn new(url: String, rt: Rc<dyn Runtime>, min_refresh_s: u64) -> Rc<Self> {
        Rc::new(Self {
            url,
            rt,
            min_refresh_ms: min_refresh_s * 1000,
            state: RefCell::new(State::default()),
            flight: SingleFlight::default(),
        })
    }

    fn select(&self, alg: JwtAlg, kid: Option<&str>) -> Option<Jwk> {
        let state = self.state.borrow();
        let mut of_alg = state.keys.iter().filter(|k| k.alg() == alg);
        match kid {
            Some(kid) => of_alg.find(|k| k.kid() == Some(kid)).cloned(),
            // Without a kid a key is only chosen when it is the only one for this algorithm.
            None => {
                let first = of_alg.next().cloned();
                if of_alg.next().is_some() {
                    None
                } else {
                    first
                }
            }
        }
    }

    pub async fn key(self: &Rc<Self>, alg: JwtAlg, kid: Option<&str>) -> KeyLookup {
        let now = self.rt.now_ms();
        let (fetched, last_attempt) = {
            let s = self.state.borrow();
            (s.fetched_ms, s.last_attempt_ms)
        };
        let too_old = fetched.is_none_or(|f| now.saturating_sub(f) >= MAX_AGE_MS);
        let may_refetch = last_attempt.is_none_or(|a| now.saturating_sub(a) >= self.min_refresh_ms);
        if !too_old {
            if let Some(k) = self.select(alg, kid) {
                return KeyLookup::Found(k);
            }
            if !may_refetch {
                return KeyLookup::Unknown;
            }
        } else if fetched.is_some() && !may_refetch {
            // Old but refetching is rate-limited: keep trusting what we have.
            return self
                .select(alg, kid)
                .map_or(KeyLookup::Unknown, KeyLookup::Found);
        }
        let fetch_result = self.fetch().await;
        match (self.select(alg, kid), fetch_result) {
            (Some(k), _) => KeyLookup::Found(k),
            (None, Err(e)) if self.state.borrow().fetched_ms.is_none() => KeyLookup::Unavailable(e),
            (None, _) => KeyLookup::Unknown,
        }
    }

    async fn fetch(&self) -> Result<(), String> {
        let abandoned = Err("JWKS fetch abandoned".to_string());
        self.flight
            .run(
                &*self.rt,
                &(),
                FETCH_TIMEOUT_MS + 1_000,
                abandoned,
                || async {
                    self.state.borrow_mut().last_attempt_ms = Some(self.rt.now_ms());
                    let get = get(&*self.rt, &self.url);
                    let keys = match timeout(&*self.rt, FETCH_TIMEOUT_MS, get).await {
                        Some(r) => r.and_then(|body| parse_jwks(&body))?,
                        None => return Err("JWKS fetch timed out".to_string()),
                    };
                    let mut s = self.state.borrow_mut();
                    s.keys = keys;
                    s.fetched_ms = Some(self.rt.now_ms());
                    Ok(())
                },
            )
            .await
    }

    #[cfg(all(test, not(target_arch = "wasm32")))]
    pub fn preload(&self, keys: Vec<Jwk>) {
        let mut s = self.state.borrow_mut();
        s.keys = keys;
        s.fetched_ms = Some(self.rt.now_ms());
        s.last_attempt_ms = Some(self.rt.now_ms());
    }
}

async fn get(rt: &dyn Runtime, url: &str) -> Result<Vec<u8>, String> {
    let resp = rt
        .fetch(HttpRequest {
            method: "GET",
            url: url.to_string(),
            headers: Vec::new(),
            body: None,
        })
        .await
        .map_err(|e| format!("JWKS fetch failed: {e}"))?;
    if !(200..300).contains(&resp.status) {
        return Err(format!("JWKS fetch answered HTTP {}", resp.status));
    }
    Ok(resp.body)
}

#[cfg(all(test, not(target_arch = "wasm32")))]
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
