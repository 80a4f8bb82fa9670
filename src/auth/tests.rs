use std::rc::Rc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use serde_json::{json, Value};

use super::crypto::native::RustCryptoVerifier;
use super::jwks::Jwk;
use super::*;
use crate::config::tests::vars;
use crate::runtime::testing::ManualClock;

const NOW_S: u64 = 1_800_000_000;
const SECRET: &str = "super-secret-jwt-token-with-at-least-32-characters";
const ISS: &str = "https://proj.supabase.co/auth/v1";
const ACME: &str = "11111111-1111-4111-8111-111111111111";
const GLOBEX: &str = "22222222-2222-4222-8222-222222222222";

fn config(extra: &[(&str, &str)]) -> Config {
    let mut v = vars(&[
        ("SUPABASE_URL", "https://proj.supabase.co"),
        ("SUPABASE_ANON_KEY", "sb_publishable_test"),
        ("SUPABASE_JWT_SECRET", SECRET),
        ("BASE_DOMAINS", "app.example"),
    ]);
    for (k, val) in extra {
        v.insert(k.to_string(), val.to_string());
    }
    Config::from_vars(&v).unwrap()
}

struct Keys {
    ec: p256::ecdsa::SigningKey,
    rsa: rsa::RsaPrivateKey,
}

fn keys() -> Keys {
    let mut rng = rand_core::OsRng;
    Keys {
        ec: p256::ecdsa::SigningKey::random(&mut rng),
        rsa: rsa::RsaPrivateKey::new(&mut rng, 1024).unwrap(),
    }
}

fn ec_jwk(k: &p256::ecdsa::SigningKey, kid: &str) -> Jwk {
    let p = k.verifying_key().to_encoded_point(false);
    Jwk::Ec {
        kid: Some(kid.into()),
        x: B64.encode(p.x().unwrap()),
        y: B64.encode(p.y().unwrap()),
    }
}

fn rsa_jwk(k: &rsa::RsaPrivateKey, kid: &str) -> Jwk {
    use rsa::traits::PublicKeyParts;
    Jwk::Rsa {
        kid: Some(kid.into()),
        n: B64.encode(k.n().to_bytes_be()),
        e: B64.encode(k.e().to_bytes_be()),
    }
}

fn user_claims() -> Value {
    json!({"sub": "u1", "role": "authenticated", "aud": "authenticated", "iss": ISS,
           "exp": NOW_S + 3600, "iat": NOW_S, "email": "a@acme.test"})
}

fn encode_parts(header: &Value, claims: &Value) -> String {
    format!(
        "{}.{}",
        B64.encode(header.to_string()),
        B64.encode(claims.to_string())
    )
}

fn hs256_with(secret: &[u8], claims: &Value) -> String {
    use hmac::{Hmac, Mac};
    let msg = encode_parts(&json!({"alg": "HS256", "typ": "JWT"}), claims);
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret).unwrap();
    mac.update(msg.as_bytes());
    format!("{msg}.{}", B64.encode(mac.finalize().into_bytes()))
}

fn hs256(claims: &Value) -> String {
    hs256_with(SECRET.as_bytes(), claims)
}

fn es256(k: &p256::ecdsa::SigningKey, kid: &str, claims: &Value) -> String {
    use p256::ecdsa::signature::Signer;
    let msg = encode_parts(&json!({"alg": "ES256", "typ": "JWT", "kid": kid}), claims);
    let sig: p256::ecdsa::Signature = k.sign(msg.as_bytes());
    format!("{msg}.{}", B64.encode(sig.to_bytes()))
}

fn rs256(k: &rsa::RsaPrivateKey, kid: &str, claims: &Value) -> String {
    use rsa::signature::{SignatureEncoding, Signer};
    let msg = encode_parts(&json!({"alg": "RS256", "typ": "JWT", "kid": kid}), claims);
    let sk = rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(k.clone());
    format!("{msg}.{}", B64.encode(sk.sign(msg.as_bytes()).to_bytes()))
}

struct Fixture {
    auth: Authenticator,
    cfg: Config,
    clock: Rc<ManualClock>,
    keys: Keys,
}

