//! The console's API reads natively (console_api), over a backend that answers PostgREST's paths from
//! fixed tables and records every request: usage counted per tenant against its plan, the newest audit
//! entry as last activity, members joined to their emails, the slug check by crates/shared's rules.
#![cfg(not(target_arch = "wasm32"))]

use std::cell::RefCell;

use futures::executor::block_on;
use futures::future::LocalBoxFuture;
use serde_json::{json, Value};
use tenant_admin::backend::{Backend, Reply, Service};
use tenant_admin::config::AdminConfig;
use tenant_admin::console_api;
use uuid::Uuid;

const A: &str = "11111111-1111-4111-8111-111111111111";
const B: &str = "22222222-2222-4222-8222-222222222222";

const VARS: [(&str, &str); 5] = [
    ("SUPABASE_URL", "https://p.supabase.co"),
    ("SUPABASE_SECRET_KEY", "sk"),
    ("CLOUDFLARE_API_TOKEN", "cf"),
    ("CLOUDFLARE_ZONE_ID", "z"),
    ("BASE_DOMAINS", "app.example"),
];

/// Answers `GET /<table>?…` from the first route whose prefix the path starts with.
struct Tables {
    routes: Vec<(&'static str, Value)>,
    log: RefCell<Vec<String>>,
}

impl Backend for Tables {
    fn send<'a>(
        &'a self,
        service: Service,
        method: &'a str,
        path: &'a str,
        _body: Option<Value>,
    ) -> LocalBoxFuture<'a, Result<Reply, String>> {
        assert_eq!((service, method), (Service::Rest, "GET"), "{path}");
        self.log.borrow_mut().push(path.to_string());
        let body = self
            .routes
            .iter()
            .find(|(p, _)| path.starts_with(p))
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| json!([]));
        Box::pin(async move { Ok(Reply { status: 200, body }) })
    }

    fn now_s(&self) -> f64 {
        0.0
    }
}

fn cfg() -> AdminConfig {
    AdminConfig::load(&VARS).unwrap()
}

#[test]
fn usage_is_counted_per_tenant_against_its_plan_with_the_newest_audit_entry() {
    let b = Tables {
        routes: vec![
            (
                "/tenant_subscriptions?tenant_id=in.(",
                json!([{"tenant_id": A, "plan_id": "free"}, {"tenant_id": B, "plan_id": "pro"}]),
            ),
            (
                "/subscription_plans?id=in.(free,pro)",
                json!([{"id": "free", "name": "Free", "max_users": 5, "max_contacts": 100},
                                                             {"id": "pro", "name": "Pro", "max_users": 50, "max_contacts": null}]),
            ),
            (
                "/tenant_members?",
                json!([{"tenant_id": A}, {"tenant_id": A}, {"tenant_id": B}]),
            ),
            (
                "/contacts?",
                json!([{"tenant_id": B}, {"tenant_id": B}, {"tenant_id": B}]),
            ),
            (
                "/tenant_domains?",
                json!([{"tenant_id": B, "hostname": "crm.b.com", "status": "active", "ssl_status": "pending_validation"}]),
            ),
            (
                concat!(
                    "/audit_log?tenant_id=eq.",
                    "11111111-1111-4111-8111-111111111111"
                ),
                json!([{"occurred_at": "2026-12-01T10:00:00Z"}]),
            ),
        ],
        log: RefCell::default(),
    };
    let mut page = vec![json!({"id": A, "slug": "a"}), json!({"id": B, "slug": "b"})];
    block_on(console_api::add_usage(&b, &mut page)).unwrap();
    assert_eq!(
        page[0]["usage"],
        json!({"users": {"used": 2, "limit": 5}, "contacts": {"used": 0, "limit": 100}})
    );
    assert_eq!(
        page[1]["usage"],
        json!({"users": {"used": 1, "limit": 50}, "contacts": {"used": 3, "limit": null}})
    );
    assert_eq!(page[0]["plan"]["name"], "Free");
    assert_eq!(page[0]["domains"], json!([]));
    assert_eq!(page[1]["domains"][0]["ssl_status"], "pending_validation");
    assert_eq!(page[0]["last_activity"], "2026-12-01T10:00:00Z");
    assert_eq!(
        page[1]["last_activity"],
        Value::Null,
        "no audit entry: no activity"
    );
    // One query per table for the page, plus one audit query per tenant (bounded by USAGE_PAGE_MAX).
    assert_eq!(b.log.borrow().len(), 5 + page.len());
    assert!(
        b.log.borrow().iter().all(|p| !p.contains(' ')),
        "paths are escaped"
    );
}

