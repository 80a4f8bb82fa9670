//! Request headers that Supabase's services or its gateway read as the caller's identity, client
//! address or audience. Only the router may set them: every client-sent copy is dropped before
//! forwarding (SPEC §6 "Identity headers"), and [`super::headers::upstream_headers`] sets the
//! ones Supabase expects from a proxy. This list is the one place they are named.
//!
//! Sources (read in the upstream code, December 2026):
//! - GoTrue `internal/sbff/sbff.go`: `Sb-Forwarded-For` is the client IP when enabled;
//!   `internal/utilities/request.go` `GetIPAddress`: `X-Forwarded-For`; `internal/api/api.go`:
//!   the `xff` middleware rewrites the remote address from `X-Forwarded-For`, CORS allows
//!   `X-Client-IP`; `internal/api/helpers.go` `requestAud`: `X-JWT-AUD` picks the audience of
//!   issued tokens; rate limits key on `GOTRUE_RATE_LIMIT_HEADER` (deployments use `X-Real-IP`,
//!   `CF-Connecting-IP`, `True-Client-IP` or `X-Forwarded-For`).
//! - Storage (`supabase/storage`): tenant and URL from `X-Forwarded-Host`, `X-Forwarded-Proto`,
//!   `X-Forwarded-Prefix`, `X-Forwarded-Port`; PostgREST exposes every header to SQL as
//!   `request.headers`, where policies may read any of these.
//! - Kong (Supabase's gateway): key-auth / ACL set `X-Consumer-*`, `X-Credential-Identifier`,
//!   `X-Anonymous-Consumer`, `X-Authenticated-*` for upstreams; Envoy trusts `X-Envoy-*` from
//!   internal hops; Supabase's gateway sets its own `sb-*` headers.
//! - RFC 7239 `Forwarded`, and the client-IP headers of CDNs in front of origins
//!   (`CF-Connecting-IP(v6)`, `True-Client-IP`, `Fastly-Client-IP`, `X-Cluster-Client-IP`,
//!   `X-Original-Forwarded-For`); `X-Original-Host`/`X-Host`/`X-Original-URL`/`X-Rewrite-URL`
//!   re-route some proxies.
//! - The router's own contract (SPEC §3): `x-tenant-*`.

/// Name prefixes (lowercase) owned by the router or by Supabase's gateway.
const PREFIXES: [&str; 9] = [
    "x-tenant-",
    "x-forwarded-",
    "sb-",
    "x-sb-",
    "x-envoy-",
    "x-consumer-",
    "x-credential-",
    "x-authenticated-",
    "x-jwt-",
];

/// Whole names (lowercase).
const NAMES: [&str; 16] = [
    "host",
    "forwarded",
    "x-real-ip",
    "x-client-ip",
    "true-client-ip",
    "cf-connecting-ip",
    "cf-connecting-ipv6",
    "cf-pseudo-ipv4",
    "fastly-client-ip",
    "x-cluster-client-ip",
    "x-original-forwarded-for",
    "x-anonymous-consumer",
    "x-original-host",
    "x-host",
    "x-original-url",
    "x-rewrite-url",
];

/// Whether `name` (lowercase) is the router's alone: a client's copy never goes upstream.
pub fn router_owned(name: &str) -> bool {
    PREFIXES.iter().any(|p| name.starts_with(p)) || NAMES.contains(&name)
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn identity_audience_and_gateway_headers_are_router_owned() {
        for name in [
            "sb-forwarded-for",
            "x-jwt-aud",
            "x-real-ip",
            "x-forwarded-for",
            "x-forwarded-prefix",
            "forwarded",
            "x-envoy-external-address",
            "x-consumer-username",
            "x-credential-identifier",
            "x-anonymous-consumer",
            "cf-connecting-ip",
            "x-tenant-id",
        ] {
            assert!(router_owned(name), "{name}");
        }
        for name in [
            "authorization",
            "apikey",
            "x-client-info",
            "prefer",
            "accept-profile",
            "x-upsert",
        ] {
            assert!(!router_owned(name), "{name}");
        }
    }
}
