//! `POST /admin/v1/tenants/:id/probe-users`: a user for `tenantctl probe` (README, "The live
//! isolation probe"), so the operator's machine needs no secret key to sign in as a tenant's member.
//!
//! Only a tenant the probe itself made takes one: its provisioning journal says `probe: true`, a flag
//! set at creation and never afterwards, so no operator's token can plant an account into a
//! customer's tenant through this route. The user is made through Auth's admin API (confirmed, a
//! random password generated here, `app_metadata.probe`), then made a member of that tenant alone;
//! the password is answered once and kept nowhere. The tenant's purge deletes the user with it (a
//! user left without a tenant, sql/020).

use serde_json::{json, Value};
use uuid::Uuid;

use crate::backend::{call, Backend, Service};
use crate::error::AdminError;

/// Random bytes in a password: 192 bits, as 32 URL-safe characters.
const PASSWORD_BYTES: usize = 24;

pub async fn create_user(b: &dyn Backend, tenant: Uuid) -> Result<Value, AdminError> {
    let rows = call(
        b,
        Service::Rest,
        "GET",
        &format!("/tenants?id=eq.{tenant}&select=id,slug,status"),
        None,
    )
    .await?;
    let t = rows.get(0).ok_or(AdminError::NotFound)?;
    let journals = call(
        b,
        Service::Rest,
        "GET",
        &format!("/provisionings?tenant_id=eq.{tenant}&select=request,status"),
        None,
    )
    .await?;
    if !made_by_probe(&journals) {
        return Err(AdminError::Conflict(
            "not a probe tenant: probe users are made only in tenants `tenantctl probe` created"
                .into(),
        ));
    }
    if t.get("status").and_then(Value::as_str) != Some("active") {
        return Err(AdminError::Conflict(
            "the probe tenant is not active".into(),
        ));
    }
    let slug = t.get("slug").and_then(Value::as_str).unwrap_or("probe");
    let nonce = random_token(6)?;
    let email = format!("{slug}-{nonce}@probe.invalid");
    let password = random_token(PASSWORD_BYTES)?;
    let user = call(
        b,
        Service::Auth,
        "POST",
        "/admin/users",
        Some(json!({
            "email": email, "password": password, "email_confirm": true,
            "app_metadata": {"probe": true, "probe_tenant": tenant},
        })),
    )
    .await?;
    let user_id = user
        .get("id")
        .and_then(Value::as_str)
        .and_then(|s| Uuid::parse_str(s).ok())
        .ok_or_else(|| AdminError::Unavailable("Auth answered no user id".into()))?;
    let member = call(
        b,
        Service::Rest,
        "POST",
        "/tenant_members",
        Some(json!({"tenant_id": tenant, "user_id": user_id, "role": "member"})),
    )
    .await;
    if let Err(e) = member {
        // No member, no use: the account goes rather than linger without a tenant.
        let _ = b
            .send(
                Service::Auth,
                "DELETE",
                &format!("/admin/users/{user_id}"),
                None,
            )
            .await;
        return Err(e);
    }
    Ok(json!({"user_id": user_id, "email": email, "password": password, "tenant_id": tenant}))
}

/// Whether one of the tenant's journals is a succeeded probe provisioning.
fn made_by_probe(journals: &Value) -> bool {
    journals.as_array().into_iter().flatten().any(|j| {
        j.pointer("/request/probe") == Some(&Value::Bool(true))
            && j.get("status").and_then(Value::as_str) == Some("succeeded")
    })
}

/// `n` bytes of the platform's CSPRNG, base64url without padding.
fn random_token(n: usize) -> Result<String, AdminError> {
    use base64::Engine;
    let mut buf = vec![0u8; n];
    getrandom::getrandom(&mut buf)
        .map_err(|e| AdminError::Unavailable(format!("no randomness: {e}")))?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf))
}

// Native only: the scripted backend runs on futures' executor (a native dev-dependency).
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::backend::Reply;
    use futures::future::LocalBoxFuture;
    use std::cell::RefCell;

    /// A backend answering from a script: the tenant's row and journals, Auth's and REST's writes.
    struct Script {
        journal: Value,
        member_status: u16,
        calls: RefCell<Vec<String>>,
    }

    impl Backend for Script {
        fn send<'a>(
            &'a self,
            service: Service,
            method: &'a str,
            path: &'a str,
            _body: Option<Value>,
        ) -> LocalBoxFuture<'a, Result<Reply, String>> {
            self.calls
                .borrow_mut()
                .push(format!("{service:?} {method} {path}"));
            let (status, body) = match (service, method) {
                (Service::Rest, "GET") if path.starts_with("/tenants") => (
                    200,
                    json!([{"id": "t", "slug": "probe-1", "status": "active"}]),
                ),
                (Service::Rest, "GET") => (200, self.journal.clone()),
                (Service::Auth, "POST") => {
                    (200, json!({"id": "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa"}))
                }
                (Service::Rest, "POST") => (self.member_status, Value::Null),
                _ => (200, json!({})),
            };
            Box::pin(async move { Ok(Reply { status, body }) })
        }

        fn now_s(&self) -> f64 {
            0.0
        }
    }

    fn script(journal: Value, member_status: u16) -> Script {
        Script {
            journal,
            member_status,
            calls: RefCell::new(Vec::new()),
        }
    }

    fn run(b: &Script) -> Result<Value, AdminError> {
        futures::executor::block_on(create_user(b, Uuid::nil()))
    }

    #[test]
    fn a_customers_tenant_gets_no_user_and_auth_is_never_asked() {
        let b = script(
            json!([{"request": {"name": "Acme"}, "status": "succeeded"}]),
            201,
        );
        assert_eq!(run(&b).map_err(|e| e.status()), Err(409));
        assert!(
            b.calls.borrow().iter().all(|c| !c.starts_with("Auth")),
            "{:?}",
            b.calls.borrow()
        );
    }

    #[test]
    fn a_probe_user_is_a_confirmed_member_and_a_failed_membership_deletes_the_account() {
        let probe = json!([{"request": {"probe": true}, "status": "succeeded"}]);
        let ok = script(probe.clone(), 201);
        let v = run(&ok).unwrap();
        assert!(v["email"].as_str().unwrap().starts_with("probe-1-"));
        assert_eq!(
            ok.calls.borrow().last().unwrap(),
            "Rest POST /tenant_members"
        );
        let failed = script(probe, 409);
        assert_eq!(run(&failed).map_err(|e| e.status()), Err(409));
        assert_eq!(
            failed.calls.borrow().last().unwrap(),
            "Auth DELETE /admin/users/aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa"
        );
    }

    #[test]
    fn only_a_succeeded_probe_provisioning_marks_a_probe_tenant() {
        let probe = json!([{"request": {"probe": true}, "status": "succeeded"}]);
        assert!(made_by_probe(&probe));
        for not in [
            json!([]),
            json!(null),
            json!([{"request": {"name": "Acme"}, "status": "succeeded"}]),
            json!([{"request": {"probe": "true"}, "status": "succeeded"}]),
            json!([{"request": {"probe": true}, "status": "failed"}]),
        ] {
            assert!(!made_by_probe(&not), "{not}");
        }
    }

    #[test]
    fn passwords_are_long_random_and_url_safe() {
        let (a, b) = (
            random_token(PASSWORD_BYTES).unwrap(),
            random_token(PASSWORD_BYTES).unwrap(),
        );
        assert_eq!(a.len(), 32);
        assert_ne!(a, b);
        assert!(a
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'));
    }
}
