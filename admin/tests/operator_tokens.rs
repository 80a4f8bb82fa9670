//! Operators' tokens verified as the router verifies them: ES256/RS256 against the project's JWKS
//! (fetched through the backend, selected by `kid`, refetched for an unknown `kid` at most once per
//! `JWKS_MIN_REFRESH_S`), HS256 only when configured, `crit` refused, the claims checked.
#![cfg(not(target_arch = "wasm32"))]

use std::cell::{Cell, RefCell};
use std::collections::HashMap;

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use futures::executor::block_on;
use futures::future::LocalBoxFuture;
use p256::ecdsa::signature::Signer as _;
use rsa::traits::PublicKeyParts;
use serde_json::{json, Value};
use tenant_admin::backend::{Backend, Reply, Service};
use tenant_admin::config::{AdminConfig, VarSource};
use tenant_admin::{api, authz};

const SECRET: &str = "native-test-secret-with-at-least-32-characters";
const ISSUER: &str = "https://p.supabase.co/auth/v1";
const NOW: f64 = 1_800_000_000.0;
const KID: &str = "project-key";

struct Vars(HashMap<&'static str, &'static str>);
impl VarSource for Vars {
    fn var(&self, name: &str) -> Option<String> {
        self.0.get(name).map(|v| v.to_string())
    }
}

fn cfg(extra: &[(&'static str, &'static str)]) -> AdminConfig {
    let mut v: HashMap<_, _> = [
        ("SUPABASE_URL", "https://p.supabase.co"),
        ("SUPABASE_SECRET_KEY", "sk"),
        ("CLOUDFLARE_API_TOKEN", "cf"),
        ("CLOUDFLARE_ZONE_ID", "z"),
        ("BASE_DOMAINS", "app.example"),
    ]
    .into_iter()
    .collect();
    v.extend(extra.iter().copied());
    AdminConfig::load(&Vars(v)).unwrap()
}

/// The project's Auth as far as keys go: its JWKS, and how often it was asked.
struct Project {
    jwks: Value,
    fetches: Cell<u32>,
    now: Cell<f64>,
    other_calls: RefCell<Vec<String>>,
}

impl Project {
    fn new(jwks: Value) -> Self {
        Self {
            jwks,
            fetches: Cell::new(0),
            now: Cell::new(NOW),
            other_calls: RefCell::new(Vec::new()),
        }
    }
}

impl Backend for Project {
    fn send<'a>(
        &'a self,
        service: Service,
        method: &'a str,
        path: &'a str,
        _body: Option<Value>,
    ) -> LocalBoxFuture<'a, Result<Reply, String>> {
        Box::pin(async move {
            if service == Service::Auth && method == "GET" && path == "/.well-known/jwks.json" {
                self.fetches.set(self.fetches.get() + 1);
                return Ok(Reply {
                    status: 200,
                    body: self.jwks.clone(),
                });
            }
            self.other_calls
                .borrow_mut()
                .push(format!("{method} {path}"));
            Ok(Reply {
                status: 404,
                body: json!({"message": "not here"}),
            })
        })
    }
    fn now_s(&self) -> f64 {
        self.now.get()
    }
}

struct Keys {
    ec: p256::ecdsa::SigningKey,
    rsa: rsa::RsaPrivateKey,
}

fn keys() -> Keys {
    let mut rng = rand_core::OsRng;
    Keys {
        ec: p256::ecdsa::SigningKey::random(&mut rng),
        rsa: rsa::RsaPrivateKey::new(&mut rng, 2048).unwrap(),
    }
}

fn ec_jwk(k: &p256::ecdsa::SigningKey, kid: &str) -> Value {
    let p = k.verifying_key().to_encoded_point(false);
    json!({"kty": "EC", "crv": "P-256", "kid": kid, "alg": "ES256", "use": "sig",
           "x": B64.encode(p.x().unwrap()), "y": B64.encode(p.y().unwrap())})
}

fn rsa_jwk(k: &rsa::RsaPrivateKey, kid: &str) -> Value {
    let p = k.to_public_key();
    json!({"kty": "RSA", "kid": kid, "alg": "RS256", "use": "sig",
           "n": B64.encode(p.n().to_bytes_be()), "e": B64.encode(p.e().to_bytes_be())})
}

fn compact(header: &Value, claims: &Value, sign: impl FnOnce(&[u8]) -> Vec<u8>) -> String {
    let input = format!(
        "{}.{}",
        B64.encode(header.to_string()),
        B64.encode(claims.to_string())
    );
    let sig = sign(input.as_bytes());
    format!("{input}.{}", B64.encode(sig))
}

fn es256(k: &p256::ecdsa::SigningKey, header: Value, claims: &Value) -> String {
    compact(&header, claims, |m| {
        let s: p256::ecdsa::Signature = k.sign(m);
        s.to_bytes().to_vec()
    })
}

