//! The admin core natively: the runner over a backend that answers as the database, Auth and
//! Cloudflare do (the journal kept in memory as sql/019 keeps it), with failures injected per
//! request; and the operator check over real HS256 tokens.
#![cfg(not(target_arch = "wasm32"))]

use std::cell::RefCell;
use std::collections::HashMap;

use futures::executor::block_on;
use futures::future::LocalBoxFuture;
use serde_json::{json, Value};
use tenant_admin::backend::{Backend, Reply, Service};
use tenant_admin::config::AdminConfig;
use tenant_admin::runner::{self, Outcome};
use tenant_admin::{api, authz};
use uuid::Uuid;

const SECRET: &str = "native-test-secret-with-at-least-32-characters";
const ISSUER: &str = "https://p.supabase.co/auth/v1";

const VARS: [(&str, &str); 6] = [
    ("SUPABASE_URL", "https://p.supabase.co"),
    ("SUPABASE_SECRET_KEY", "sk"),
    ("SUPABASE_JWT_SECRET", SECRET),
    ("CLOUDFLARE_API_TOKEN", "cf"),
    ("CLOUDFLARE_ZONE_ID", "z"),
    ("BASE_DOMAINS", "app.example"),
];

/// The journal and the world, as the backends would hold them.
#[derive(Default)]
struct World {
    status: String,
    lease_free: bool,
    steps: Vec<(String, String, Option<String>)>,
    tenant: bool,
    hostnames: HashMap<String, String>,
    invited: Vec<String>,
    log: Vec<String>,
    /// Request prefixes ("POST /rpc/provision_tenant") that fail with 503 once.
    fail: Vec<String>,
}

struct Fake(RefCell<World>);

impl Fake {
    fn new(steps: &[&str]) -> Self {
        Fake(RefCell::new(World {
            status: "pending".into(),
            lease_free: true,
            steps: steps
                .iter()
                .map(|s| (s.to_string(), "pending".into(), None))
                .collect(),
            ..Default::default()
        }))
    }

    fn journal(w: &World) -> Value {
        json!({"id": ID, "tenant_id": TENANT, "status": w.status, "error": null,
               "steps": w.steps.iter().map(|(n, s, e)| json!({"name": n, "status": s, "error": e})).collect::<Vec<_>>()})
    }

    fn answer(&self, method: &str, path: &str, body: Option<Value>) -> Reply {
        let mut w = self.0.borrow_mut();
        let key = format!("{method} {path}");
        w.log.push(key.clone());
        if let Some(i) = w.fail.iter().position(|f| key.starts_with(f.as_str())) {
            w.fail.remove(i);
            return Reply {
                status: 503,
                body: json!({"message": "injected"}),
            };
        }
        let b = body.unwrap_or(Value::Null);
        let ok = |body| Reply { status: 200, body };
        match (method, path.split('?').next().unwrap_or_default()) {
            ("POST", "/rpc/claim_provisioning") => {
                if !w.lease_free || matches!(w.status.as_str(), "succeeded" | "failed") {
                    return ok(Value::Null);
                }
                if w.status == "pending" {
                    w.status = "running".into();
                }
                ok(Self::journal(&w))
            }
            ("GET", "/provisionings") => ok(json!([{"id": ID, "tenant_id": TENANT, "request": {
                "name": "Acme", "slug": "acme", "plan": "pro", "admin_email": "a@acme.com",
                "custom_domain": "crm.acme.com", "signup": "invite_only", "branding": {}}}])),
            ("POST", "/rpc/record_provisioning_step") => {
                let (step, status) = (
                    b["p_step"].as_str().unwrap_or_default().to_string(),
                    b["p_status"].as_str().unwrap_or_default().to_string(),
                );
                if status.starts_with("compensat") {
                    w.status = "compensating".into();
                }
                let err = b["p_error"].as_str().map(String::from);
                if let Some(s) = w.steps.iter_mut().find(|s| s.0 == step) {
                    s.1 = status;
                    s.2 = err;
                }
                ok(Self::journal(&w))
            }
            ("POST", "/rpc/finish_provisioning") => {
                w.status = b["p_status"].as_str().unwrap_or_default().into();
                ok(Self::journal(&w))
            }
            ("POST", "/rpc/provision_tenant") => {
                w.tenant = true;
                ok(json!({}))
            }
            ("POST", "/rpc/unprovision_tenant") => {
                let had = w.tenant;
                w.tenant = false;
                ok(json!(had))
            }
            ("GET", "/zones/z/custom_hostnames") => ok(
                json!({"result": w.hostnames.iter().map(|(h, id)| json!({"id": id, "hostname": h})).collect::<Vec<_>>()}),
            ),
            ("POST", "/zones/z/custom_hostnames") => {
                let h = b["hostname"].as_str().unwrap_or_default().to_string();
                let id = format!("cf-{}", w.hostnames.len() + 1);
                w.hostnames.insert(h.clone(), id.clone());
                ok(
                    json!({"result": {"id": id, "hostname": h, "status": "pending", "ssl": {"status": "initializing"}}}),
                )
            }
            ("DELETE", p) if p.starts_with("/zones/z/custom_hostnames/") => {
                let id = p.rsplit('/').next().unwrap_or_default().to_string();
                w.hostnames.retain(|_, v| *v != id);
                ok(json!({"result": {"id": id}}))
            }
            ("PATCH", "/tenant_domains") => Reply {
                status: 204,
                body: Value::Null,
            },
            ("POST", "/invite") => {
                w.invited
                    .push(b["email"].as_str().unwrap_or_default().into());
                ok(json!({"id": "u1"}))
            }
            _ => Reply {
                status: 404,
                body: json!({"message": format!("unexpected {key}")}),
            },
        }
    }
}

