//! Who may create accounts from a tenant's host, and which tenant they join: the router, not the
//! client, says which tenant a new user signs up to, and an invite-only tenant creates no users
//! through any endpoint (SPEC §1.4, §6 "Paths").

use serde_json::{Map, Value};

use super::auth_paths::AuthEndpoint;
use super::go_json::JsonObject;
use crate::error::RouterError;
use crate::tenant::{SignupPolicy, TenantRecord};

/// `/token` grants that create the user they sign in (`internal/api/token.go`).
const USER_CREATING_GRANTS: [&[u8]; 2] = [b"id_token", b"web3"];

fn invite_only(tenant: &TenantRecord) -> bool {
    tenant.signup == SignupPolicy::InviteOnly
}

/// Refusals that need no body: on an invite-only tenant every endpoint that creates users, except
/// `/otp`, which is told not to ([`stamp`]) so members still get their codes and links.
pub fn precheck(ep: AuthEndpoint, tenant: &TenantRecord) -> Result<(), RouterError> {
    use AuthEndpoint::*;
    let creates_users = matches!(
        ep,
        Signup | MagicLink | Sso | SamlAcs | Authorize | Callback
    );
    if creates_users && invite_only(tenant) {
        return Err(RouterError::SignupClosed);
    }
    Ok(())
}

/// `/token` on an invite-only tenant: refused when any `grant_type` the request carries (as GoTrue
/// decodes it, from the body or the query) is a grant that creates users.
pub fn check_grants<'a>(
    tenant: &TenantRecord,
    mut grant_types: impl Iterator<Item = &'a [u8]>,
) -> Result<(), RouterError> {
    if invite_only(tenant) && grant_types.any(|g| USER_CREATING_GRANTS.contains(&g)) {
        return Err(RouterError::SignupClosed);
    }
    Ok(())
}

/// The body sent upstream: `data.tenant_id` set to the resolved tenant, whatever the client sent,
/// and on an invite-only tenant `create_user: false` for OTP. `body`'s keys are already
/// canonical ([`JsonObject::parse`]), so no other key can stand for `data` or `create_user`.
pub fn stamp(
    ep: AuthEndpoint,
    tenant: &TenantRecord,
    body: &mut JsonObject,
) -> Result<(), RouterError> {
    let mut data = match body.get("data") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m,
        Some(_) => {
            return Err(RouterError::InvalidBody(
                "\"data\" must be an object".into(),
            ))
        }
    };
    data.insert("tenant_id".into(), Value::String(tenant.id.to_string()));
    body.set("data", Value::Object(data));
    if ep == AuthEndpoint::Otp && invite_only(tenant) {
        body.set("create_user", Value::Bool(false));
    }
    Ok(())
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

    const KEYS: [&str; 3] = ["data", "create_user", "redirect_to"];

    fn stamp_bytes(ep: AuthEndpoint, signup: &str, body: &[u8]) -> Result<Vec<u8>, RouterError> {
        let mut obj = JsonObject::parse(body, &KEYS)?;
        stamp(ep, &tenant(signup), &mut obj)?;
        Ok(obj.to_bytes())
    }

    fn stamped(ep: AuthEndpoint, signup: &str, body: Value) -> Value {
        serde_json::from_slice(&stamp_bytes(ep, signup, body.to_string().as_bytes()).unwrap())
            .unwrap()
    }

    #[test]
    fn client_tenant_id_is_replaced_and_other_metadata_kept() {
        let out = stamped(
            AuthEndpoint::Signup,
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
            json!({"email": "a@b.c", "DATA": null}),
        ] {
            assert_eq!(
                stamped(AuthEndpoint::Signup, "open", body)["data"]["tenant_id"],
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
            b"{\"data\": {}, \"Data\": {}}",
        ] {
            let r = stamp_bytes(AuthEndpoint::Signup, "open", body);
            assert!(
                matches!(r, Err(RouterError::InvalidBody(_))),
                "{:?}",
                String::from_utf8_lossy(body)
            );
        }
    }

    #[test]
    fn invite_only_refuses_every_user_creating_endpoint_but_otp() {
        use AuthEndpoint::*;
        for ep in [Signup, MagicLink, Sso, SamlAcs, Authorize, Callback] {
            assert_eq!(
                precheck(ep, &tenant("invite_only")),
                Err(RouterError::SignupClosed)
            );
            assert!(precheck(ep, &tenant("open")).is_ok());
        }
        for ep in [Otp, Token, Verify, Other] {
            assert!(precheck(ep, &tenant("invite_only")).is_ok());
        }
        let grants =
            |g: &'static [&'static [u8]]| check_grants(&tenant("invite_only"), g.iter().copied());
        assert_eq!(
            grants(&[b"password", b"id_token"]),
            Err(RouterError::SignupClosed)
        );
        assert_eq!(grants(&[b"web3"]), Err(RouterError::SignupClosed));
        assert!(grants(&[b"password", b"refresh_token", b"pkce"]).is_ok());
    }

    #[test]
    fn invite_only_otp_is_sign_in_only_whatever_the_spelling_of_create_user() {
        for body in [
            json!({"email": "a@b.c", "create_user": true}),
            json!({"email": "a@b.c", "CREATE_USER": true}),
            json!({"phone": "+15555550100", "create_u\u{17F}er": true}),
        ] {
            let out = stamped(AuthEndpoint::Otp, "invite_only", body);
            assert_eq!(out["create_user"], false);
            assert_eq!(out.as_object().unwrap().len(), 3, "{out}");
        }
        let out = stamped(AuthEndpoint::Otp, "open", json!({"email": "a@b.c"}));
        assert!(out.get("create_user").is_none());
    }
}
