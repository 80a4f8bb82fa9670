//! Sign-up stamping: the router, not the client, says which tenant a new user signs up to.

use serde_json::{Map, Value};

use crate::error::RouterError;
use crate::tenant::{SignupPolicy, TenantRecord};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignupEndpoint {
    Signup,
    /// `/otp` and the older `/magiclink` create users unless told not to.
    Otp,
}

/// Which user-creating endpoint, if any, this request is.
pub fn endpoint(method: &str, path: &str) -> Option<SignupEndpoint> {
    if method != "POST" {
        return None;
    }
    match path.trim_end_matches('/') {
        "/auth/v1/signup" => Some(SignupEndpoint::Signup),
        "/auth/v1/otp" | "/auth/v1/magiclink" => Some(SignupEndpoint::Otp),
        _ => None,
    }
}

/// Refusals that need no body: an invite-only tenant takes no sign-ups.
pub fn precheck(ep: SignupEndpoint, tenant: &TenantRecord) -> Result<(), RouterError> {
    if ep == SignupEndpoint::Signup && tenant.signup == SignupPolicy::InviteOnly {
        return Err(RouterError::SignupClosed);
    }
    Ok(())
}

/// The body sent upstream: `data.tenant_id` set to the resolved tenant, whatever the client sent,
/// and on an invite-only tenant `create_user: false` for OTP.
pub fn stamp(
    ep: SignupEndpoint,
    tenant: &TenantRecord,
    body: &[u8],
) -> Result<Vec<u8>, RouterError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| RouterError::InvalidBody(format!("expected a JSON object: {e}")))?;
    let Value::Object(mut obj) = value else {
        return Err(RouterError::InvalidBody("expected a JSON object".into()));
    };
    let data = obj
        .entry("data")
        .or_insert_with(|| Value::Object(Map::new()));
    if data.is_null() {
        *data = Value::Object(Map::new());
    }
    let Value::Object(data) = data else {
        return Err(RouterError::InvalidBody(
            "\"data\" must be an object".into(),
        ));
    };
    data.insert("tenant_id".into(), Value::String(tenant.id.to_string()));
    if ep == SignupEndpoint::Otp && tenant.signup == SignupPolicy::InviteOnly {
        obj.insert("create_user".into(), Value::Bool(false));
    }
    serde_json::to_vec(&Value::Object(obj)).map_err(|e| RouterError::InvalidBody(e.to_string()))
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use serde_json::json;

    fn tenant(signup: &str) -> TenantRecord {
        serde_json::from_value(
            json!({"id": "11111111-1111-4111-8111-111111111111", "slug": "acme",
            "name": "A", "status": "active", "signup": signup}),
        )
        .unwrap()
    }

    fn stamped(ep: SignupEndpoint, signup: &str, body: Value) -> Value {
        serde_json::from_slice(&stamp(ep, &tenant(signup), body.to_string().as_bytes()).unwrap())
            .unwrap()
    }

    #[test]
    fn only_post_to_signup_otp_and_magiclink_are_stamped() {
        assert_eq!(
            endpoint("POST", "/auth/v1/signup"),
            Some(SignupEndpoint::Signup)
        );
        assert_eq!(endpoint("POST", "/auth/v1/otp"), Some(SignupEndpoint::Otp));
        assert_eq!(
            endpoint("POST", "/auth/v1/magiclink"),
            Some(SignupEndpoint::Otp)
        );
        assert_eq!(endpoint("GET", "/auth/v1/signup"), None);
        assert_eq!(endpoint("POST", "/auth/v1/token"), None);
    }

    #[test]
    fn client_tenant_id_is_replaced_and_other_metadata_kept() {
        let out = stamped(
            SignupEndpoint::Signup,
            "open",
            json!({"email": "a@b.c", "password": "pw",
            "data": {"tenant_id": "22222222-2222-4222-8222-222222222222", "full_name": "Ann"}}),
        );
        assert_eq!(
            out["data"]["tenant_id"],
            "11111111-1111-4111-8111-111111111111"
        );
        assert_eq!(out["data"]["full_name"], "Ann");
        assert_eq!(out["password"], "pw");
    }

    #[test]
    fn missing_or_null_data_is_created() {
        for body in [
            json!({"email": "a@b.c"}),
            json!({"email": "a@b.c", "data": null}),
        ] {
            assert_eq!(
                stamped(SignupEndpoint::Signup, "open", body)["data"]["tenant_id"],
                "11111111-1111-4111-8111-111111111111"
            );
        }
    }

    #[test]
    fn non_json_or_non_object_bodies_are_invalid() {
        for body in [
            &b"email=a@b.c"[..],
            b"[1]",
            b"\"str\"",
            b"",
            b"{\"data\": \"x\"}",
            b"{\"data\": []}",
        ] {
            let r = stamp(SignupEndpoint::Signup, &tenant("open"), body);
            assert!(
                matches!(r, Err(RouterError::InvalidBody(_))),
                "{:?}",
                String::from_utf8_lossy(body)
            );
        }
    }

    #[test]
    fn invite_only_refuses_signup_and_turns_otp_into_sign_in_only() {
        assert_eq!(
            precheck(SignupEndpoint::Signup, &tenant("invite_only")),
            Err(RouterError::SignupClosed)
        );
        assert!(precheck(SignupEndpoint::Otp, &tenant("invite_only")).is_ok());
        let out = stamped(
            SignupEndpoint::Otp,
            "invite_only",
            json!({"email": "a@b.c", "create_user": true}),
        );
        assert_eq!(out["create_user"], false);
        let out = stamped(SignupEndpoint::Otp, "open", json!({"email": "a@b.c"}));
        assert!(out.get("create_user").is_none());
    }
}