fn rs256(k: &rsa::RsaPrivateKey, kid: &str, claims: &Value) -> String {
    use rsa::signature::{SignatureEncoding as _, Signer as _};
    let sk = rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(k.clone());
    compact(&json!({"alg": "RS256", "kid": kid}), claims, |m| {
        sk.sign(m).to_vec()
    })
}

fn hs256(claims: &Value) -> String {
    use hmac_free::hmac_sha256;
    compact(&json!({"alg": "HS256", "typ": "JWT"}), claims, |m| {
        hmac_sha256(SECRET.as_bytes(), m)
    })
}

/// HMAC-SHA256 from sha2 alone (RFC 2104), so the test does not lean on the code it checks.
mod hmac_free {
    use sha2::{Digest, Sha256};
    pub fn hmac_sha256(key: &[u8], msg: &[u8]) -> Vec<u8> {
        let mut k = [0u8; 64];
        k[..key.len()].copy_from_slice(key);
        let pad = |b: u8| k.iter().map(|x| x ^ b).collect::<Vec<u8>>();
        let inner = Sha256::new()
            .chain_update(pad(0x36))
            .chain_update(msg)
            .finalize();
        Sha256::new()
            .chain_update(pad(0x5c))
            .chain_update(inner)
            .finalize()
            .to_vec()
    }
}

fn operator(over: Value) -> Value {
    let mut c = json!({"iss": ISSUER, "aud": "authenticated", "role": "authenticated", "exp": NOW + 600.0,
                       "sub": "cccccccc-cccc-4ccc-8ccc-cccccccccccc", "aal": "aal2",
                       "app_metadata": {"platform_role": "admin"}});
    if let (Some(c), Some(o)) = (c.as_object_mut(), over.as_object()) {
        for (k, v) in o {
            c.insert(k.clone(), v.clone());
        }
    }
    c
}

fn check(p: &Project, cfg: &AdminConfig, token: &str) -> Result<(), u16> {
    block_on(authz::authorise(p, cfg, Some(&format!("Bearer {token}"))))
        .map(|_| ())
        .map_err(|e| e.status())
}

fn es_header() -> Value {
    json!({"alg": "ES256", "typ": "JWT", "kid": KID})
}

#[test]
fn an_es256_aal2_admin_is_accepted_and_the_keys_are_fetched_once() {
    let k = keys();
    let p = Project::new(json!({"keys": [ec_jwk(&k.ec, KID)]}));
    let cfg = cfg(&[]);
    assert_eq!(cfg.algorithms.len(), 2, "ES256 and RS256 without a secret");
    let t = es256(&k.ec, es_header(), &operator(json!({})));
    assert_eq!(check(&p, &cfg, &t), Ok(()));
    assert_eq!(check(&p, &cfg, &t), Ok(()));
    assert_eq!(p.fetches.get(), 1, "the JWKS is cached per isolate");
}

#[test]
fn an_rs256_token_is_accepted_when_configured_and_refused_when_not() {
    let k = keys();
    let p = Project::new(json!({"keys": [ec_jwk(&k.ec, KID), rsa_jwk(&k.rsa, "rsa-key")]}));
    let t = rs256(&k.rsa, "rsa-key", &operator(json!({})));
    assert_eq!(check(&p, &cfg(&[("JWT_ALGORITHMS", "RS256")]), &t), Ok(()));
    assert_eq!(
        check(&p, &cfg(&[("JWT_ALGORITHMS", "ES256")]), &t),
        Err(401)
    );
}

#[test]
fn an_unknown_kid_refetches_the_jwks_once_per_min_refresh() {
    let k = keys();
    let p = Project::new(json!({"keys": [ec_jwk(&k.ec, KID)]}));
    let cfg = cfg(&[("JWKS_MIN_REFRESH_S", "60")]);
    let ok = es256(&k.ec, es_header(), &operator(json!({})));
    assert_eq!(check(&p, &cfg, &ok), Ok(()));
    let unknown = es256(
        &k.ec,
        json!({"alg": "ES256", "kid": "rotated-away"}),
        &operator(json!({})),
    );
    p.now.set(NOW + 61.0);
    assert_eq!(check(&p, &cfg, &unknown), Err(401));
    assert_eq!(check(&p, &cfg, &unknown), Err(401));
    assert_eq!(check(&p, &cfg, &unknown), Err(401));
    assert_eq!(
        p.fetches.get(),
        2,
        "one refetch for the unknown kid, not one per request"
    );
    p.now.set(NOW + 122.0);
    assert_eq!(check(&p, &cfg, &unknown), Err(401));
    assert_eq!(p.fetches.get(), 3);
}

