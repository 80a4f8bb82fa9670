//! Authentication at the edge (SPEC §1.3): who is calling, checked before anything is forwarded.
//!
//! Algorithms come from configuration, never from the token. HS256 goes through jsonwebtoken with
//! our HMAC provider; ES256/RS256 signatures are checked by a [`crypto::SignatureVerifier`] against
//! the project's JWKS before the claims are read. Verified tokens are cached until they expire.

pub mod credentials;
pub mod crypto;
pub mod jwks;
pub mod token_cache;

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use serde::Deserialize;
use uuid::Uuid;

use crate::config::{Config, Project};
use crate::error::RouterError;
use crate::runtime::Runtime;
use crate::tenant::TenantRecord;
use crypto::SignatureVerifier;
use jwks::{JwksCache, KeyLookup};
use tenant_shared::jwt::JwtAlg;
use token_cache::TokenCache;

pub use tenant_shared::jwt::claims::{Audience, LEEWAY_S};
pub use tenant_shared::jwt::header::MAX_TOKEN_BYTES;
const TOKEN_CACHE_ENTRIES: usize = 4096;

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Claims {
    #[serde(default)]
    pub exp: Option<f64>,
    #[serde(default)]
    pub nbf: Option<f64>,
    #[serde(default)]
    pub iss: Option<String>,
    #[serde(default)]
    pub aud: Option<Audience>,
    #[serde(default)]
    pub sub: Option<String>,
    #[serde(default)]
    pub role: Option<String>,
    /// Added by the custom access token hook; when present it must list the host's tenant.
    #[serde(default)]
    pub tenant_ids: Option<Vec<String>>,
}

impl Claims {
    pub fn valid_at(&self, now_s: f64) -> Result<(), RouterError> {
        tenant_shared::jwt::claims::valid_at(self.exp, self.nbf, now_s).map_err(invalid)
    }

    fn has_audience(&self, want: &str) -> bool {
        self.aud.as_ref().is_some_and(|a| a.contains(want))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    None,
    Anon,
    User,
    ServiceRole,
}

impl TokenKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenKind::None => "none",
            TokenKind::Anon => "anon",
            TokenKind::User => "user",
            TokenKind::ServiceRole => "service_role",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Principal {
    pub kind: TokenKind,
    pub claims: Option<Rc<Claims>>,
    /// A JWT verified for this request, not taken from the verified-token cache (metrics).
    pub verified_now: bool,
}

impl Principal {
    fn of(kind: TokenKind) -> Self {
        Self {
            kind,
            claims: None,
            verified_now: false,
        }
    }
}

fn invalid(why: &str) -> RouterError {
    RouterError::InvalidToken(why.into())
}

/// The bearer credential in an `Authorization` header, if any. A non-Bearer scheme is invalid.
pub fn bearer(authorization: Option<&str>) -> Result<Option<&str>, RouterError> {
    let Some(h) = authorization.map(str::trim) else {
        return Ok(None);
    };
    if h.is_empty() {
        return Ok(None);
    }
    let (scheme, rest) = h
        .split_once(' ')
        .ok_or_else(|| invalid("expected a Bearer token"))?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(invalid("expected a Bearer token"));
    }
    let token = rest.trim();
    if token.is_empty() {
        return Err(invalid("empty Bearer token"));
    }
    Ok(Some(token))
}

pub struct Authenticator {
    rt: Rc<dyn Runtime>,
    verifier: Rc<dyn SignatureVerifier>,
    algorithms: Vec<JwtAlg>,
    audience: String,
    jwks_min_refresh_s: u64,
    jwks: RefCell<HashMap<String, Rc<JwksCache>>>,
    tokens: TokenCache,
}

impl Authenticator {
    pub fn new(config: &Config, rt: Rc<dyn Runtime>, verifier: Rc<dyn SignatureVerifier>) -> Self {
        crypto::install();
        Self {
            rt,
            verifier,
            algorithms: config.algorithms.clone(),
            audience: config.audience.clone(),
            jwks_min_refresh_s: config.jwks_min_refresh_s,
            jwks: RefCell::new(HashMap::new()),
            tokens: TokenCache::new(TOKEN_CACHE_ENTRIES),
        }
    }

    fn now_s(&self) -> f64 {
        self.rt.now_ms() as f64 / 1000.0
    }

    fn jwks_for(&self, project: &Project) -> Rc<JwksCache> {
        self.jwks
            .borrow_mut()
            .entry(project.name.clone())
            .or_insert_with(|| {
                JwksCache::new(project.jwks_url(), self.rt.clone(), self.jwks_min_refresh_s)
            })
            .clone()
    }

    /// Who is calling `project`. Anonymous callers (no bearer, the anon or a publishable key)
    /// pass; anything that claims more must prove it.
    pub async fn authenticate(
        &self,
        authorization: Option<&str>,
        project: &Project,
    ) -> Result<Principal, RouterError> {
        let Some(token) = bearer(authorization)? else {
            return Ok(Principal::of(TokenKind::None));
        };
        if token == project.anon_key || token.starts_with("sb_publishable_") {
            return Ok(Principal::of(TokenKind::Anon));
        }
        if token.starts_with("sb_secret_") {
            return Ok(Principal::of(TokenKind::ServiceRole));
        }
        let (claims, verified_now) = match self.tokens.get(&project.name, token, self.now_s()) {
            Some(c) => (c, false),
            None => {
                let c = Rc::new(self.verify(token, project).await?);
                self.tokens.put(&project.name, token, c.clone());
                (c, true)
            }
        };
        let kind = kind_of(&claims).ok_or_else(|| invalid("role not accepted"))?;
        Ok(Principal {
            kind,
            claims: Some(claims),
            verified_now,
        })
    }

