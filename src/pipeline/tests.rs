use std::rc::Rc;

use serde_json::{json, Value};

use super::*;
use crate::auth::crypto::native::RustCryptoVerifier;
use crate::config::tests::vars;
use crate::request::BodyError;
use crate::runtime::testing::ManualClock;

const ACME: &str = "11111111-1111-4111-8111-111111111111";
const GLOBEX: &str = "22222222-2222-4222-8222-222222222222";
const SECRET: &str = "super-secret-jwt-token-with-at-least-32-characters";
const NOW_S: u64 = 1_800_000_000;

fn directory() -> String {
    json!([
        {"id": ACME, "slug": "acme", "name": "Acme Clinic", "status": "active", "custom_domain": null,
         "signup": "open", "branding": {"primary_color": "#004AAD"}, "placement": null},
        {"id": GLOBEX, "slug": "globex", "name": "Globex", "status": "active", "custom_domain": "crm.globex.test",
         "domains": ["crm.globex.test", "www.globex.test"], "signup": "invite_only", "branding": {}, "placement": null},
        {"id": "33333333-3333-4333-8333-333333333333", "slug": "frozen", "name": "Frozen", "status": "suspended",
         "signup": "open", "branding": {}, "placement": null},
        {"id": "44444444-4444-4444-8444-444444444444", "slug": "big", "name": "Big", "status": "active",
         "signup": "open", "branding": {}, "placement": {"project": "missing"}}
    ])
    .to_string()
}

fn router(extra: &[(&str, &str)]) -> Router {
    let dir = directory();
    let mut v = vars(&[
        ("SUPABASE_URL", "https://proj.supabase.co"),
        ("SUPABASE_ANON_KEY", "sb_publishable_anon"),
        ("SUPABASE_JWT_SECRET", SECRET),
        ("BASE_DOMAINS", "app.example"),
        ("TENANT_DIRECTORY", &dir),
        ("SIGNUP_MAX_BYTES", "1024"),
    ]);
    for (k, val) in extra {
        v.insert(k.to_string(), val.to_string());
    }
    Router::new(
        Config::from_vars(&v).unwrap(),
        ManualClock::at(NOW_S * 1000),
        Rc::new(RustCryptoVerifier),
    )
}

fn req(method: &str, host: &str, path_and_query: &str, headers: &[(&str, &str)]) -> Incoming {
    let (path, query) = match path_and_query.split_once('?') {
        Some((p, q)) => (p.to_string(), Some(q.to_string())),
        None => (path_and_query.to_string(), None),
    };
    Incoming {
        method: method.into(),
        scheme: "https".into(),
        host: host.into(),
        path,
        query,
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v.to_string()))
            .collect(),
        client_ip: Some("203.0.113.9".into()),
    }
}

struct Body(Vec<u8>);

impl BodySource for Body {
    fn read_limited(&mut self, limit: usize) -> LocalBoxFuture<'_, Result<Vec<u8>, BodyError>> {
        let r = if self.0.len() > limit {
            Err(BodyError::TooLarge)
        } else {
            Ok(self.0.clone())
        };
        Box::pin(async move { r })
    }
}

async fn run(r: &Router, i: Incoming, body: &[u8]) -> Handled {
    r.handle(&i, &mut Body(body.to_vec())).await
}

fn reply_of(h: &Handled) -> (u16, Value) {
    match &h.action {
        Action::Reply(r) => (
            r.status,
            serde_json::from_slice(&r.body).unwrap_or(Value::Null),
        ),
        Action::Forward(f) => panic!("expected a reply, got a forward to {}", f.url),
        Action::PassThrough => panic!("expected a reply, got a pass-through"),
    }
}

fn forward_of(h: &Handled) -> &Forward {
    match &h.action {
        Action::Forward(f) => f,
        Action::Reply(r) => panic!(
            "expected a forward, got {} {}",
            r.status,
            String::from_utf8_lossy(&r.body)
        ),
        Action::PassThrough => panic!("expected a forward, got a pass-through"),
    }
}

fn header<'a>(f: &'a Forward, name: &str) -> Vec<&'a str> {
    f.headers
        .iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .collect()
}

