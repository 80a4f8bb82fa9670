//! The Send Email hook natively, over a directory of two tenants and a recording mailer: the
//! attacks on the hook each end in a 4xx and no email.
#![cfg(not(target_arch = "wasm32"))]

use std::cell::RefCell;

use futures::executor::block_on;
use futures::future::LocalBoxFuture;
use serde_json::{json, Value};
use tenant_admin::backend::{Backend, Reply, Service};
use tenant_admin::config::{AdminConfig, VarSource};
use tenant_admin::email_hook::{handle, HookRequest};
use tenant_admin::hook_config::HookConfig;
use tenant_admin::mailer::{Email, MailError, Mailer};
use tenant_admin::webhook::{parse_secrets, sign};
use tenant_shared::signed_return::{self, ReturnKey};
use uuid::Uuid;

const NOW: i64 = 1_800_000_000;
const ACME: &str = "11111111-1111-4111-8111-111111111111";
const GLOBEX: &str = "22222222-2222-4222-8222-222222222222";
const SECRET: &str = "v1,whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const RETURN_KEY: &str = "k1:0123456789abcdef0123456789abcdef";

struct Vars;
impl VarSource for Vars {
    fn var(&self, name: &str) -> Option<String> {
        Some(
            match name {
                "SUPABASE_URL" => "http://sb.test",
                "SUPABASE_SECRET_KEY"
                | "SUPABASE_JWT_SECRET"
                | "CLOUDFLARE_API_TOKEN"
                | "CLOUDFLARE_ZONE_ID" => "x",
                "BASE_DOMAINS" => "app.test",
                "SEND_EMAIL_HOOK_SECRETS" => SECRET,
                "AUTH_RETURN_HOST" => "auth.app.test",
                "AUTH_RETURN_KEYS" => RETURN_KEY,
                "EMAIL_API_URL" => "http://mail.test/emails",
                "EMAIL_API_KEY" => "re_key",
                "EMAIL_FROM" => "auth@app.test",
                _ => return None,
            }
            .to_string(),
        )
    }
}

struct Directory;
impl Backend for Directory {
    fn send<'a>(
        &'a self,
        service: Service,
        method: &'a str,
        path: &'a str,
        body: Option<Value>,
    ) -> LocalBoxFuture<'a, Result<Reply, String>> {
        assert_eq!(
            (service, method, path),
            (Service::Rest, "POST", "/rpc/resolve_tenant")
        );
        let body = body.unwrap_or_default();
        let record = if body["p_domain"] == "crm.acme.com" || body["p_slug"] == "acme" {
            json!({"id": ACME, "slug": "acme", "name": "<script>alert(1)</script>Acme", "status": "active",
                   "branding": {"logo_url": "https://cdn.acme.com/logo.png", "primary_color": "#ff6600"}})
        } else if body["p_slug"] == "globex" {
            json!({"id": GLOBEX, "slug": "globex", "name": "Globex", "status": "active", "branding": {}})
        } else {
            Value::Null
        };
        Box::pin(async move {
            Ok(Reply {
                status: 200,
                body: record,
            })
        })
    }
    fn now_s(&self) -> f64 {
        NOW as f64
    }
}

/// A provider that honours idempotency keys, as Resend does.
#[derive(Default)]
struct Outbox(RefCell<Vec<(Email, String)>>);
impl Mailer for Outbox {
    fn send<'a>(
        &'a self,
        email: &'a Email,
        key: &'a str,
    ) -> LocalBoxFuture<'a, Result<(), MailError>> {
        let mut sent = self.0.borrow_mut();
        if !sent.iter().any(|(_, k)| k == key) {
            sent.push((email.clone(), key.to_string()));
        }
        Box::pin(async { Ok(()) })
    }
}

fn return_url(tenant: &str, target: &str) -> String {
    let key = ReturnKey {
        kid: "k1".into(),
        secret: b"0123456789abcdef0123456789abcdef".to_vec(),
    };
    let t = signed_return::sign(
        &key,
        Uuid::parse_str(tenant).unwrap(),
        target,
        NOW as u64 + 3600,
    );
    signed_return::return_url("https", "auth.app.test", &t)
}

