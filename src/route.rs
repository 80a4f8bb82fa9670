//! Which of the router's routes a path is (SPEC §1.1), and the methods it forwards: decided
//! before anything else, from the path alone.

/// The methods the router forwards (the runtime cannot send others upstream); the same list in a
/// header's form for `Allow` and `Access-Control-Allow-Methods`.
macro_rules! methods {
    ($first:literal $(, $m:literal)*) => {
        pub const METHODS: &[&str] = &[$first $(, $m)*];
        pub const METHODS_HEADER: &str = concat!($first $(, ", ", $m)*);
    };
}
methods!("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS");

/// Where certificate authorities look for a custom hostname's validation token (HTTP DCV, ACME
/// http-01): answered by the origin, never by the router (SPEC §6, README: Cloudflare for SaaS).
pub const CERT_VALIDATION_PREFIXES: [&str; 2] = [
    "/.well-known/acme-challenge/",
    "/.well-known/pki-validation/",
];

/// The API prefixes forwarded to the tenant's Supabase project.
pub const API_PREFIXES: [&str; 6] = [
    "/rest/v1",
    "/auth/v1",
    "/storage/v1",
    "/functions/v1",
    "/graphql/v1",
    "/realtime/v1",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    Health,
    TenantProfile,
    BenchVerify,
    /// The signed return, answered on `AUTH_RETURN_HOST` only (see `signed_return`).
    AuthReturn,
    /// Email links on a tenant's host: verifies a token hash through Auth, hands over the session.
    AuthConfirm,
    /// Panics on purpose: the test that a trapped wasm instance recovers on the next request.
    BenchTrap,
    /// Another `/__router/...` path: the router's namespace, never forwarded.
    RouterOther,
    /// A certificate-validation request: passed through untouched (see [`CERT_VALIDATION_PREFIXES`]).
    CertValidation,
    Api(&'static str),
    Frontend,
}

impl Route {
    pub fn of(path: &str) -> Route {
        match path {
            "/__router/health" => return Route::Health,
            "/__router/tenant" => return Route::TenantProfile,
            "/__router/bench/verify" => return Route::BenchVerify,
            crate::signed_return::RETURN_PATH => return Route::AuthReturn,
            crate::proxy::confirm::CONFIRM_PATH => return Route::AuthConfirm,
            "/__router/bench/trap" => return Route::BenchTrap,
            _ => {}
        }
        if path == "/__router" || path.starts_with("/__router/") {
            return Route::RouterOther;
        }
        if CERT_VALIDATION_PREFIXES.iter().any(|p| path.starts_with(p)) {
            return Route::CertValidation;
        }
        for p in API_PREFIXES {
            if path
                .strip_prefix(p)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
            {
                return Route::Api(p);
            }
        }
        Route::Frontend
    }

    /// The `route` field of the log line.
    pub fn label(self) -> &'static str {
        match self {
            Route::Health => "/__router/health",
            Route::TenantProfile => "/__router/tenant",
            Route::BenchVerify => "/__router/bench/verify",
            Route::AuthReturn => crate::signed_return::RETURN_PATH,
            Route::AuthConfirm => crate::proxy::confirm::CONFIRM_PATH,
            Route::BenchTrap => "/__router/bench/trap",
            Route::RouterOther => "/__router",
            Route::CertValidation => "cert-validation",
            Route::Api(p) => p,
            Route::Frontend => "frontend",
        }
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn the_method_header_lists_the_forwarded_methods() {
        assert_eq!(METHODS_HEADER, METHODS.join(", "));
    }

    #[test]
    fn api_prefixes_match_whole_segments_only() {
        assert_eq!(Route::of("/rest/v1/contacts"), Route::Api("/rest/v1"));
        assert_eq!(Route::of("/auth/v1"), Route::Api("/auth/v1"));
        assert_eq!(
            Route::of("/realtime/v1/websocket"),
            Route::Api("/realtime/v1")
        );
        assert_eq!(Route::of("/rest/v10/x"), Route::Frontend);
        assert_eq!(Route::of("/rest/v1x"), Route::Frontend);
        assert_eq!(Route::of("/"), Route::Frontend);
    }

    #[test]
    fn router_namespace_is_never_forwarded() {
        assert_eq!(Route::of("/__router/health"), Route::Health);
        assert_eq!(Route::of("/__router/tenant"), Route::TenantProfile);
        assert_eq!(Route::of("/__router/other"), Route::RouterOther);
        assert_eq!(
            Route::of("/.well-known/acme-challenge/tok3n"),
            Route::CertValidation
        );
        assert_eq!(
            Route::of("/.well-known/pki-validation/ca3-abc.txt"),
            Route::CertValidation
        );
        assert_eq!(Route::of("/.well-known/acme-challenge"), Route::Frontend);
        assert_eq!(
            Route::of("/.well-known/openid-configuration"),
            Route::Frontend
        );
    }
}
