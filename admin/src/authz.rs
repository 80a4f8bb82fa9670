//! Who may call the admin API: a Supabase user whose `app_metadata.platform_role` is `"admin"`
//! (only the service role can write `app_metadata`) signed in with MFA (`aal2`). The token is
//! checked as the router checks tokens: the shared HS256 provider, the project's issuer, audience
//! `authenticated`, `exp`/`nbf` against our clock with the router's leeway.

use serde::Deserialize;
use serde_json::Value;
use uuid::Uuid;

use crate::error::AdminError;

const LEEWAY_S: f64 = 30.0;
const MAX_TOKEN_BYTES: usize = 16 * 1024;

#[derive(Debug, Deserialize)]
struct AdminClaims {
    exp: Option<f64>,
    nbf: Option<f64>,
    iss: Option<String>,
    #[serde(default)]
    aud: Value,
    sub: Option<String>,
    role: Option<String>,
    aal: Option<String>,
    #[serde(default)]
    app_metadata: Value,
}

/// The verified operator: their user id, recorded as the journal's actor.
pub fn authorise(
    authorization: Option<&str>,
    jwt_secret: &str,
    issuer: &str,
    now_s: f64,
) -> Result<Uuid, AdminError> {
    let unauth = |d: &str| AdminError::Unauthorized(d.to_string());
    let token = authorization
        .and_then(|h| {
            h.strip_prefix("Bearer ")
                .or_else(|| h.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| unauth("no bearer token"))?;
    if token.len() > MAX_TOKEN_BYTES {
        return Err(unauth("token too large"));
    }
    let c: AdminClaims = tenant_shared::hs256::decode(token, jwt_secret.as_bytes())
        .map_err(|_| unauth("bad signature or claims"))?;
    let exp = c.exp.ok_or_else(|| unauth("exp claim missing"))?;
    if now_s > exp + LEEWAY_S {
        return Err(unauth("token expired"));
    }
    if c.nbf.is_some_and(|nbf| now_s + LEEWAY_S < nbf) {
        return Err(unauth("token not yet valid"));
    }
    let aud_ok = match &c.aud {
        Value::String(a) => a == "authenticated",
        Value::Array(v) => v.iter().any(|a| a == "authenticated"),
        _ => false,
    };
    if c.role.as_deref() != Some("authenticated") || !aud_ok {
        // A project API key (anon, service_role) is not an operator.
        return Err(AdminError::Forbidden("not a signed-in user".into()));
    }
    if c.iss.as_deref() != Some(issuer) {
        return Err(unauth("wrong issuer"));
    }
    let sub = c
        .sub
        .as_deref()
        .and_then(|s| Uuid::parse_str(s).ok())
        .ok_or_else(|| unauth("sub claim missing"))?;
    if c.app_metadata.get("platform_role").and_then(Value::as_str) != Some("admin") {
        return Err(AdminError::Forbidden("not a platform administrator".into()));
    }
    if c.aal.as_deref() != Some("aal2") {
        return Err(AdminError::Forbidden(
            "multi-factor sign-in (aal2) required".into(),
        ));
    }
    Ok(sub)
}