fn payload(action: &str, redirect_to: &str, metadata: Value) -> Vec<u8> {
    json!({
        "user": {"id": "8484b834-f29e-4af2-bf42-80644d154f76", "email": "ann@example.com", "user_metadata": metadata},
        "email_data": {"token": "123456", "token_hash": "pkce_abc", "redirect_to": redirect_to,
                       "email_action_type": action, "site_url": "https://auth.app.test", "token_new": "", "token_hash_new": ""}
    })
    .to_string()
    .into_bytes()
}

fn call(outbox: &Outbox, id: &str, ts: i64, sig: Option<String>, body: &[u8]) -> (u16, Value) {
    let admin = AdminConfig::load(&Vars).unwrap();
    let hook = HookConfig::load(&Vars, &admin);
    let ts = ts.to_string();
    let secret = &parse_secrets(SECRET).unwrap()[0];
    let sig = sig.unwrap_or_else(|| sign(secret, id, ts.parse().unwrap(), body));
    let r = HookRequest {
        webhook_id: Some(id),
        webhook_timestamp: Some(&ts),
        webhook_signature: Some(&sig),
        body,
    };
    block_on(handle(&Directory, outbox, &admin, hook, &r))
}

#[test]
fn a_signed_call_sends_one_branded_email_linked_to_the_signed_host() {
    let o = Outbox::default();
    let body = payload(
        "signup",
        &return_url(ACME, "https://crm.acme.com/welcome?x=1"),
        json!({}),
    );
    assert_eq!(call(&o, "msg_1", NOW, None, &body), (200, json!({})));
    let sent = o.0.borrow();
    assert_eq!(sent.len(), 1);
    let m = &sent[0].0;
    assert_eq!(
        (m.to.as_str(), m.from.as_str()),
        ("ann@example.com", "auth@app.test")
    );
    let link = "https://crm.acme.com/__router/auth/confirm?token_hash=pkce_abc&type=signup&next=%2Fwelcome%3Fx%3D1";
    assert!(m.text.contains(link), "{}", m.text);
    assert!(m.html.contains(&link.replace('&', "&amp;")));
    assert!(m.html.contains("&lt;script&gt;") && !m.html.contains("<script>"));
    assert!(m.html.contains("https://cdn.acme.com/logo.png") && m.html.contains("#ff6600"));
}

#[test]
fn auths_retry_with_a_new_webhook_id_sends_nothing_more() {
    let o = Outbox::default();
    let body = payload(
        "magiclink",
        &return_url(ACME, "https://acme.app.test/"),
        json!({}),
    );
    assert_eq!(call(&o, "msg_1", NOW, None, &body).0, 200);
    assert_eq!(call(&o, "msg_2", NOW + 5, None, &body).0, 200);
    assert_eq!(o.0.borrow().len(), 1);
}

#[test]
fn bad_signature_other_body_or_stale_timestamp_is_401_and_no_email() {
    let o = Outbox::default();
    let body = payload(
        "signup",
        &return_url(ACME, "https://crm.acme.com/"),
        json!({}),
    );
    let secret = &parse_secrets(SECRET).unwrap()[0];
    let other = payload(
        "signup",
        &return_url(GLOBEX, "https://globex.app.test/"),
        json!({}),
    );
    for (ts, sig) in [
        (NOW, Some("v1,AAAA".to_string())),
        (NOW, Some(sign(secret, "msg_1", NOW, &other))),
        (
            NOW,
            Some(sign(
                &parse_secrets("v1,whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA").unwrap()[0],
                "msg_1",
                NOW,
                &body,
            )),
        ),
        (NOW - 301, None),
        (NOW + 301, None),
    ] {
        let (status, b) = call(&o, "msg_1", ts, sig, &body);
        assert_eq!(status, 401, "{b}");
        assert_eq!(b["error"]["http_code"], 401);
    }
    assert!(o.0.borrow().is_empty());
}