fn token(claims: Value) -> String {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
    use base64::Engine;
    use hmac::{Hmac, Mac};
    let msg = format!(
        "{}.{}",
        B64.encode(r#"{"alg":"HS256","typ":"JWT"}"#),
        B64.encode(claims.to_string())
    );
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(msg.as_bytes());
    format!("{msg}.{}", B64.encode(mac.finalize().into_bytes()))
}

fn user(extra: Value) -> String {
    let mut c = json!({"sub": "u1", "role": "authenticated", "aud": "authenticated",
        "iss": "https://proj.supabase.co/auth/v1", "exp": NOW_S + 600});
    if let (Value::Object(c), Value::Object(e)) = (&mut c, extra) {
        c.extend(e);
    }
    format!("Bearer {}", token(c))
}

#[tokio::test]
async fn slug_host_forwards_to_the_project_with_tenant_headers() {
    let r = router(&[]);
    let h = run(
        &r,
        req(
            "GET",
            "ACME.app.example:443",
            "/rest/v1/contacts?select=*&id=eq.1",
            &[
                ("authorization", &user(json!({}))),
                ("x-tenant-id", GLOBEX),
                ("x-forwarded-host", "globex.app.example"),
            ],
        ),
        b"",
    )
    .await;
    let f = forward_of(&h);
    assert_eq!(
        f.url,
        "https://proj.supabase.co/rest/v1/contacts?select=*&id=eq.1"
    );
    assert_eq!(header(f, "x-tenant-id"), vec![ACME]);
    assert_eq!(header(f, "x-tenant-slug"), vec!["acme"]);
    assert_eq!(header(f, "x-forwarded-host"), vec!["acme.app.example"]);
    assert_eq!(header(f, "apikey"), vec!["sb_publishable_anon"]);
    assert_eq!(f.body, UpstreamBody::Passthrough);
    assert_eq!(h.ctx.token, "user");
}

#[tokio::test]
async fn custom_domain_resolves_its_tenant() {
    let r = router(&[]);
    let h = run(
        &r,
        req("GET", "crm.globex.test", "/storage/v1/object/list", &[]),
        b"",
    )
    .await;
    assert_eq!(header(forward_of(&h), "x-tenant-id"), vec![GLOBEX]);
}

#[tokio::test]
async fn host_errors_have_their_codes() {
    let r = router(&[]);
    for (host, status, code) in [
        ("nobody.app.example", 404, "tenant_not_found"),
        ("a.acme.app.example", 404, "tenant_not_found"),
        ("unknown.example.com", 404, "tenant_not_found"),
        ("app.example", 404, "no_tenant_for_host"),
        ("www.app.example", 404, "no_tenant_for_host"),
        ("ac_me.app.example", 400, "invalid_host"),
        ("127.0.0.1:8787", 400, "invalid_host"),
        ("frozen.app.example", 403, "tenant_suspended"),
        ("big.app.example", 503, "placement_unavailable"),
    ] {
        let h = run(&r, req("GET", host, "/rest/v1/contacts", &[]), b"").await;
        let (s, body) = reply_of(&h);
        assert_eq!(
            (s, body["code"].as_str().unwrap()),
            (status, code),
            "{host}"
        );
    }
}

#[tokio::test]
async fn health_answers_on_any_host() {
    let r = router(&[]);
    for host in [
        "app.example",
        "acme.app.example",
        "nobody.example",
        "127.0.0.1",
    ] {
        let (s, body) = reply_of(&run(&r, req("GET", host, "/__router/health", &[]), b"").await);
        assert_eq!((s, body["status"].as_str()), (200, Some("ok")), "{host}");
    }
}

#[tokio::test]
async fn tenant_profile_is_public_and_suspension_applies() {
    let r = router(&[]);
    let (s, body) = reply_of(
        &run(
            &r,
            req("GET", "acme.app.example", "/__router/tenant", &[]),
            b"",
        )
        .await,
    );
    assert_eq!(s, 200);
    assert_eq!(body["branding"]["primary_color"], "#004AAD");
    assert!(body.get("placement").is_none());
    let (s, _) = reply_of(
        &run(
            &r,
            req("GET", "frozen.app.example", "/__router/tenant", &[]),
            b"",
        )
        .await,
    );
    assert_eq!(s, 403);
}

#[tokio::test]
async fn invalid_token_is_401_and_foreign_tenant_token_is_403() {
    let r = router(&[]);
    let h = run(
        &r,
        req(
            "GET",
            "acme.app.example",
            "/rest/v1/x",
            &[("authorization", "Bearer garbage")],
        ),
        b"",
    )
    .await;
    assert_eq!(reply_of(&h).0, 401);
    assert_eq!(h.ctx.token, "refused");
    let t = user(json!({"tenant_ids": [GLOBEX]}));
    let (s, body) = reply_of(
        &run(
            &r,
            req(
                "GET",
                "acme.app.example",
                "/rest/v1/x",
                &[("authorization", &t)],
            ),
            b"",
        )
        .await,
    );
    assert_eq!((s, body["code"].as_str()), (403, Some("tenant_mismatch")));
}

/// A token whose `tenant_ids` do not list acme reaches acme's project with exactly `allowed`
/// (stamped with acme's id); every request in `refused` is still refused at the edge.
async fn only_this_request_passes_for(
    tenant_ids: Value,
    allowed: (&str, &str),
    refused: &[(&str, &str)],
) {
    let r = router(&[]);
    let t = user(json!({ "tenant_ids": tenant_ids }));
    let auth = [("authorization", t.as_str())];
    let body: &[u8] = if allowed.0 == "GET" { b"" } else { b"{}" };
    let h = run(
        &r,
        req(allowed.0, "acme.app.example", allowed.1, &auth),
        body,
    )
    .await;
    assert_eq!(header(forward_of(&h), "x-tenant-id"), vec![ACME]);
    for (method, path) in refused {
        let (s, body) =
            reply_of(&run(&r, req(method, "acme.app.example", path, &auth), b"{}").await);
        assert_eq!(
            (s, body["code"].as_str()),
            (403, Some("tenant_mismatch")),
            "{method} {path}"
        );
    }
}

#[tokio::test]
async fn a_non_member_token_may_only_accept_an_invitation() {
    // Every other request, and every other spelling of this one, is still refused at the edge.
    only_this_request_passes_for(
        json!([GLOBEX]),
        ("POST", "/rest/v1/rpc/accept_invitation"),
        &[
            ("GET", "/rest/v1/rpc/accept_invitation"),
            ("POST", "/rest/v1/rpc/accept_invitation/"),
            ("POST", "/rest/v1/rpc/accept%5Finvitation"),
            ("POST", "/rest/v1/rpc/Accept_Invitation"),
            ("POST", "/rest/v1//rpc/accept_invitation"),
            ("POST", "/rest/v1/rpc/accept_invitations"),
            ("POST", "/rest/v1/contacts"),
        ],
    )
    .await;
}

#[tokio::test]
async fn a_non_member_token_may_read_its_own_auth_user_to_open_an_invitation() {
    // supabase-js reads the user of a session handed over in the fragment (GET /auth/v1/user)
    // before the invitee can accept: without it an invitation link cannot be opened on the host.
    only_this_request_passes_for(
        json!([GLOBEX]),
        ("GET", "/auth/v1/user"),
        &[
            ("PUT", "/auth/v1/user"),
            ("GET", "/auth/v1/user/"),
            ("GET", "/auth/v1/User"),
            ("GET", "/auth/v1/user/identities/authorize"),
            ("GET", "/auth/v1/admin/users"),
        ],
    )
    .await;
}

#[tokio::test]
async fn a_token_of_no_tenant_may_join_after_oauth_through_the_join_rpc_only() {
    // An OAuth provider's new user: the access token hook lists no tenant yet.
    only_this_request_passes_for(
        json!([]),
        ("POST", "/rest/v1/rpc/join_tenant_after_oauth"),
        &[
            ("GET", "/rest/v1/rpc/join_tenant_after_oauth"),
            ("POST", "/rest/v1/rpc/join_tenant_after_oauth/"),
            ("POST", "/rest/v1/rpc/join%5Ftenant_after_oauth"),
            ("POST", "/rest/v1/rpc/Join_Tenant_After_OAuth"),
            ("POST", "/rest/v1//rpc/join_tenant_after_oauth"),
            ("POST", "/rest/v1/contacts"),
        ],
    )
    .await;
}

#[tokio::test]
async fn service_role_is_refused_unless_allowed() {
    let svc = format!(
        "Bearer {}",
        token(json!({"role": "service_role", "iss": "supabase", "exp": NOW_S + 60}))
    );
    let i = req(
        "GET",
        "acme.app.example",
        "/rest/v1/x",
        &[("authorization", &svc)],
    );
    assert_eq!(
        reply_of(&run(&router(&[]), i.clone(), b"").await).1["code"],
        "service_role_forbidden"
    );
    forward_of(&run(&router(&[("ALLOW_SERVICE_ROLE", "true")]), i, b"").await);
}

#[tokio::test]
async fn signup_is_stamped_with_the_host_tenant() {
    let r = router(&[]);
    let body =
        json!({"email": "a@b.c", "password": "pw", "data": {"tenant_id": GLOBEX}}).to_string();
    let h = run(
        &r,
        req(
            "POST",
            "acme.app.example",
            "/auth/v1/signup",
            &[("content-length", "99")],
        ),
        body.as_bytes(),
    )
    .await;
    let f = forward_of(&h);
    let UpstreamBody::Replaced(b) = &f.body else {
        panic!("body must be replaced")
    };
    let sent: Value = serde_json::from_slice(b).unwrap();
    assert_eq!(sent["data"]["tenant_id"], ACME);
    assert!(header(f, "content-length").is_empty());
}

#[tokio::test]
async fn signup_errors_are_auth_shaped() {
    let r = router(&[]);
    let (s, b) = reply_of(
        &run(
            &r,
            req("POST", "acme.app.example", "/auth/v1/signup", &[]),
            b"email=x",
        )
        .await,
    );
    assert_eq!((s, b["error_code"].as_str()), (400, Some("invalid_body")));
    let big = format!("{{\"email\":\"{}\"}}", "a".repeat(2000));
    let (s, b) = reply_of(
        &run(
            &r,
            req("POST", "acme.app.example", "/auth/v1/signup", &[]),
            big.as_bytes(),
        )
        .await,
    );
    assert_eq!((s, b["error_code"].as_str()), (413, Some("body_too_large")));
    let (s, b) = reply_of(
        &run(
            &r,
            req("POST", "crm.globex.test", "/auth/v1/signup", &[]),
            b"{}",
        )
        .await,
    );
    assert_eq!(
        (s, b["msg"].as_str().is_some(), b["code"].as_str()),
        (403, true, Some("signup_closed"))
    );
}

#[tokio::test]
async fn otp_on_invite_only_tenant_cannot_create_users() {
    let r = router(&[]);
    let h = run(
        &r,
        req("POST", "crm.globex.test", "/auth/v1/otp", &[]),
        br#"{"email":"a@b.c"}"#,
    )
    .await;
    let UpstreamBody::Replaced(b) = &forward_of(&h).body else {
        panic!()
    };
    let sent: Value = serde_json::from_slice(b).unwrap();
    assert_eq!(
        (
            sent["create_user"].as_bool(),
            sent["data"]["tenant_id"].as_str()
        ),
        (Some(false), Some(GLOBEX))
    );
}

#[tokio::test]
async fn foreign_redirect_to_is_replaced_with_the_users_origin() {
    let r = router(&[]);
    let h = run(
        &r,
        req(
            "POST",
            "acme.app.example",
            "/auth/v1/recover?redirect_to=https%3A%2F%2Fevil.com",
            &[],
        ),
        b"",
    )
    .await;
    assert_eq!(
        forward_of(&h).url,
        "https://proj.supabase.co/auth/v1/recover?redirect_to=https%3A%2F%2Facme.app.example%2F"
    );
}

#[tokio::test]
async fn project_location_is_rewritten_to_the_tenant_origin() {
    let r = router(&[]);
    let h = run(
        &r,
        req("GET", "acme.app.example", "/auth/v1/verify?token=t", &[]),
        b"",
    )
    .await;
    let out = r.relay_headers(
        &h.ctx,
        vec![(
            "location".into(),
            "https://proj.supabase.co/auth/v1/callback?x=1".into(),
        )],
    );
    assert_eq!(
        out,
        vec![(
            "location".to_string(),
            "https://acme.app.example/auth/v1/callback?x=1".to_string()
        )]
    );
}

#[tokio::test]
async fn every_hostname_of_a_tenant_is_its_own_origin() {
    let r = router(&[]);
    let pre = |origin: &'static str| {
        req(
            "OPTIONS",
            "crm.globex.test",
            "/rest/v1/x",
            &[("origin", origin), ("access-control-request-method", "GET")],
        )
    };
    for (origin, allowed) in [
        ("https://www.globex.test", true),
        ("https://crm.globex.test", true),
        ("https://globex.app.example", true),
        ("https://evil.globex.test", false),
    ] {
        let h = run(&r, pre(origin), b"").await;
        let (status, headers, _) = match &h.action {
            Action::Reply(rep) => (rep.status, rep.headers.clone(), ()),
            _ => panic!("preflight is answered at the edge"),
        };
        assert_eq!(status, 204);
        let acao = headers
            .iter()
            .any(|(k, v)| k == "access-control-allow-origin" && v == origin);
        assert_eq!(acao, allowed, "{origin}");
    }
}