    /// Full verification of a JWT against `project`, without the verified-token cache.
    pub async fn verify(&self, token: &str, project: &Project) -> Result<Claims, RouterError> {
        let jws = tenant_shared::jwt::header::parse(token, &self.algorithms).map_err(invalid)?;
        let alg = jws.alg;
        let claims: Claims = match alg {
            JwtAlg::Hs256 => {
                let secret = project
                    .jwt_secret
                    .as_deref()
                    .ok_or_else(|| invalid("algorithm not allowed"))?;
                tenant_shared::hs256::decode::<Claims>(token, secret.as_bytes())
                    .map_err(|_| invalid("bad signature or claims"))?
            }
            JwtAlg::Es256 | JwtAlg::Rs256 => {
                let key = match self.jwks_for(project).key(alg, jws.kid.as_deref()).await {
                    KeyLookup::Found(k) => k,
                    KeyLookup::Unknown => return Err(invalid("unknown signing key")),
                    KeyLookup::Unavailable(e) => {
                        return Err(RouterError::InvalidToken(format!(
                            "signing keys unavailable: {e}"
                        )))
                    }
                };
                let signature = jws.signature().map_err(invalid)?;
                match self
                    .verifier
                    .verify(alg, &key, jws.signing_input.as_bytes(), &signature)
                    .await
                {
                    Ok(true) => {}
                    Ok(false) | Err(_) => return Err(invalid("bad signature")),
                }
                jws.claims().map_err(invalid)?
            }
        };
        self.check_claims(&claims, project)?;
        Ok(claims)
    }

    fn check_claims(&self, c: &Claims, project: &Project) -> Result<(), RouterError> {
        c.valid_at(self.now_s())?;
        match c.role.as_deref() {
            Some("authenticated") => {
                if c.iss.as_deref() != Some(project.issuer.as_str()) {
                    return Err(invalid("wrong issuer"));
                }
                if !self.has_audience(c) {
                    return Err(invalid("wrong audience"));
                }
                if c.sub.as_deref().is_none_or(str::is_empty) {
                    return Err(invalid("sub claim missing"));
                }
                Ok(())
            }
            // Project API keys (legacy anon/service_role JWTs) carry `iss: supabase`.
            Some("anon") | Some("service_role") => {
                let iss_ok = matches!(c.iss.as_deref(), Some("supabase"))
                    || c.iss.as_deref() == Some(project.issuer.as_str());
                if iss_ok {
                    Ok(())
                } else {
                    Err(invalid("wrong issuer"))
                }
            }
            _ => Err(invalid("role not accepted")),
        }
    }

    fn has_audience(&self, c: &Claims) -> bool {
        c.has_audience(&self.audience)
    }

    #[cfg(all(test, not(target_arch = "wasm32")))]
    pub(crate) fn cached_tokens(&self) -> usize {
        self.tokens.len()
    }

    #[cfg(all(test, not(target_arch = "wasm32")))]
    pub(crate) fn jwks_cache(&self, project: &Project) -> Rc<JwksCache> {
        self.jwks_for(project)
    }
}

fn kind_of(c: &Claims) -> Option<TokenKind> {
    match c.role.as_deref() {
        Some("authenticated") => Some(TokenKind::User),
        Some("anon") => Some(TokenKind::Anon),
        Some("service_role") => Some(TokenKind::ServiceRole),
        _ => None,
    }
}

/// The requests a user makes on a tenant's host before belonging to it, so their token's
/// `tenant_ids` cannot list the tenant yet: `POST /rest/v1/rpc/accept_invitation` (sql/011),
/// `POST /rest/v1/rpc/join_tenant_after_oauth` (sql/021, a user an OAuth provider just created), and
/// `GET /auth/v1/user`, which supabase-js calls to load the session an invitation link hands over
/// before the invitee can accept (it answers only the token's own user, never tenant data). The
/// database checks the invitation and mailbox proof, or the OAuth user's age, memberships and the
/// tenant's open sign-up, itself; `tenant_ids` is only the edge's early refusal. Compared exactly, as
/// the runtime serialised the URL: any other spelling is refused as before.
pub fn joins_tenant(method: &str, path: &str) -> bool {
    matches!(
        (method, path),
        ("POST", "/rest/v1/rpc/accept_invitation")
            | ("POST", "/rest/v1/rpc/join_tenant_after_oauth")
            | ("GET", "/auth/v1/user")
    )
}

/// Authorisation for a tenant host: service credentials only when allowed, and a token that lists
/// its tenants must list this one.
pub fn authorise(
    principal: &Principal,
    tenant: &TenantRecord,
    allow_service_role: bool,
) -> Result<(), RouterError> {
    if principal.kind == TokenKind::ServiceRole && !allow_service_role {
        return Err(RouterError::ServiceRoleForbidden);
    }
    if let Some(ids) = principal
        .claims
        .as_ref()
        .and_then(|c| c.tenant_ids.as_ref())
    {
        let member = ids
            .iter()
            .any(|id| Uuid::parse_str(id).is_ok_and(|u| u == tenant.id));
        if !member {
            return Err(RouterError::TenantMismatch);
        }
    }
    Ok(())
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests;