const ID: &str = "99999999-9999-4999-8999-999999999999";
const TENANT: &str = "88888888-8888-4888-8888-888888888888";

impl Backend for Fake {
    fn send<'a>(
        &'a self,
        _s: Service,
        method: &'a str,
        path: &'a str,
        body: Option<Value>,
    ) -> LocalBoxFuture<'a, Result<Reply, String>> {
        Box::pin(async move { Ok(self.answer(method, path, body)) })
    }
    fn now_s(&self) -> f64 {
        1_800_000_000.0
    }
}

fn cfg() -> AdminConfig {
    AdminConfig::load(&VARS).unwrap()
}

fn id() -> Uuid {
    Uuid::parse_str(ID).unwrap()
}

const STEPS: [&str; 3] = ["create_tenant", "custom_hostname", "invite_admin"];

#[test]
fn every_step_runs_in_order_and_the_provisioning_succeeds() {
    let f = Fake::new(&STEPS);
    assert_eq!(
        block_on(runner::run(&f, &cfg(), id())).unwrap(),
        Outcome::Succeeded
    );
    let w = f.0.borrow();
    assert!(w.tenant && w.hostnames.contains_key("crm.acme.com") && w.invited == ["a@acme.com"]);
    assert!(w.steps.iter().all(|s| s.1 == "done"));
    assert_eq!(w.status, "succeeded");
}

#[test]
fn a_failure_at_each_step_compensates_the_earlier_ones_newest_first() {
    for (fail, step) in [
        ("POST /rpc/provision_tenant", 0),
        ("POST /zones/z/custom_hostnames", 1),
        ("PATCH /tenant_domains", 1),
        ("POST /invite", 2),
    ] {
        let f = Fake::new(&STEPS);
        f.0.borrow_mut().fail.push(fail.into());
        assert_eq!(
            block_on(runner::run(&f, &cfg(), id())).unwrap(),
            Outcome::Failed,
            "{fail}"
        );
        let w = f.0.borrow();
        assert!(!w.tenant && w.hostnames.is_empty(), "{fail}: nothing left");
        assert_eq!(w.status, "failed");
        assert!(
            w.steps[step]
                .2
                .as_deref()
                .unwrap_or_default()
                .starts_with(STEPS[step]),
            "{fail}: cause recorded"
        );
        for (i, s) in w.steps.iter().enumerate() {
            assert_eq!(
                s.1,
                if i <= step { "compensated" } else { "pending" },
                "{fail}: {s:?}"
            );
        }
        // Undone newest first: the hostname's deletion comes before the tenant's.
        let undo: Vec<&String> = w
            .log
            .iter()
            .filter(|l| l.starts_with("DELETE") || l.contains("unprovision"))
            .collect();
        if step >= 1 && !undo.is_empty() {
            assert!(
                undo.last().is_some_and(|l| l.contains("unprovision")),
                "{fail}: {undo:?}"
            );
        }
    }
}

#[test]
fn a_held_lease_is_not_claimed_and_a_failed_compensation_is_resumed_later() {
    let f = Fake::new(&STEPS);
    f.0.borrow_mut().lease_free = false;
    assert_eq!(
        block_on(runner::run(&f, &cfg(), id())).unwrap(),
        Outcome::NotClaimed
    );
    assert!(f.0.borrow().log.iter().all(|l| l.contains("claim")));

    let f = Fake::new(&STEPS);
    f.0.borrow_mut().fail.extend([
        "POST /invite".to_string(),
        "POST /rpc/unprovision_tenant".to_string(),
    ]);
    assert_eq!(
        block_on(runner::run(&f, &cfg(), id())).unwrap(),
        Outcome::Compensating
    );
    assert!(
        f.0.borrow().tenant,
        "the tenant is still there: its undo failed"
    );
    assert_eq!(
        block_on(runner::run(&f, &cfg(), id())).unwrap(),
        Outcome::Failed
    );
    let w = f.0.borrow();
    assert!(!w.tenant && w.hostnames.is_empty());
    assert!(w.steps.iter().all(|s| s.1 == "compensated"));
}