#[tokio::test]
async fn preflight_is_answered_at_the_edge_for_tenant_origins_only() {
    let r = router(&[]);
    let pre = |origin: &'static str| {
        req(
            "OPTIONS",
            "acme.app.example",
            "/rest/v1/x",
            &[
                ("origin", origin),
                ("access-control-request-method", "POST"),
            ],
        )
    };
    let h = run(&r, pre("https://acme.app.example"), b"").await;
    let Action::Reply(rep) = &h.action else {
        panic!()
    };
    assert_eq!(rep.status, 204);
    assert!(rep
        .headers
        .iter()
        .any(|(k, v)| k == "access-control-allow-origin" && v == "https://acme.app.example"));
    let h = run(&r, pre("https://globex.app.example"), b"").await;
    let Action::Reply(rep) = &h.action else {
        panic!()
    };
    assert!(rep
        .headers
        .iter()
        .all(|(k, _)| !k.starts_with("access-control-")));
    let h = run(
        &r,
        req(
            "OPTIONS",
            "nobody.app.example",
            "/rest/v1/x",
            &[
                ("origin", "https://x"),
                ("access-control-request-method", "GET"),
            ],
        ),
        b"",
    )
    .await;
    assert_eq!(reply_of(&h).0, 404);
}

#[tokio::test]
async fn non_api_paths_go_to_the_frontend_or_404() {
    let (s, b) = reply_of(
        &run(
            &router(&[]),
            req("GET", "acme.app.example", "/dashboard", &[]),
            b"",
        )
        .await,
    );
    assert_eq!((s, b["code"].as_str()), (404, Some("not_found")));
    let r = router(&[("FRONTEND_ORIGIN", "https://front.example.dev")]);
    let h = run(
        &r,
        req("GET", "acme.app.example", "/dashboard?tab=1", &[]),
        b"",
    )
    .await;
    let f = forward_of(&h);
    assert_eq!(f.url, "https://front.example.dev/dashboard?tab=1");
    assert!(
        header(f, "apikey").is_empty(),
        "the project key is not handed to the frontend"
    );
    assert_eq!(header(f, "x-tenant-slug"), vec!["acme"]);
}

