//! The admin Worker's vars and secrets, read once (see admin/wrangler.toml and README, Secrets).

use tenant_shared::jwt::alg::{policy, PolicyError};
use tenant_shared::jwt::key_set::{DEFAULT_MIN_REFRESH_S, MAX_MIN_REFRESH_S};
use tenant_shared::jwt::JwtAlg;

use crate::error::AdminError;

#[derive(Debug, Clone)]
pub struct AdminConfig {
    /// The project's URL: REST at `/rest/v1`, Auth at `/auth/v1`; also the issuer's base.
    pub supabase_url: String,
    /// The secret (service role) key: the admin service acts as the service role on REST and Auth.
    pub secret_key: String,
    /// The legacy JWT secret, to verify operators' HS256 access tokens as the router does.
    pub jwt_secret: Option<String>,
    /// `JWT_ALGORITHMS`, read by the router's (shared) policy.
    pub algorithms: Vec<JwtAlg>,
    /// `JWKS_MIN_REFRESH_S`: an unknown `kid` refetches the project's JWKS at most this often.
    pub jwks_min_refresh_s: u64,
    pub cloudflare_api_url: String,
    pub cloudflare_token: String,
    pub zone_id: String,
    /// The first base domain: a tenant's slug host is `<slug>.<base>` (invite redirects go there).
    pub base_domain: String,
    pub reserved_labels: Vec<String>,
    /// The router's signed return (`AUTH_RETURN_HOST`, `AUTH_RETURN_KEYS`), when configured: the
    /// admin signs its invitations' redirects with it and the Send Email hook reads emails' tenant
    /// from it.
    pub auth_return: Option<AuthReturnKeys>,
    /// Workers Analytics Engine's SQL API, for the per-tenant metrics routes: all three of
    /// `CLOUDFLARE_ACCOUNT_ID`, `ANALYTICS_API_TOKEN`, `ANALYTICS_DATASET`, or none (metrics off).
    pub analytics: Option<AnalyticsConfig>,
}

#[derive(Debug, Clone)]
pub struct AnalyticsConfig {
    /// 32 hex digits, as Cloudflare writes account ids (it goes into the API path).
    pub account_id: String,
    /// A token with *Account Analytics: Read*.
    pub token: String,
    /// The dataset the router's `METRICS` binding writes: a plain SQL identifier.
    pub dataset: String,
}

impl AnalyticsConfig {
    fn load(src: &dyn VarSource) -> Result<Option<Self>, AdminError> {
        let get = |n: &str| {
            src.var(n)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let names = [
            "CLOUDFLARE_ACCOUNT_ID",
            "ANALYTICS_API_TOKEN",
            "ANALYTICS_DATASET",
        ];
        let (Some(account_id), Some(token), Some(dataset)) =
            (get(names[0]), get(names[1]), get(names[2]))
        else {
            if let Some(set) = names.iter().find(|n| get(n).is_some()) {
                let missing: Vec<&str> =
                    names.iter().copied().filter(|n| get(n).is_none()).collect();
                return Err(AdminError::Misconfigured(format!(
                    "{set} is set but {} is not: metrics need all three",
                    missing.join(" and ")
                )));
            }
            return Ok(None);
        };
        let account_id = account_id.to_ascii_lowercase();
        if account_id.len() != 32 || !account_id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(AdminError::Misconfigured(
                "CLOUDFLARE_ACCOUNT_ID: 32 hexadecimal digits".into(),
            ));
        }
        // It is written into the SQL as the table name: an identifier, nothing else.
        let ident = dataset.len() <= 64
            && dataset.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && dataset
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if !ident {
            return Err(AdminError::Misconfigured(
                "ANALYTICS_DATASET: letters, digits and _ (not first a digit), at most 64".into(),
            ));
        }
        Ok(Some(Self {
            account_id,
            token,
            dataset,
        }))
    }
}

#[derive(Debug, Clone)]
pub struct AuthReturnKeys {
    /// `host[:port]`, as the router writes return URLs.
    pub host: String,
    /// The first signs; every one verifies.
    pub keys: Vec<tenant_shared::signed_return::ReturnKey>,
}

/// How long an invitation's signed redirect lives: Auth's longest email-link lifetime.
pub const INVITE_RETURN_TTL_S: u64 = 86_400;

pub trait VarSource {
    fn var(&self, name: &str) -> Option<String>;
}

/// Fixed `(name, value)` pairs: the native tests' configuration, the first pair of a name wins.
impl<const N: usize> VarSource for [(&str, &str); N] {
    fn var(&self, name: &str) -> Option<String> {
        self.iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.to_string())
    }
}