#[test]
fn the_tenant_comes_from_the_signature_never_from_user_metadata() {
    let o = Outbox::default();
    let acme_meta = json!({"tenant_id": ACME, "tenant_slug": "acme"});
    let key = ReturnKey {
        kid: "k1".into(),
        secret: b"another-key-another-key-another-k".to_vec(),
    };
    let forged = signed_return::return_url(
        "https",
        "auth.app.test",
        &signed_return::sign(
            &key,
            Uuid::parse_str(ACME).unwrap(),
            "https://crm.acme.com/",
            NOW as u64 + 60,
        ),
    );
    for redirect in [
        String::new(),
        "https://crm.acme.com/".into(),              // plain, unsigned
        forged,                                      // signed with another key
        return_url(GLOBEX, "https://crm.acme.com/"), // globex's signature on acme's host
        return_url(ACME, "https://evil.example/"),   // a foreign host
        return_url(ACME, "javascript:alert(1)"),
        return_url(ACME, "https://crm.acme.com/").replace("auth.app.test", "auth.app.test.evil"),
    ] {
        let (status, b) = call(
            &o,
            "msg_1",
            NOW,
            None,
            &payload("signup", &redirect, acme_meta.clone()),
        );
        assert_eq!(status, 422, "{redirect}: {b}");
    }
    assert!(o.0.borrow().is_empty());
}

#[test]
fn an_email_change_mails_both_addresses_with_gotrues_pairing() {
    let o = Outbox::default();
    let body = json!({
        "user": {"email": "old@example.com", "new_email": "new@example.com"},
        "email_data": {"token": "111111", "token_hash": "hash_for_new", "token_new": "222222", "token_hash_new": "hash_for_current",
                       "redirect_to": return_url(ACME, "https://crm.acme.com/settings"), "email_action_type": "email_change"}
    })
    .to_string()
    .into_bytes();
    assert_eq!(call(&o, "msg_1", NOW, None, &body).0, 200);
    let sent = o.0.borrow();
    let to: Vec<(&str, bool)> = sent
        .iter()
        .map(|(m, _)| (m.to.as_str(), m.text.contains("token_hash=hash_for_new")))
        .collect();
    assert_eq!(to, [("new@example.com", true), ("old@example.com", false)]);
    assert!(sent[1]
        .0
        .text
        .contains("token_hash=hash_for_current&type=email_change"));
}

#[test]
fn malformed_payloads_and_missing_config_are_4xx_or_a_rendered_500_never_a_panic() {
    let o = Outbox::default();
    for body in [
        &b"not json"[..],
        b"{}",
        br#"{"user":{},"email_data":{"email_action_type":"sms"}}"#,
    ] {
        let (status, b) = call(&o, "msg_1", NOW, None, body);
        assert_eq!(status, 400, "{b}");
    }
    struct NoHook;
    impl VarSource for NoHook {
        fn var(&self, n: &str) -> Option<String> {
            (n != "SEND_EMAIL_HOOK_SECRETS")
                .then(|| Vars.var(n))
                .flatten()
        }
    }
    let admin = AdminConfig::load(&Vars).unwrap();
    let r = HookRequest {
        webhook_id: None,
        webhook_timestamp: None,
        webhook_signature: None,
        body: b"{}",
    };
    let (status, b) = block_on(handle(
        &Directory,
        &o,
        &admin,
        HookConfig::load(&NoHook, &admin),
        &r,
    ));
    assert_eq!((status, b["error"]["http_code"].clone()), (500, json!(500)));
    assert!(o.0.borrow().is_empty());
}

#[test]
fn the_admins_own_invitation_redirect_is_signed_and_mailed_branded_on_the_slug_host() {
    let o = Outbox::default();
    let admin = AdminConfig::load(&Vars).unwrap();
    let redirect = admin.invite_redirect(Uuid::parse_str(ACME).unwrap(), "acme", NOW as u64);
    assert!(
        redirect.starts_with("https://auth.app.test/__router/auth/return?rt=v1.k1."),
        "{redirect}"
    );
    let (status, b) = call(
        &o,
        "msg_1",
        NOW,
        None,
        &payload("invite", &redirect, json!({})),
    );
    assert_eq!(status, 200, "{b}");
    let sent = o.0.borrow();
    assert!(
        sent[0].0.text.contains(
            "https://acme.app.test/__router/auth/confirm?token_hash=pkce_abc&type=invite&next=%2F"
        ),
        "{}",
        sent[0].0.text
    );
}