#[tokio::test]
async fn certificate_validation_passes_through_before_any_host_check_or_lookup() {
    // A tenant's custom domain, a host no directory knows, a platform host and a malformed one:
    // the CA must reach the origin on each, so the router neither looks up nor refuses.
    for host in [
        "crm.acme.com",
        "new-customer.example",
        "app.example",
        "bad_host",
    ] {
        for path in [
            "/.well-known/acme-challenge/tok3n",
            "/.well-known/pki-validation/ca3-0123.txt",
        ] {
            let h = run(
                &router(&[]),
                req("GET", host, path, &[("authorization", "Bearer x.y.z")]),
                b"",
            )
            .await;
            assert!(
                matches!(h.action, Action::PassThrough),
                "{host}{path}: {:?}",
                h.action
            );
            assert!(
                h.ctx.tenant.is_none() && h.ctx.cache.is_none(),
                "{host}{path}"
            );
        }
    }
}

#[tokio::test]
async fn bench_endpoint_exists_only_when_enabled() {
    let i = req(
        "POST",
        "acme.app.example",
        "/__router/bench/verify?n=3",
        &[("authorization", &user(json!({})))],
    );
    assert_eq!(reply_of(&run(&router(&[]), i.clone(), b"").await).0, 404);
    let (s, b) = reply_of(&run(&router(&[("BENCH_ENDPOINTS", "true")]), i, b"").await);
    assert_eq!((s, b["n"].as_u64()), (200, Some(3)));
}