impl AdminConfig {
    pub fn load(src: &dyn VarSource) -> Result<Self, AdminError> {
        let need = |n: &str| {
            src.var(n)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
                .ok_or_else(|| AdminError::Misconfigured(format!("{n} is not set")))
        };
        let list = |n: &str| -> Vec<String> {
            src.var(n)
                .unwrap_or_default()
                .split(',')
                .map(|s| s.trim().to_ascii_lowercase())
                .filter(|s| !s.is_empty())
                .collect()
        };
        let base_domain = list("BASE_DOMAINS")
            .into_iter()
            .next()
            .ok_or_else(|| AdminError::Misconfigured("BASE_DOMAINS is not set".into()))?;
        let mut reserved_labels = list("RESERVED_SUBDOMAINS");
        if reserved_labels.is_empty() {
            reserved_labels = tenant_shared::reserved::DEFAULT_RESERVED_LABELS
                .map(String::from)
                .to_vec();
        }
        let jwt_secret = src
            .var("SUPABASE_JWT_SECRET")
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty());
        let algorithms = policy(src.var("JWT_ALGORITHMS").as_deref(), jwt_secret.is_some())
            .map_err(|e| {
                AdminError::Misconfigured(match e {
                    PolicyError::Unsupported(n) => {
                        format!("JWT_ALGORITHMS: unsupported algorithm {n:?} (allowed: HS256, ES256, RS256)")
                    }
                    PolicyError::Empty => "JWT_ALGORITHMS is empty".into(),
                    PolicyError::Hs256WithoutSecret => {
                        "JWT_ALGORITHMS allows HS256 but SUPABASE_JWT_SECRET is not set".into()
                    }
                })
            })?;
        let jwks_min_refresh_s = match src.var("JWKS_MIN_REFRESH_S").map(|v| v.trim().to_string()) {
            None => DEFAULT_MIN_REFRESH_S,
            Some(v) if v.is_empty() => DEFAULT_MIN_REFRESH_S,
            Some(v) => v
                .parse::<u64>()
                .ok()
                .filter(|n| *n <= MAX_MIN_REFRESH_S)
                .ok_or_else(|| {
                    AdminError::Misconfigured(format!(
                        "JWKS_MIN_REFRESH_S: a number of seconds, 0 to {MAX_MIN_REFRESH_S}"
                    ))
                })?,
        };
        let auth_return = match (src.var("AUTH_RETURN_HOST"), src.var("AUTH_RETURN_KEYS")) {
            (Some(h), Some(k)) if !h.trim().is_empty() && !k.trim().is_empty() => {
                Some(AuthReturnKeys {
                    host: h.trim().to_ascii_lowercase(),
                    keys: tenant_shared::signed_return::parse_keys(&k)
                        .map_err(|e| AdminError::Misconfigured(format!("AUTH_RETURN_KEYS: {e}")))?,
                })
            }
            _ => None,
        };
        Ok(AdminConfig {
            supabase_url: need("SUPABASE_URL")?.trim_end_matches('/').to_string(),
            secret_key: need("SUPABASE_SECRET_KEY")?,
            jwt_secret,
            algorithms,
            jwks_min_refresh_s,
            cloudflare_api_url: src
                .var("CLOUDFLARE_API_URL")
                .filter(|v| !v.trim().is_empty())
                .unwrap_or_else(|| "https://api.cloudflare.com/client/v4".into())
                .trim_end_matches('/')
                .to_string(),
            cloudflare_token: need("CLOUDFLARE_API_TOKEN")?,
            zone_id: need("CLOUDFLARE_ZONE_ID")?,
            base_domain,
            reserved_labels,
            auth_return,
            analytics: AnalyticsConfig::load(src)?,
        })
    }

    pub fn issuer(&self) -> String {
        format!("{}/auth/v1", self.supabase_url)
    }

    pub fn slug_host(&self, slug: &str) -> String {
        format!("{slug}.{}", self.base_domain)
    }

    /// Where an invitation to `tenant` sends its user: the slug host, as a signed return when the
    /// router signs returns (Auth's allow list then holds only the return host, and the Send Email
    /// hook learns the tenant from it).
    pub fn invite_redirect(&self, tenant: uuid::Uuid, slug: &str, now_s: u64) -> String {
        let target = format!("https://{}/", self.slug_host(slug));
        match &self.auth_return {
            Some(r) => {
                use tenant_shared::signed_return::{return_url, sign};
                let token = sign(&r.keys[0], tenant, &target, now_s + INVITE_RETURN_TTL_S);
                return_url("https", &r.host, &token)
            }
            None => target,
        }
    }
}