#[test]
fn members_are_joined_to_their_emails_and_an_unknown_tenant_is_404() {
    let u = "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa";
    let b = Tables {
        routes: vec![
            ("/tenants?id=eq.", json!([{"id": A}])),
            (
                "/tenant_members?",
                json!([{"user_id": u, "role": "owner", "created_at": "t"}]),
            ),
            ("/users?id=in.(", json!([{"id": u, "email": "o@a.com"}])),
            (
                "/tenant_invitations?",
                json!([{"id": "i", "email": "new@a.com", "role": "member"}]),
            ),
        ],
        log: RefCell::default(),
    };
    let r = block_on(console_api::members(&b, Uuid::parse_str(A).unwrap())).unwrap();
    assert_eq!(
        r["members"],
        json!([{"user_id": u, "email": "o@a.com", "role": "owner", "created_at": "t"}])
    );
    assert_eq!(r["invitations"][0]["email"], "new@a.com");
    assert!(
        b.log
            .borrow()
            .iter()
            .any(|p| p.contains("accepted_at=is.null")),
        "pending invitations only"
    );
    let none = Tables {
        routes: vec![],
        log: RefCell::default(),
    };
    let e = block_on(console_api::members(&none, Uuid::parse_str(B).unwrap())).unwrap_err();
    assert_eq!(e.status(), 404);
}

#[test]
fn the_slug_check_follows_the_shared_rules_and_reports_a_taken_slug() {
    let taken = Tables {
        routes: vec![("/tenants?slug=eq.acme-clinic", json!([{"id": A}]))],
        log: RefCell::default(),
    };
    let r = block_on(console_api::slug_check(
        &taken,
        &cfg(),
        Some("name=Acme+Clinic"),
    ))
    .unwrap();
    assert_eq!(
        r,
        json!({"slug": "acme-clinic", "valid": true, "problem": null, "taken": true, "host": "acme-clinic.app.example"})
    );
    let r = block_on(console_api::slug_check(
        &taken,
        &cfg(),
        Some("name=x&slug=www"),
    ))
    .unwrap();
    assert_eq!(
        (r["valid"].clone(), r["taken"].clone()),
        (json!(false), json!(false))
    );
    assert_eq!(
        r["problem"],
        tenant_shared::slug::SlugError::Reserved.describe()
    );
    assert_eq!(
        taken.log.borrow().len(),
        1,
        "an invalid slug is not looked up"
    );
    for bad in [None, Some("other=1")] {
        let e = block_on(console_api::slug_check(&taken, &cfg(), bad)).unwrap_err();
        assert_eq!(e.status(), 400);
    }
}

#[test]
fn audit_limits_are_bounded_and_unknown_parameters_refused() {
    let b = Tables {
        routes: vec![("/tenants?id=eq.", json!([{"id": A}]))],
        log: RefCell::default(),
    };
    let id = Uuid::parse_str(A).unwrap();
    for q in ["limit=0", "limit=201", "limit=x", "before=1"] {
        let e = block_on(console_api::audit(&b, id, Some(q))).unwrap_err();
        assert_eq!(e.status(), 400, "{q}");
    }
    let r = block_on(console_api::audit(&b, id, Some("limit=200"))).unwrap();
    assert_eq!(r, json!({"entries": []}));
}