#[tokio::test]
async fn trap_endpoint_is_not_found_unless_bench_endpoints_are_enabled() {
    let i = req("POST", "acme.app.example", "/__router/bench/trap", &[]);
    assert_eq!(reply_of(&run(&router(&[]), i, b"").await).0, 404);
}

#[tokio::test]
#[should_panic(expected = "deliberate trap")]
async fn trap_endpoint_panics_when_bench_endpoints_are_enabled() {
    let i = req("POST", "acme.app.example", "/__router/bench/trap", &[]);
    run(&router(&[("BENCH_ENDPOINTS", "true")]), i, b"").await;
}

#[tokio::test]
async fn log_line_names_tenant_route_cache_and_token() {
    let r = router(&[]);
    let h = run(
        &r,
        req(
            "GET",
            "acme.app.example",
            "/rest/v1/x",
            &[("authorization", &user(json!({})))],
        ),
        b"",
    )
    .await;
    let v: Value = serde_json::from_str(&r.log_line(&h.ctx, 200)).unwrap();
    assert_eq!(
        (
            v["tenant"].as_str(),
            v["route"].as_str(),
            v["cache"].as_str(),
            v["token"].as_str()
        ),
        (Some("acme"), Some("/rest/v1"), Some("static"), Some("user"))
    );
}

