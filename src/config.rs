//! Configuration from wrangler vars and secrets (SPEC §2), parsed and validated once per isolate.

use std::collections::HashMap;

use serde::Deserialize;

use crate::error::RouterError;
use crate::tenant::TenantRecord;
use tenant_shared::jwt::alg::PolicyError;
use tenant_shared::jwt::key_set;

/// Where configuration values come from: the Worker's `env` in production, a map in tests.
pub trait VarSource {
    fn var(&self, name: &str) -> Option<String>;
}

impl VarSource for HashMap<String, String> {
    fn var(&self, name: &str) -> Option<String> {
        self.get(name).cloned()
    }
}

/// The algorithm policy is shared with the admin service (crates/shared, `jwt::alg`).
use tenant_shared::jwt::JwtAlg;

/// A Supabase project the router forwards to: the shared one or a dedicated placement.
#[derive(Debug, Clone, PartialEq)]
pub struct Project {
    /// `shared`, or the key in `DEDICATED_PROJECTS`.
    pub name: String,
    /// Origin and optional base path, without a trailing slash.
    pub url: String,
    pub anon_key: String,
    pub jwt_secret: Option<String>,
    pub issuer: String,
}

impl Project {
    pub fn jwks_url(&self) -> String {
        format!("{}/auth/v1/.well-known/jwks.json", self.url)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum DirectorySource {
    Supabase,
    Static(Vec<TenantRecord>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub shared: Project,
    pub dedicated: HashMap<String, Project>,
    /// A dedicated project's opaque placement key (`tenancy.placement_keys`) -> its name.
    pub dedicated_keys: HashMap<String, String>,
    pub algorithms: Vec<JwtAlg>,
    pub audience: String,
    pub jwks_min_refresh_s: u64,
    pub allow_service_role: bool,
    pub base_domains: Vec<String>,
    pub reserved_labels: Vec<String>,
    pub directory: DirectorySource,
    pub directory_ttl_s: u64,
    pub directory_negative_ttl_s: u64,
    pub directory_stale_s: u64,
    pub frontend_origin: Option<String>,
    pub allowed_origins: Vec<String>,
    pub signup_max_bytes: usize,
    pub upstream_timeout_ms: u64,
    /// The signed return on one platform host (issue 17); `None` leaves auth redirects on the
    /// user's host as before.
    pub auth_return: Option<AuthReturn>,
    /// Exposes `/__router/bench/verify` and `/__router/bench/trap`; for the benchmark and tests only,
    /// never in production.
    pub bench_endpoints: bool,
}

/// `AUTH_RETURN_HOST`, `AUTH_RETURN_KEYS` (a secret), `AUTH_RETURN_TTL_S`.
#[derive(Debug, Clone, PartialEq)]
pub struct AuthReturn {
    /// `host[:port]` as configured: the one platform host Auth's allow list names.
    pub host: String,
    /// The same host normalised (no port), as requests are compared with it.
    pub host_name: String,
    /// The first signs; every one verifies (at most two: the current key and the one before).
    pub keys: Vec<crate::signed_return::ReturnKey>,
    pub ttl_s: u64,
}

fn auth_return(src: &dyn VarSource) -> Result<Option<AuthReturn>, RouterError> {
    let host = non_empty(src, "AUTH_RETURN_HOST");
    let keys = non_empty(src, "AUTH_RETURN_KEYS");
    let (host, keys) = match (host, keys) {
        (None, None) => return Ok(None),
        (Some(_), None) => return Err(bad("AUTH_RETURN_KEYS", "required with AUTH_RETURN_HOST")),
        (None, Some(_)) => return Err(bad("AUTH_RETURN_HOST", "required with AUTH_RETURN_KEYS")),
        (Some(h), Some(k)) => (h, k),
    };
    // Kept as written (port included) after checking that it is a plain host name.
    let host_name =
        crate::host::normalise(&host).map_err(|e| bad("AUTH_RETURN_HOST", e.to_string()))?;
    if host.contains(['/', '@', '?', '#']) || host != host.to_ascii_lowercase() {
        return Err(bad(
            "AUTH_RETURN_HOST",
            "a lowercase host[:port], nothing else",
        ));
    }
    let parsed = crate::signed_return::parse_keys(&keys).map_err(|e| bad("AUTH_RETURN_KEYS", e))?;
    Ok(Some(AuthReturn {
        host,
        host_name,
        keys: parsed,
        // At least Auth's email-link lifetime (GOTRUE_MAILER_OTP_EXP, at most 86400 s).
        ttl_s: number(src, "AUTH_RETURN_TTL_S", 86_400, 3_600, 7 * 86_400)?,
    }))
}

fn bad(var: &'static str, reason: impl Into<String>) -> RouterError {
    RouterError::Misconfigured {
        var,
        reason: reason.into(),
    }
}

fn non_empty(src: &dyn VarSource, name: &str) -> Option<String> {
    src.var(name)
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

fn required(src: &dyn VarSource, var: &'static str) -> Result<String, RouterError> {
    non_empty(src, var).ok_or_else(|| bad(var, "required but not set"))
}

fn number<T>(
    src: &dyn VarSource,
    var: &'static str,
    default: T,
    min: T,
    max: T,
) -> Result<T, RouterError>
where
    T: std::str::FromStr + PartialOrd + std::fmt::Display + Copy,
{
    match non_empty(src, var) {
        None => Ok(default),
        Some(v) => {
            let n: T = v
                .parse()
                .map_err(|_| bad(var, format!("not a number: {v:?}")))?;
            if n < min || n > max {
                return Err(bad(var, format!("must be between {min} and {max}")));
            }
            Ok(n)
        }
    }
}

fn boolean(src: &dyn VarSource, var: &'static str) -> Result<bool, RouterError> {
    match non_empty(src, var).as_deref() {
        None | Some("false") | Some("0") => Ok(false),
        Some("true") | Some("1") => Ok(true),
        Some(v) => Err(bad(var, format!("expected true or false, got {v:?}"))),
    }
}

fn list(src: &dyn VarSource, name: &str) -> Option<Vec<String>> {
    non_empty(src, name).map(|v| {
        v.split(',')
            .map(|s| s.trim().to_ascii_lowercase())
            .filter(|s| !s.is_empty())
            .collect()
    })
}

/// An http(s) URL reduced to `scheme://host[:port][/path]` without a trailing slash.
fn base_url(var: &'static str, raw: &str) -> Result<String, RouterError> {
    let u = url::Url::parse(raw).map_err(|e| bad(var, format!("not a URL: {e}")))?;
    if !matches!(u.scheme(), "http" | "https") || u.host_str().is_none() {
        return Err(bad(var, "must be an http(s) URL"));
    }
    if u.query().is_some() || u.fragment().is_some() {
        return Err(bad(var, "must not carry a query or fragment"));
    }
    Ok(u.as_str().trim_end_matches('/').to_string())
}

fn origin(var: &'static str, raw: &str) -> Result<String, RouterError> {
    let u = url::Url::parse(raw).map_err(|e| bad(var, format!("not an origin: {raw:?}: {e}")))?;
    if !matches!(u.scheme(), "http" | "https") || u.host_str().is_none() {
        return Err(bad(var, format!("not an http(s) origin: {raw:?}")));
    }
    Ok(u.origin().ascii_serialization())
}

#[derive(Deserialize)]
struct DedicatedProject {
    url: String,
    anon_key: String,
    #[serde(default)]
    jwt_secret: Option<String>,
    /// The opaque key `resolve_tenant` gives tenants placed on this project (migration 022).
    #[serde(default)]
    key: Option<String>,
}

impl Config {
    pub fn from_vars(src: &dyn VarSource) -> Result<Self, RouterError> {
        let url = base_url("SUPABASE_URL", &required(src, "SUPABASE_URL")?)?;
        let anon_key = required(src, "SUPABASE_ANON_KEY")?;
        let jwt_secret = non_empty(src, "SUPABASE_JWT_SECRET");
        let issuer = non_empty(src, "JWT_ISSUER").unwrap_or_else(|| format!("{url}/auth/v1"));
        let audience = non_empty(src, "JWT_AUDIENCE").unwrap_or_else(|| "authenticated".into());

        let algorithms = tenant_shared::jwt::alg::policy(
            non_empty(src, "JWT_ALGORITHMS").as_deref(),
            jwt_secret.is_some(),
        )
        .map_err(|e| match e {
            PolicyError::Unsupported(name) => bad(
                "JWT_ALGORITHMS",
                format!("unsupported algorithm {name:?} (allowed: HS256, ES256, RS256)"),
            ),
            PolicyError::Empty => bad("JWT_ALGORITHMS", "empty"),
            PolicyError::Hs256WithoutSecret => bad(
                "SUPABASE_JWT_SECRET",
                "HS256 is allowed by JWT_ALGORITHMS but no secret is set",
            ),
        })?;

        let base_domains =
            list(src, "BASE_DOMAINS").ok_or_else(|| bad("BASE_DOMAINS", "required but not set"))?;
        for d in &base_domains {
            crate::host::normalise(d).map_err(|e| bad("BASE_DOMAINS", format!("{d:?}: {e}")))?;
        }
        let reserved_labels = list(src, "RESERVED_SUBDOMAINS").unwrap_or_else(|| {
            tenant_shared::reserved::DEFAULT_RESERVED_LABELS
                .map(String::from)
                .to_vec()
        });

        let directory = match src.var("TENANT_DIRECTORY").map(|s| s.trim().to_string()) {
            None => DirectorySource::Supabase,
            Some(s) if s.is_empty() || s == "supabase" => DirectorySource::Supabase,
            Some(s) => {
                let records: Vec<TenantRecord> = serde_json::from_str(&s).map_err(|e| {
                    bad(
                        "TENANT_DIRECTORY",
                        format!("expected \"supabase\" or a JSON array of routing records: {e}"),
                    )
                })?;
                for r in &records {
                    if crate::host::normalise(&r.slug)
                        .map(|h| h != r.slug || h.contains('.'))
                        .unwrap_or(true)
                    {
                        return Err(bad(
                            "TENANT_DIRECTORY",
                            format!("invalid slug {:?}", r.slug),
                        ));
                    }
                }
                DirectorySource::Static(records)
            }
        };

        let mut dedicated_keys = HashMap::new();
        let dedicated = match non_empty(src, "DEDICATED_PROJECTS") {
            None => HashMap::new(),
            Some(s) => {
                let raw: HashMap<String, DedicatedProject> = serde_json::from_str(&s)
                    .map_err(|e| bad("DEDICATED_PROJECTS", format!("expected {{\"name\": {{\"url\", \"anon_key\", \"jwt_secret\"?, \"key\"?}}}}: {e}")))?;
                let mut out = HashMap::new();
                for (name, p) in raw {
                    let url = base_url("DEDICATED_PROJECTS", &p.url)?;
                    if let Some(key) = p.key.filter(|k| !k.is_empty()) {
                        if let Some(other) = dedicated_keys.insert(key, name.clone()) {
                            return Err(bad(
                                "DEDICATED_PROJECTS",
                                format!("projects {other:?} and {name:?} share one key"),
                            ));
                        }
                    }
                    out.insert(
                        name.clone(),
                        Project {
                            issuer: format!("{url}/auth/v1"),
                            name,
                            url,
                            anon_key: p.anon_key,
                            jwt_secret: p.jwt_secret,
                        },
                    );
                }
                out
            }
        };

        let frontend_origin = non_empty(src, "FRONTEND_ORIGIN")
            .map(|v| base_url("FRONTEND_ORIGIN", &v))
            .transpose()?;
        let allowed_origins = match non_empty(src, "ALLOWED_ORIGINS") {
            None => Vec::new(),
            Some(v) => v
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|o| origin("ALLOWED_ORIGINS", o))
                .collect::<Result<_, _>>()?,
        };

        Ok(Config {
            shared: Project {
                name: "shared".into(),
                url,
                anon_key,
                jwt_secret,
                issuer,
            },
            dedicated,
            dedicated_keys,
            algorithms,
            audience,
            jwks_min_refresh_s: number(
                src,
                "JWKS_MIN_REFRESH_S",
                key_set::DEFAULT_MIN_REFRESH_S,
                0,
                key_set::MAX_MIN_REFRESH_S,
            )?,
            allow_service_role: boolean(src, "ALLOW_SERVICE_ROLE")?,
            base_domains,
            reserved_labels,
            directory,
            directory_ttl_s: number(src, "DIRECTORY_TTL_S", 60, 0, 86_400)?,
            directory_negative_ttl_s: number(src, "DIRECTORY_NEGATIVE_TTL_S", 10, 0, 86_400)?,
            directory_stale_s: number(src, "DIRECTORY_STALE_S", 300, 0, 86_400)?,
            frontend_origin,
            allowed_origins,
            signup_max_bytes: number(src, "SIGNUP_MAX_BYTES", 65_536, 256, 10 * 1024 * 1024)?,
            upstream_timeout_ms: number(src, "UPSTREAM_TIMEOUT_MS", 30_000, 1, 600_000)?,
            auth_return: auth_return(src)?,
            bench_endpoints: boolean(src, "BENCH_ENDPOINTS")?,
        })
    }

    /// The project a tenant's requests go to; an unknown placement is an operator error.
    pub fn project_for(&self, tenant: &TenantRecord) -> Result<&Project, RouterError> {
        let Some(p) = &tenant.placement else {
            return Ok(&self.shared);
        };
        let name = match (&p.key, &p.project) {
            (Some(key), _) => self.dedicated_keys.get(key),
            (None, Some(project)) => Some(project),
            (None, None) => None,
        };
        // The detail names neither key nor project: it reaches the client.
        name.and_then(|n| self.dedicated.get(n)).ok_or_else(|| {
            RouterError::PlacementUnavailable(
                "the tenant's dedicated project is not configured (DEDICATED_PROJECTS)".into(),
            )
        })
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
pub(crate) mod tests {
    use super::*;

    pub fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn minimal() -> HashMap<String, String> {
        vars(&[
            ("SUPABASE_URL", "https://proj.supabase.co/"),
            ("SUPABASE_ANON_KEY", "sb_publishable_x"),
            ("BASE_DOMAINS", "app.example, Other.Example"),
        ])
    }

    fn err_var(r: Result<Config, RouterError>) -> &'static str {
        match r {
            Err(RouterError::Misconfigured { var, .. }) => var,
            other => panic!("expected misconfiguration, got {other:?}"),
        }
    }

    #[test]
    fn defaults_follow_the_spec() {
        let c = Config::from_vars(&minimal()).unwrap();
        assert_eq!(c.shared.url, "https://proj.supabase.co");
        assert_eq!(c.shared.issuer, "https://proj.supabase.co/auth/v1");
        assert_eq!(c.audience, "authenticated");
        assert_eq!(c.algorithms, vec![JwtAlg::Es256, JwtAlg::Rs256]);
        assert_eq!(c.base_domains, vec!["app.example", "other.example"]);
        assert_eq!(
            c.reserved_labels,
            vec!["www", "api", "app", "admin", "auth"]
        );
        assert_eq!(c.directory, DirectorySource::Supabase);
        assert_eq!(
            (
                c.directory_ttl_s,
                c.directory_negative_ttl_s,
                c.directory_stale_s
            ),
            (60, 10, 300)
        );
        assert_eq!(c.signup_max_bytes, 65_536);
        assert_eq!(c.upstream_timeout_ms, 30_000);
        assert_eq!(c.jwks_min_refresh_s, 60);
        assert!(!c.allow_service_role);
    }

    #[test]
    fn secret_enables_hs256_by_default() {
        let mut v = minimal();
        v.insert("SUPABASE_JWT_SECRET".into(), "s3cret".into());
        assert!(Config::from_vars(&v)
            .unwrap()
            .algorithms
            .contains(&JwtAlg::Hs256));
    }

    #[test]
    fn missing_required_values_name_the_variable() {
        for var in ["SUPABASE_URL", "SUPABASE_ANON_KEY", "BASE_DOMAINS"] {
            let mut v = minimal();
            v.remove(var);
            assert_eq!(err_var(Config::from_vars(&v)), var);
        }
    }

    #[test]
    fn malformed_values_name_the_variable() {
        let cases = [
            ("SUPABASE_URL", "ftp://x"),
            ("JWT_ALGORITHMS", "none"),
            ("JWT_ALGORITHMS", "HS512"),
            ("DIRECTORY_TTL_S", "soon"),
            ("UPSTREAM_TIMEOUT_MS", "0"),
            ("ALLOW_SERVICE_ROLE", "yes please"),
            ("TENANT_DIRECTORY", "[{\"slug\": 1}]"),
            (
                "DEDICATED_PROJECTS",
                "{\"big\": {\"url\": \"nope\", \"anon_key\": \"k\"}}",
            ),
            ("ALLOWED_ORIGINS", "not an origin"),
            ("BASE_DOMAINS", "bad_domain.example"),
        ];
        for (var, value) in cases {
            let mut v = minimal();
            v.insert(var.into(), value.into());
            assert_eq!(err_var(Config::from_vars(&v)), var, "{var}={value}");
        }
    }

    #[test]
    fn the_signed_return_needs_a_host_and_one_or_two_long_keys() {
        let secret = "0123456789abcdef0123456789abcdef";
        let mut v = minimal();
        v.insert("AUTH_RETURN_HOST".into(), "auth.app.example:8787".into());
        v.insert(
            "AUTH_RETURN_KEYS".into(),
            format!("new:{secret}, old:{secret}x"),
        );
        let r = Config::from_vars(&v).unwrap().auth_return.unwrap();
        assert_eq!(
            (r.host.as_str(), r.host_name.as_str()),
            ("auth.app.example:8787", "auth.app.example")
        );
        assert_eq!(
            r.keys.iter().map(|k| k.kid.as_str()).collect::<Vec<_>>(),
            ["new", "old"]
        );
        assert_eq!(r.ttl_s, 86_400);
        assert!(
            !format!("{r:?}").contains(secret),
            "secrets stay out of Debug"
        );
        assert_eq!(Config::from_vars(&minimal()).unwrap().auth_return, None);
        let cases = [
            (
                "AUTH_RETURN_KEYS",
                "AUTH_RETURN_HOST",
                "auth.app.example",
                None,
            ),
            (
                "AUTH_RETURN_HOST",
                "AUTH_RETURN_KEYS",
                &format!("k:{secret}") as &str,
                None,
            ),
            (
                "AUTH_RETURN_KEYS",
                "AUTH_RETURN_KEYS",
                "k:short",
                Some("auth.app.example"),
            ),
            (
                "AUTH_RETURN_KEYS",
                "AUTH_RETURN_KEYS",
                &format!("k:{secret},k:{secret}"),
                Some("auth.app.example"),
            ),
            (
                "AUTH_RETURN_KEYS",
                "AUTH_RETURN_KEYS",
                &format!("a:{secret},b:{secret},c:{secret}"),
                Some("auth.app.example"),
            ),
            (
                "AUTH_RETURN_KEYS",
                "AUTH_RETURN_KEYS",
                &format!("b@d:{secret}"),
                Some("auth.app.example"),
            ),
            (
                "AUTH_RETURN_HOST",
                "AUTH_RETURN_KEYS",
                &format!("k:{secret}"),
                Some("https://auth.app.example/"),
            ),
            (
                "AUTH_RETURN_HOST",
                "AUTH_RETURN_KEYS",
                &format!("k:{secret}"),
                Some("Auth.app.example"),
            ),
        ];
        for (want, var, value, host) in cases {
            let mut v = minimal();
            v.insert(var.into(), value.into());
            if let Some(h) = host {
                v.insert("AUTH_RETURN_HOST".into(), h.into());
            }
            assert_eq!(
                err_var(Config::from_vars(&v)),
                want,
                "{var}={value} host={host:?}"
            );
        }
        let mut v = minimal();
        v.insert("AUTH_RETURN_HOST".into(), "auth.app.example".into());
        v.insert("AUTH_RETURN_KEYS".into(), format!("k:{secret}"));
        v.insert("AUTH_RETURN_TTL_S".into(), "60".into());
        assert_eq!(err_var(Config::from_vars(&v)), "AUTH_RETURN_TTL_S");
    }

    #[test]
    fn hs256_without_secret_is_refused() {
        let mut v = minimal();
        v.insert("JWT_ALGORITHMS".into(), "HS256".into());
        assert_eq!(err_var(Config::from_vars(&v)), "SUPABASE_JWT_SECRET");
    }

    #[test]
    fn static_directory_and_dedicated_projects_parse() {
        let mut v = minimal();
        v.insert(
            "TENANT_DIRECTORY".into(),
            r#"[{"id":"11111111-1111-4111-8111-111111111111","slug":"acme","name":"Acme","status":"active","signup":"open","placement":{"project":"big"}}]"#.into(),
        );
        v.insert(
            "DEDICATED_PROJECTS".into(),
            r#"{"big":{"url":"https://big.supabase.co","anon_key":"k2"}}"#.into(),
        );
        let c = Config::from_vars(&v).unwrap();
        let DirectorySource::Static(records) = &c.directory else {
            panic!("static expected")
        };
        let p = c.project_for(&records[0]).unwrap();
        assert_eq!(p.issuer, "https://big.supabase.co/auth/v1");
        assert_eq!(p.name, "big");
    }

    #[test]
    fn placement_key_selects_the_project_that_declares_it() {
        let mut v = minimal();
        v.insert(
            "DEDICATED_PROJECTS".into(),
            r#"{"big":{"url":"https://big.supabase.co","anon_key":"k2","key":"pk_big"},
                "small":{"url":"https://small.supabase.co","anon_key":"k3","key":"pk_small"}}"#
                .into(),
        );
        let c = Config::from_vars(&v).unwrap();
        let placed = |placement: &str| -> TenantRecord {
            serde_json::from_str(&format!(
                r#"{{"id":"11111111-1111-4111-8111-111111111111","slug":"a","name":"A","status":"active","signup":"open","placement":{placement}}}"#
            ))
            .unwrap()
        };
        // New shape (migration 022), old shape (before it), and both: the key wins.
        assert_eq!(
            c.project_for(&placed(r#"{"key":"pk_small"}"#))
                .unwrap()
                .name,
            "small"
        );
        assert_eq!(
            c.project_for(&placed(r#"{"project":"big"}"#)).unwrap().name,
            "big"
        );
        assert_eq!(
            c.project_for(&placed(r#"{"key":"pk_small","project":"big"}"#))
                .unwrap()
                .name,
            "small"
        );
        for unknown in [r#"{"key":"pk_gone"}"#, r#"{"key":"big"}"#, "{}"] {
            let e = c.project_for(&placed(unknown)).unwrap_err();
            assert_eq!(e.code(), "placement_unavailable", "{unknown}");
        }
    }

    #[test]
    fn two_dedicated_projects_cannot_share_a_key() {
        let mut v = minimal();
        v.insert(
            "DEDICATED_PROJECTS".into(),
            r#"{"a":{"url":"https://a.supabase.co","anon_key":"k","key":"pk_1"},
                "b":{"url":"https://b.supabase.co","anon_key":"k","key":"pk_1"}}"#
                .into(),
        );
        assert_eq!(err_var(Config::from_vars(&v)), "DEDICATED_PROJECTS");
    }

    #[test]
    fn unknown_placement_is_unavailable() {
        let c = Config::from_vars(&minimal()).unwrap();
        let t: TenantRecord = serde_json::from_str(
            r#"{"id":"11111111-1111-4111-8111-111111111111","slug":"a","name":"A","status":"active","signup":"open","placement":{"project":"gone"}}"#,
        )
        .unwrap();
        assert_eq!(
            c.project_for(&t).unwrap_err().code(),
            "placement_unavailable"
        );
    }
}