#[test]
fn tokens_the_router_would_refuse_are_refused_with_401_or_403() {
    let k = keys();
    let foreign = keys();
    let jwks = json!({"keys": [ec_jwk(&k.ec, KID), rsa_jwk(&k.rsa, "rsa-key")]});
    let es_only = cfg(&[("SUPABASE_JWT_SECRET", SECRET), ("JWT_ALGORITHMS", "ES256")]);
    let with_hs = cfg(&[("SUPABASE_JWT_SECRET", SECRET)]);
    let op = operator(json!({}));
    let forged_metadata = {
        // A signed non-admin token whose payload is swapped for one that claims the role.
        let t = es256(&k.ec, es_header(), &operator(json!({"app_metadata": {}})));
        let mut parts: Vec<String> = t.split('.').map(String::from).collect();
        parts[1] = B64.encode(op.to_string());
        parts.join(".")
    };
    let cases: Vec<(&str, &AdminConfig, String, u16)> = vec![
        (
            "foreign key under the project's kid",
            &es_only,
            es256(&foreign.ec, es_header(), &op),
            401,
        ),
        (
            "unknown kid",
            &es_only,
            es256(&k.ec, json!({"alg": "ES256", "kid": "nope"}), &op),
            401,
        ),
        (
            "alg none",
            &with_hs,
            format!(
                "{}.{}.",
                B64.encode(json!({"alg": "none"}).to_string()),
                B64.encode(op.to_string())
            ),
            401,
        ),
        (
            "HS256 when only ES256 is allowed",
            &es_only,
            hs256(&op),
            401,
        ),
        (
            "ES256 header naming the RSA key",
            &with_hs,
            es256(&k.ec, json!({"alg": "ES256", "kid": "rsa-key"}), &op),
            401,
        ),
        (
            "crit",
            &es_only,
            es256(
                &k.ec,
                json!({"alg": "ES256", "kid": KID, "crit": ["exp"], "exp": 1}),
                &op,
            ),
            401,
        ),
        (
            "crit on HS256",
            &with_hs,
            compact(&json!({"alg": "HS256", "crit": []}), &op, |m| {
                hmac_free::hmac_sha256(SECRET.as_bytes(), m)
            }),
            401,
        ),
        (
            "expired beyond the leeway",
            &es_only,
            es256(&k.ec, es_header(), &operator(json!({"exp": NOW - 31.0}))),
            401,
        ),
        (
            "no exp",
            &es_only,
            es256(&k.ec, es_header(), &operator(json!({"exp": null}))),
            401,
        ),
        (
            "wrong issuer",
            &es_only,
            es256(
                &k.ec,
                es_header(),
                &operator(json!({"iss": "https://evil.example/auth/v1"})),
            ),
            401,
        ),
        (
            "wrong audience",
            &es_only,
            es256(&k.ec, es_header(), &operator(json!({"aud": "other"}))),
            401,
        ),
        (
            "aal1",
            &es_only,
            es256(&k.ec, es_header(), &operator(json!({"aal": "aal1"}))),
            403,
        ),
        (
            "role only in user_metadata",
            &es_only,
            es256(
                &k.ec,
                es_header(),
                &operator(json!({"app_metadata": {}, "user_metadata": {"platform_role": "admin"}})),
            ),
            403,
        ),
        ("forged app_metadata", &es_only, forged_metadata, 401),
    ];
    for (what, cfg, token, status) in cases {
        let p = Project::new(jwks.clone());
        assert_eq!(check(&p, cfg, &token), Err(status), "{what}");
        // Refused before anything but the keys was asked for, in the PostgREST shape.
        let a = block_on(api::handle(
            &p,
            cfg,
            &api::ApiRequest {
                method: "GET",
                path: "/admin/v1/tenants",
                query: None,
                authorization: Some(&format!("Bearer {token}")),
                idempotency_key: None,
                body: b"",
            },
        ));
        assert_eq!(a.status, status, "{what}");
        assert!(
            ["code", "message", "details", "hint"]
                .iter()
                .all(|k| a.body.get(k).is_some()),
            "{what}: {}",
            a.body
        );
        assert!(p.other_calls.borrow().is_empty(), "{what}");
    }
    // The HS256 token itself is good: only the policy refused it.
    let p = Project::new(jwks);
    assert_eq!(check(&p, &with_hs, &hs256(&op)), Ok(()));
}

#[test]
fn hs256_in_jwt_algorithms_needs_the_secret() {
    let mut v: HashMap<_, _> = [
        ("SUPABASE_URL", "https://p.supabase.co"),
        ("SUPABASE_SECRET_KEY", "sk"),
        ("CLOUDFLARE_API_TOKEN", "cf"),
        ("CLOUDFLARE_ZONE_ID", "z"),
        ("BASE_DOMAINS", "app.example"),
        ("JWT_ALGORITHMS", "HS256"),
    ]
    .into_iter()
    .collect();
    assert!(AdminConfig::load(&Vars(v.clone())).is_err());
    v.insert("JWT_ALGORITHMS", "ES256,none");
    assert!(AdminConfig::load(&Vars(v.clone())).is_err());
    v.insert("JWT_ALGORITHMS", "ES256");
    v.insert("JWKS_MIN_REFRESH_S", "soon");
    assert!(AdminConfig::load(&Vars(v)).is_err());
}