#[tokio::test]
async fn secret_key_in_apikey_is_service_role_even_with_a_user_bearer() {
    let r = router(&[]);
    let u = user(json!({}));
    for key in [
        "sb_secret_abc".to_string(),
        token(json!({"role": "service_role", "iss": "supabase", "exp": NOW_S + 60})),
    ] {
        let i = req(
            "GET",
            "acme.app.example",
            "/rest/v1/x",
            &[("apikey", &key), ("authorization", &u)],
        );
        assert_eq!(
            reply_of(&run(&r, i, b"").await).1["code"],
            "service_role_forbidden"
        );
    }
}

#[tokio::test]
async fn unknown_methods_are_405_not_a_gateway_error() {
    let (s, b) = reply_of(
        &run(
            &router(&[]),
            req("PROPFIND", "acme.app.example", "/rest/v1/x", &[]),
            b"",
        )
        .await,
    );
    assert_eq!((s, b["code"].as_str()), (405, Some("method_not_allowed")));
}

#[tokio::test]
async fn an_upgrade_on_any_method_but_get_is_refused_before_anything_is_looked_up() {
    let r = router(&[]);
    for method in ["POST", "PUT", "DELETE", "HEAD", "OPTIONS"] {
        for upgrade in ["websocket", "WebSocket", "h2c, websocket"] {
            let h = run(
                &r,
                req(
                    method,
                    "acme.app.example",
                    "/realtime/v1/websocket",
                    &[("upgrade", upgrade)],
                ),
                b"{}",
            )
            .await;
            let (status, body) = reply_of(&h);
            assert_eq!(
                (status, body["code"].as_str()),
                (400, Some("invalid_upgrade"))
            );
        }
    }
    let h = run(
        &r,
        req(
            "GET",
            "acme.app.example",
            "/realtime/v1/websocket",
            &[("upgrade", "websocket")],
        ),
        b"",
    )
    .await;
    assert!(forward_of(&h).upgrade);
}