fn fixture(extra: &[(&str, &str)]) -> Fixture {
    let cfg = config(extra);
    let clock = ManualClock::at(NOW_S * 1000);
    let auth = Authenticator::new(&cfg, clock.clone(), Rc::new(RustCryptoVerifier));
    let keys = keys();
    auth.jwks_cache(&cfg.shared)
        .preload(vec![ec_jwk(&keys.ec, "ec1"), rsa_jwk(&keys.rsa, "rsa1")]);
    Fixture {
        auth,
        cfg,
        clock,
        keys,
    }
}

impl Fixture {
    async fn run(&self, token: &str) -> Result<Principal, RouterError> {
        self.auth
            .authenticate(Some(&format!("Bearer {token}")), &self.cfg.shared)
            .await
    }
    async fn refused(&self, token: &str) -> String {
        match self.run(token).await {
            Err(RouterError::InvalidToken(why)) => why,
            other => panic!("expected invalid_token, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn valid_hs256_user_token_is_a_user() {
    let f = fixture(&[]);
    let p = f.run(&hs256(&user_claims())).await.unwrap();
    assert_eq!(p.kind, TokenKind::User);
    assert_eq!(p.claims.unwrap().sub.as_deref(), Some("u1"));
}

#[tokio::test]
async fn valid_es256_and_rs256_tokens_are_users() {
    let f = fixture(&[]);
    assert_eq!(
        f.run(&es256(&f.keys.ec, "ec1", &user_claims()))
            .await
            .unwrap()
            .kind,
        TokenKind::User
    );
    assert_eq!(
        f.run(&rs256(&f.keys.rsa, "rsa1", &user_claims()))
            .await
            .unwrap()
            .kind,
        TokenKind::User
    );
}

#[tokio::test]
async fn no_authorization_is_anonymous() {
    let f = fixture(&[]);
    assert_eq!(
        f.auth.authenticate(None, &f.cfg.shared).await.unwrap().kind,
        TokenKind::None
    );
}

#[tokio::test]
async fn anon_key_and_publishable_keys_are_anonymous() {
    let f = fixture(&[]);
    let legacy_anon =
        hs256(&json!({"role": "anon", "iss": "supabase", "ref": "proj", "exp": NOW_S + 100_000}));
    assert_eq!(f.run(&legacy_anon).await.unwrap().kind, TokenKind::Anon);
    assert_eq!(
        f.run("sb_publishable_abc").await.unwrap().kind,
        TokenKind::Anon
    );
    assert_eq!(
        f.run("sb_publishable_test").await.unwrap().kind,
        TokenKind::Anon
    );
}

#[tokio::test]
async fn secret_keys_and_service_role_tokens_are_service_role() {
    let f = fixture(&[]);
    assert_eq!(
        f.run("sb_secret_abc").await.unwrap().kind,
        TokenKind::ServiceRole
    );
    let svc = hs256(&json!({"role": "service_role", "iss": "supabase", "exp": NOW_S + 100}));
    assert_eq!(f.run(&svc).await.unwrap().kind, TokenKind::ServiceRole);
}

#[tokio::test]
async fn non_bearer_authorization_is_invalid() {
    let f = fixture(&[]);
    for h in [
        "Basic dXNlcjpwYXNz",
        "Bearer",
        "Bearer    ",
        "token abc",
        "bearer",
    ] {
        let r = f.auth.authenticate(Some(h), &f.cfg.shared).await;
        assert!(
            matches!(r, Err(RouterError::InvalidToken(_))),
            "{h:?} gave {r:?}"
        );
    }
}

#[tokio::test]
async fn expired_token_is_refused_after_the_leeway() {
    let f = fixture(&[]);
    let mut c = user_claims();
    c["exp"] = json!(NOW_S - 20);
    assert!(
        f.run(&hs256(&c)).await.is_ok(),
        "20 s past exp is inside the 30 s leeway"
    );
    c["exp"] = json!(NOW_S - 31);
    assert_eq!(f.refused(&hs256(&c)).await, "token expired");
}

#[tokio::test]
async fn token_without_exp_is_refused() {
    let f = fixture(&[]);
    let mut c = user_claims();
    c.as_object_mut().unwrap().remove("exp");
    assert_eq!(f.refused(&hs256(&c)).await, "exp claim missing");
}

#[tokio::test]
async fn not_yet_valid_token_is_refused() {
    let f = fixture(&[]);
    let mut c = user_claims();
    c["nbf"] = json!(NOW_S + 60);
    assert_eq!(f.refused(&hs256(&c)).await, "token not yet valid");
    c["nbf"] = json!(NOW_S + 10);
    assert!(f.run(&hs256(&c)).await.is_ok());
}

#[tokio::test]
async fn wrong_audience_or_issuer_is_refused() {
    let f = fixture(&[]);
    let mut c = user_claims();
    c["aud"] = json!("somebody-else");
    assert_eq!(f.refused(&hs256(&c)).await, "wrong audience");
    c["aud"] = json!(["x", "authenticated"]);
    assert!(
        f.run(&hs256(&c)).await.is_ok(),
        "an audience list containing ours passes"
    );
    let mut c = user_claims();
    c["iss"] = json!("https://evil.supabase.co/auth/v1");
    assert_eq!(f.refused(&hs256(&c)).await, "wrong issuer");
    let mut c = user_claims();
    c.as_object_mut().unwrap().remove("aud");
    assert_eq!(f.refused(&hs256(&c)).await, "wrong audience");
}

#[tokio::test]
async fn unknown_role_is_refused() {
    let f = fixture(&[]);
    let mut c = user_claims();
    c["role"] = json!("postgres");
    assert_eq!(f.refused(&hs256(&c)).await, "role not accepted");
}

#[tokio::test]
async fn alg_none_is_refused() {
    let f = fixture(&[]);
    let unsigned = format!(
        "{}.",
        encode_parts(&json!({"alg": "none", "typ": "JWT"}), &user_claims())
    );
    f.refused(&unsigned).await;
    let unsigned = format!("{}.", encode_parts(&json!({"alg": "None"}), &user_claims()));
    f.refused(&unsigned).await;
}

#[tokio::test]
async fn hs256_signed_with_the_public_key_is_refused() {
    let f = fixture(&[("JWT_ALGORITHMS", "ES256,RS256")]);
    // Alg confusion: HMAC keyed with the public key a verifier might hand to HS256.
    let Jwk::Ec { x, y, .. } = ec_jwk(&f.keys.ec, "ec1") else {
        unreachable!()
    };
    let public = json!({"kty": "EC", "crv": "P-256", "x": x, "y": y}).to_string();
    assert_eq!(
        f.refused(&hs256_with(public.as_bytes(), &user_claims()))
            .await,
        "algorithm not allowed"
    );
    // Even with HS256 allowed, the HMAC key is the project secret, never a public key.
    let f = fixture(&[]);
    let pem = {
        use rsa::pkcs8::EncodePublicKey;
        f.keys
            .rsa
            .to_public_key()
            .to_public_key_pem(rsa::pkcs8::LineEnding::LF)
            .unwrap()
    };
    f.refused(&hs256_with(pem.as_bytes(), &user_claims())).await;
}

#[tokio::test]
async fn algorithms_come_from_configuration_not_the_token() {
    let f = fixture(&[("JWT_ALGORITHMS", "ES256")]);
    assert_eq!(
        f.refused(&hs256(&user_claims())).await,
        "algorithm not allowed"
    );
    assert_eq!(
        f.refused(&rs256(&f.keys.rsa, "rsa1", &user_claims())).await,
        "algorithm not allowed"
    );
    assert!(f
        .run(&es256(&f.keys.ec, "ec1", &user_claims()))
        .await
        .is_ok());
}

#[tokio::test]
async fn es256_header_with_rsa_kid_is_refused() {
    let f = fixture(&[]);
    // A token naming the RSA key but claiming ES256 finds no ES256 key of that kid.
    f.refused(&es256(&f.keys.ec, "rsa1", &user_claims())).await;
}

#[tokio::test]
async fn token_from_a_foreign_key_is_refused() {
    let f = fixture(&[]);
    let foreign = p256::ecdsa::SigningKey::random(&mut rand_core::OsRng);
    assert_eq!(
        f.refused(&es256(&foreign, "ec1", &user_claims())).await,
        "bad signature"
    );
    assert_eq!(
        f.refused(&hs256_with(
            b"another-projects-secret-of-32-chars!!",
            &user_claims()
        ))
        .await,
        "bad signature or claims"
    );
}

#[tokio::test]
async fn unknown_kid_is_refused() {
    let f = fixture(&[]);
    // The preloaded set counts as just fetched, so an unknown kid does not trigger a refetch.
    assert_eq!(
        f.refused(&es256(&f.keys.ec, "nope", &user_claims())).await,
        "unknown signing key"
    );
}

#[tokio::test]
async fn tampered_payload_is_refused() {
    let f = fixture(&[]);
    for token in [
        hs256(&user_claims()),
        es256(&f.keys.ec, "ec1", &user_claims()),
    ] {
        let parts: Vec<&str> = token.split('.').collect();
        let mut c = user_claims();
        c["role"] = json!("service_role");
        let forged = format!("{}.{}.{}", parts[0], B64.encode(c.to_string()), parts[2]);
        f.refused(&forged).await;
    }
}

#[tokio::test]
async fn truncated_and_garbage_tokens_are_refused() {
    let f = fixture(&[]);
    let good = es256(&f.keys.ec, "ec1", &user_claims());
    let cases = [
        good[..good.len() - 10].to_string(),
        good.rsplit_once('.').unwrap().0.to_string(),
        format!("{good}.extra"),
        "eyJ!!!.%%%.***".to_string(),
        "a.b.c".to_string(),
        "not-a-jwt".to_string(),
        "....".to_string(),
        format!(
            "{}.{}.",
            B64.encode("{\"alg\":\"ES256\",\"kid\":\"ec1\"}"),
            B64.encode("not json")
        ),
    ];
    for t in cases {
        f.refused(&t).await;
    }
}

#[tokio::test]
async fn hundred_kilobyte_token_is_refused_without_parsing() {
    let f = fixture(&[]);
    let big = format!(
        "{}.{}.{}",
        "a".repeat(50_000),
        "b".repeat(50_000),
        "c".repeat(2_000)
    );
    assert_eq!(f.refused(&big).await, "token too large");
}

#[tokio::test]
async fn verified_tokens_are_cached_until_exp() {
    let f = fixture(&[]);
    let mut c = user_claims();
    c["exp"] = json!(NOW_S + 60);
    let t = es256(&f.keys.ec, "ec1", &c);
    f.run(&t).await.unwrap();
    f.run(&t).await.unwrap();
    assert_eq!(f.auth.cached_tokens(), 1);
    f.clock.advance(100_000);
    assert_eq!(
        f.refused(&t).await,
        "token expired",
        "a cached token still expires"
    );
}

#[test]
fn tenant_ids_claim_must_list_the_tenant() {
    let tenant: TenantRecord = serde_json::from_value(json!({
        "id": ACME, "slug": "acme", "name": "A", "status": "active", "signup": "open"}))
    .unwrap();
    let with = |ids: Value| {
        let mut c = user_claims();
        c["tenant_ids"] = ids;
        Principal {
            kind: TokenKind::User,
            claims: Some(Rc::new(serde_json::from_value(c).unwrap())),
            verified_now: true,
        }
    };
    assert!(authorise(&with(json!([ACME])), &tenant, false).is_ok());
    assert!(authorise(&with(json!([GLOBEX, ACME.to_uppercase()])), &tenant, false).is_ok());
    assert_eq!(
        authorise(&with(json!([GLOBEX])), &tenant, false),
        Err(RouterError::TenantMismatch)
    );
    assert_eq!(
        authorise(&with(json!([])), &tenant, false),
        Err(RouterError::TenantMismatch)
    );
    let no_claim = Principal {
        kind: TokenKind::User,
        claims: Some(Rc::new(serde_json::from_value(user_claims()).unwrap())),
        verified_now: false,
    };
    assert!(
        authorise(&no_claim, &tenant, false).is_ok(),
        "without the claim the database decides"
    );
}

#[test]
fn service_role_needs_explicit_permission() {
    let tenant: TenantRecord = serde_json::from_value(json!({
        "id": ACME, "slug": "acme", "name": "A", "status": "active", "signup": "open"}))
    .unwrap();
    let svc = Principal {
        kind: TokenKind::ServiceRole,
        claims: None,
        verified_now: false,
    };
    assert_eq!(
        authorise(&svc, &tenant, false),
        Err(RouterError::ServiceRoleForbidden)
    );
    assert!(authorise(&svc, &tenant, true).is_ok());
}

mod jwks_refresh {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::Arc;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// Serves `body` as the JWKS on every request and counts requests.
    async fn jwks_server(body: String) -> (String, Arc<AtomicU32>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let hits = Arc::new(AtomicU32::new(0));
        let h = hits.clone();
        tokio::spawn(async move {
            loop {
                let Ok((mut sock, _)) = listener.accept().await else {
                    break;
                };
                h.fetch_add(1, Ordering::SeqCst);
                let body = body.clone();
                tokio::spawn(async move {
                    let mut buf = [0u8; 4096];
                    let _ = sock.read(&mut buf).await;
                    let resp = format!("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}", body.len());
                    let _ = sock.write_all(resp.as_bytes()).await;
                });
            }
        });
        (url, hits)
    }

    #[tokio::test]
    async fn jwks_is_fetched_from_the_project_and_unknown_kids_refetch_at_most_once_per_interval() {
        let k = keys();
        let Jwk::Ec { x, y, .. } = ec_jwk(&k.ec, "ec1") else {
            unreachable!()
        };
        let body = json!({"keys": [{"kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig", "kid": "ec1", "x": x, "y": y}]});
        let (url, hits) = jwks_server(body.to_string()).await;
        let cfg = Config::from_vars(&vars(&[
            ("SUPABASE_URL", &url),
            ("SUPABASE_ANON_KEY", "sb_publishable_x"),
            ("BASE_DOMAINS", "app.example"),
            ("JWKS_MIN_REFRESH_S", "60"),
        ]))
        .unwrap();
        let clock = ManualClock::at(NOW_S * 1000);
        let auth = Authenticator::new(&cfg, clock.clone(), Rc::new(RustCryptoVerifier));
        let mut c = user_claims();
        c["iss"] = json!(format!("{url}/auth/v1"));
        let bearer = |t: String| format!("Bearer {t}");

        auth.authenticate(Some(&bearer(es256(&k.ec, "ec1", &c))), &cfg.shared)
            .await
            .unwrap();
        assert_eq!(hits.load(Ordering::SeqCst), 1, "first use fetches the JWKS");

        for _ in 0..5 {
            let r = auth
                .authenticate(Some(&bearer(es256(&k.ec, "rotated", &c))), &cfg.shared)
                .await;
            assert!(matches!(r, Err(RouterError::InvalidToken(_))));
        }
        assert_eq!(
            hits.load(Ordering::SeqCst),
            1,
            "unknown kids inside the interval do not refetch"
        );

        clock.advance(61_000);
        let r = auth
            .authenticate(Some(&bearer(es256(&k.ec, "rotated", &c))), &cfg.shared)
            .await;
        assert!(r.is_err());
        assert_eq!(
            hits.load(Ordering::SeqCst),
            2,
            "after the interval one refetch is allowed"
        );
    }

    #[tokio::test]
    async fn unreachable_jwks_gives_invalid_token_not_a_crash() {
        let cfg = Config::from_vars(&vars(&[
            ("SUPABASE_URL", "http://127.0.0.1:9"),
            ("SUPABASE_ANON_KEY", "sb_publishable_x"),
            ("BASE_DOMAINS", "app.example"),
        ]))
        .unwrap();
        let auth = Authenticator::new(
            &cfg,
            ManualClock::at(NOW_S * 1000),
            Rc::new(RustCryptoVerifier),
        );
        let k = keys();
        let r = auth
            .authenticate(
                Some(&format!("Bearer {}", es256(&k.ec, "ec1", &user_claims()))),
                &cfg.shared,
            )
            .await;
        assert!(matches!(r, Err(RouterError::InvalidToken(_))));
    }
}

#[test]
fn any_crit_in_the_header_is_refused_whatever_its_value() {
    // The check is the shared one (crates/shared, `jwt::header`), for every algorithm.
    let all = [JwtAlg::Hs256, JwtAlg::Es256, JwtAlg::Rs256];
    let token = |header: &Value| format!("{}.e30.c2ln", B64.encode(header.to_string()));
    for header in [
        json!({"alg": "HS256", "crit": ["exp"], "exp": 1}),
        json!({"alg": "ES256", "crit": []}),
        json!({"alg": "RS256", "crit": null}),
        json!({"alg": "HS256", "crit": "b64"}),
    ] {
        assert_eq!(
            tenant_shared::jwt::header::parse(&token(&header), &all).err(),
            Some("critical header extensions are not supported"),
            "{header}"
        );
    }
    let ok = json!({"alg": "HS256", "typ": "JWT", "kid": "k"});
    assert!(tenant_shared::jwt::header::parse(&token(&ok), &all).is_ok());
}
