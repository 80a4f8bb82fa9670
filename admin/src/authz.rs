//! Who may call the admin API: a Supabase user whose `app_metadata.platform_role` is `"admin"`
//! (only the service role can write `app_metadata`) signed in with MFA (`aal2`). The token is
//! verified as the router verifies tokens, through the same shared code (crates/shared, `jwt`): the
//! algorithm from `JWT_ALGORITHMS` never from the token, `crit` refused, ES256/RS256 against the
//! project's JWKS selected by `kid`, HS256 with the legacy secret, `exp` required with the leeway,
//! the project's issuer and audience `authenticated`.

use serde::Deserialize;
use serde_json::Value;
use tenant_shared::jwt::claims::{self, Audience};
use tenant_shared::jwt::header;
use tenant_shared::jwt::key_set::KeyLookup;
use tenant_shared::jwt::{rustcrypto, JwtAlg};
use uuid::Uuid;

use crate::backend::Backend;
use crate::config::AdminConfig;
use crate::error::AdminError;
use crate::jwks;

const AUDIENCE: &str = "authenticated";

#[derive(Debug, Deserialize)]
struct AdminClaims {
    exp: Option<f64>,
    nbf: Option<f64>,
    iss: Option<String>,
    aud: Option<Audience>,
    sub: Option<String>,
    role: Option<String>,
    aal: Option<String>,
    #[serde(default)]
    app_metadata: Value,
}

fn unauth(why: &str) -> AdminError {
    AdminError::Unauthorized(why.to_string())
}

/// The verified operator: their user id, recorded as the journal's actor.
pub async fn authorise(
    b: &dyn Backend,
    cfg: &AdminConfig,
    authorization: Option<&str>,
) -> Result<Uuid, AdminError> {
    let token = authorization
        .and_then(|h| {
            h.strip_prefix("Bearer ")
                .or_else(|| h.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| unauth("no bearer token"))?;
    let c = verify(b, cfg, token).await?;
    claims::valid_at(c.exp, c.nbf, b.now_s()).map_err(unauth)?;
    if c.role.as_deref() != Some("authenticated") {
        // A project API key (anon, service_role) is not an operator.
        return Err(AdminError::Forbidden("not a signed-in user".into()));
    }
    // As the router: a user token for another issuer or audience is not a valid token here.
    if c.iss.as_deref() != Some(cfg.issuer().as_str()) {
        return Err(unauth("wrong issuer"));
    }
    if !c.aud.as_ref().is_some_and(|a| a.contains(AUDIENCE)) {
        return Err(unauth("wrong audience"));
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

/// The signature checked, then the claims read; nothing of the payload is trusted before.
async fn verify(
    b: &dyn Backend,
    cfg: &AdminConfig,
    token: &str,
) -> Result<AdminClaims, AdminError> {
    let jws = header::parse(token, &cfg.algorithms).map_err(unauth)?;
    match jws.alg {
        JwtAlg::Hs256 => {
            let secret = cfg
                .jwt_secret
                .as_deref()
                .ok_or_else(|| unauth("algorithm not allowed"))?;
            tenant_shared::hs256::decode(token, secret.as_bytes())
                .map_err(|_| unauth("bad signature or claims"))
        }
        JwtAlg::Es256 | JwtAlg::Rs256 => {
            let key = match jwks::key(b, cfg, jws.alg, jws.kid.as_deref()).await {
                KeyLookup::Found(k) => k,
                KeyLookup::Unknown => return Err(unauth("unknown signing key")),
                KeyLookup::Unavailable(e) => {
                    return Err(unauth(&format!("signing keys unavailable: {e}")))
                }
            };
            let signature = jws.signature().map_err(unauth)?;
            match rustcrypto::verify(jws.alg, &key, jws.signing_input.as_bytes(), &signature) {
                Ok(true) => jws.claims().map_err(unauth),
                Ok(false) | Err(_) => Err(unauth("bad signature")),
            }
        }
    }
}