#[tokio::test]
async fn auth_redirect_carriers_become_one_query_target_and_the_others_are_dropped() {
    let r = router(&[]);
    let h = run(
        &r,
        req(
            "POST",
            "acme.app.example",
            "/auth/v1/recover?redirect%5Fto=https%3A%2F%2Fevil.example%2F&x=1",
            &[
                ("content-type", "application/x-www-form-urlencoded"),
                ("redirect_to", "https://evil.example/h"),
                ("referer", "https://acme.app.example/page"),
            ],
        ),
        b"email=a%40b.c&redirect_to=https%3A%2F%2Facme.app.example%2Fok",
    )
    .await;
    let f = forward_of(&h);
    assert_eq!(
        f.url,
        "https://proj.supabase.co/auth/v1/recover?x=1&redirect_to=https%3A%2F%2Facme.app.example%2F"
    );
    assert!(header(f, "redirect_to").is_empty() && header(f, "referer").is_empty());
    assert_eq!(f.body, UpstreamBody::Replaced(b"email=a%40b.c".to_vec()));
}

#[tokio::test]
async fn invite_only_and_non_canonical_auth_paths_are_refused_before_anything_is_read() {
    let r = router(&[]);
    for (host, path, status, code) in [
        (
            "crm.globex.test",
            "/auth/v1/magiclink",
            403,
            "signup_closed",
        ),
        (
            "crm.globex.test",
            "/auth/v1/authorize?provider=google",
            403,
            "signup_closed",
        ),
        (
            "crm.globex.test",
            "/auth/v1/token?grant%5Ftype=id_token",
            403,
            "signup_closed",
        ),
        ("acme.app.example", "/auth/v1/sign%75p", 400, "invalid_path"),
        ("acme.app.example", "/auth/v1//signup", 400, "invalid_path"),
    ] {
        let (s, b) = reply_of(&run(&r, req("POST", host, path, &[]), b"{}").await);
        assert_eq!(
            (s, b["error_code"].as_str()),
            (status, Some(code)),
            "{host}{path}"
        );
    }
}

#[tokio::test]
async fn a_service_credential_anywhere_in_the_request_is_refused() {
    let r = router(&[]);
    for (path, headers) in [
        ("/rest/v1/contacts?api%6Bey=sb_secret_x", vec![]),
        (
            "/rest/v1/contacts",
            vec![("apikey", "sb_publishable_anon, sb_secret_x")],
        ),
        (
            "/rest/v1/contacts",
            vec![("apikey", "sb_publishable_anon"), ("apikey", "sb_secret_x")],
        ),
    ] {
        let (s, b) = reply_of(&run(&r, req("GET", "acme.app.example", path, &headers), b"").await);
        assert_eq!(
            (s, b["code"].as_str()),
            (403, Some("service_role_forbidden")),
            "{path} {headers:?}"
        );
    }
    let (s, b) = reply_of(
        &run(
            &r,
            req(
                "GET",
                "acme.app.example",
                "/rest/v1/contacts?apikey=sb_publishable_other",
                &[("apikey", "sb_publishable_anon")],
            ),
            b"",
        )
        .await,
    );
    assert_eq!(
        (s, b["code"].as_str()),
        (400, Some("ambiguous_credentials"))
    );
}

#[tokio::test]
async fn tenant_hosts_asked_for_before_the_tenant_is_known_are_not_kept_for_later() {
    let r = router(&[]);
    let mut ctx = run(&r, req("GET", "nobody.app.example", "/rest/v1/x", &[]), b"")
        .await
        .ctx;
    assert!(ctx.tenant.is_none());
    assert!(r.hosts(&ctx).is_empty());
    let acme = run(&r, req("GET", "acme.app.example", "/rest/v1/x", &[]), b"")
        .await
        .ctx
        .tenant
        .expect("acme resolves");
    ctx.tenant = Some(acme);
    assert!(
        r.hosts(&ctx).iter().any(|h| h == "acme.app.example"),
        "{:?}",
        r.hosts(&ctx)
    );
}