#[test]
fn a_retried_hostname_step_finds_the_hostname_instead_of_making_a_second() {
    let f = Fake::new(&STEPS);
    f.0.borrow_mut()
        .hostnames
        .insert("crm.acme.com".into(), "cf-early".into());
    assert_eq!(
        block_on(runner::run(&f, &cfg(), id())).unwrap(),
        Outcome::Succeeded
    );
    let w = f.0.borrow();
    assert_eq!(w.hostnames.len(), 1);
    assert!(!w.log.iter().any(|l| l == "POST /zones/z/custom_hostnames"));
}

fn token(claims: Value, secret: &str) -> String {
    tenant_shared::hs256::install();
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

fn operator(over: Value) -> Value {
    let mut c = json!({"iss": ISSUER, "aud": "authenticated", "role": "authenticated", "exp": 1_800_000_600.0,
                       "sub": "cccccccc-cccc-4ccc-8ccc-cccccccccccc", "aal": "aal2", "app_metadata": {"platform_role": "admin"}});
    if let (Some(c), Some(o)) = (c.as_object_mut(), over.as_object()) {
        for (k, v) in o {
            c.insert(k.clone(), v.clone());
        }
    }
    c
}

#[test]
fn only_an_mfa_platform_admin_passes() {
    let f = Fake::new(&STEPS);
    let check = |t: &str| {
        block_on(authz::authorise(&f, &cfg(), Some(&format!("Bearer {t}")))).map_err(|e| e.status())
    };
    assert!(check(&token(operator(json!({})), SECRET)).is_ok());
    for (what, claims, secret, status) in [
        ("aal1", operator(json!({"aal": "aal1"})), SECRET, 403),
        (
            "no platform role",
            operator(json!({"app_metadata": {}})),
            SECRET,
            403,
        ),
        (
            "role in user_metadata only",
            operator(json!({"app_metadata": {}, "user_metadata": {"platform_role": "admin"}})),
            SECRET,
            403,
        ),
        (
            "service_role key",
            json!({"iss": "supabase", "role": "service_role", "exp": 1_900_000_000.0}),
            SECRET,
            403,
        ),
        (
            "forged (other secret)",
            operator(json!({})),
            "another-secret-with-at-least-32-characters!!",
            401,
        ),
        (
            "expired",
            operator(json!({"exp": 1_799_999_000.0})),
            SECRET,
            401,
        ),
        (
            "other issuer",
            operator(json!({"iss": "https://evil.example/auth/v1"})),
            SECRET,
            401,
        ),
    ] {
        assert_eq!(check(&token(claims, secret)).err(), Some(status), "{what}");
    }
    assert_eq!(
        block_on(authz::authorise(&f, &cfg(), None))
            .err()
            .map(|e| e.status()),
        Some(401)
    );
}

#[test]
fn requests_are_answered_in_the_postgrest_shape_before_any_backend_call() {
    let f = Fake::new(&STEPS);
    let t = format!("Bearer {}", token(operator(json!({})), SECRET));
    for (method, path, key, body, status) in [
        ("POST", "/admin/v1/tenants", None, &b"{}"[..], 400),
        (
            "POST",
            "/admin/v1/tenants",
            Some("k"),
            &b"not json"[..],
            400,
        ),
        ("PUT", "/admin/v1/tenants", Some("k"), &b""[..], 405),
        ("GET", "/admin/v1/tenants/not-a-uuid", None, &b""[..], 404),
        ("GET", "/nope", None, &b""[..], 404),
        // Not an action: the purge arm must never see `metrics`.
        (
            "POST",
            "/admin/v1/tenants/6f1c2a3e-0000-4000-8000-00000000ac4e/metrics",
            None,
            &b"{\"override\": true}"[..],
            405,
        ),
        ("DELETE", "/admin/v1/metrics/top", None, &b""[..], 405),
    ] {
        let a = block_on(api::handle(
            &f,
            &cfg(),
            &api::ApiRequest {
                method,
                path,
                query: None,
                authorization: Some(&t),
                idempotency_key: key,
                body,
            },
        ));
        assert_eq!(a.status, status, "{method} {path}");
        assert!(["code", "message", "details", "hint"]
            .iter()
            .all(|k| a.body.get(k).is_some()));
    }
    assert!(f.0.borrow().log.is_empty());
}

#[test]
fn the_reconciler_runs_every_unfinished_provisioning_and_one_error_does_not_stop_it() {
    let f = Fake::new(&STEPS);
    // The journal's GET answers the one provisioning; its claim fails once (the database blips).
    f.0.borrow_mut()
        .fail
        .push("POST /rpc/claim_provisioning".into());
    let first = block_on(runner::reconcile(&f, &cfg())).unwrap();
    assert_eq!(first.len(), 1);
    assert!(first[0].1.is_err());
    let second = block_on(runner::reconcile(&f, &cfg())).unwrap();
    assert_eq!(second[0].1.as_ref().ok(), Some(&Outcome::Succeeded));
}
