//! CORS at the edge (SPEC §1.1): preflights answered without an upstream round trip, and the
//! upstream's `*` replaced by the caller's origin when that origin is allowed.

use crate::host;

/// What supabase-js and its sub-clients send: tests/worker/cors_supabase_js.test.mjs captures the
/// headers of the installed version, client by client, and fails when one is missing here.
/// `x-retry-count` rides on postgrest-js's retries (503/520, network errors); `traceparent`,
/// `tracestate` and `baggage` on trace propagation; `x-upsert`, `x-metadata`, `cache-control` on
/// storage uploads; `x-region` on functions.
pub const ALLOW_HEADERS: &str =
    "authorization, apikey, content-type, x-client-info, prefer, range, accept-profile, \
content-profile, x-upsert, x-metadata, x-supabase-api-version, accept, cache-control, x-region, \
x-retry-count, traceparent, tracestate, baggage";
/// What a browser script may read from an answer: `Retry-After` (postgrest-js waits by it, and
/// the router's 503 carries it), `Content-Range` (counts and pagination), the API version, and the
/// request ids that support asks for.
pub const EXPOSE_HEADERS: &str =
    "content-range, retry-after, x-supabase-api-version, sb-request-id, x-request-id, cf-ray";
const MAX_AGE_S: &str = "86400";

/// Is `origin` (an Origin header value) one of the tenant's hosts or explicitly allowed?
pub fn origin_allowed(origin: &str, tenant_hosts: &[String], allowed_origins: &[String]) -> bool {
    let Ok(u) = url::Url::parse(origin) else {
        return false;
    };
    if !matches!(u.scheme(), "http" | "https") {
        return false;
    }
    let serialised = u.origin().ascii_serialization();
    if serialised != origin.trim_end_matches('/') {
        // An Origin is scheme://host[:port] and nothing else.
        return false;
    }
    if allowed_origins.contains(&serialised) {
        return true;
    }
    let Some(h) = u.host_str().and_then(|h| host::normalise(h).ok()) else {
        return false;
    };
    tenant_hosts.contains(&h)
}

/// Headers for an allowed origin, on preflights and ordinary responses alike.
pub fn allow_origin_headers(origin: &str) -> Vec<(String, String)> {
    vec![
        ("access-control-allow-origin".into(), origin.to_string()),
        ("access-control-allow-credentials".into(), "true".into()),
        (
            "access-control-expose-headers".into(),
            EXPOSE_HEADERS.into(),
        ),
        ("vary".into(), "Origin".into()),
    ]
}

pub fn preflight_headers(origin: &str) -> Vec<(String, String)> {
    let mut h = allow_origin_headers(origin);
    h.push((
        "access-control-allow-methods".into(),
        crate::route::METHODS_HEADER.into(),
    ));
    h.push(("access-control-allow-headers".into(), ALLOW_HEADERS.into()));
    h.push(("access-control-max-age".into(), MAX_AGE_S.into()));
    h
}

/// Rewrite the CORS headers of an upstream response for the caller's origin.
/// `allowed`: `Some(true|false)` when the request carried an Origin, `None` when it did not.
pub fn rewrite_response_headers(
    headers: &mut Vec<(String, String)>,
    origin: Option<&str>,
    allowed: bool,
) {
    let Some(origin) = origin else { return };
    if allowed {
        // What upstream exposes stays exposed, beside ours, in one header.
        let mut upstream_expose: Vec<String> = Vec::new();
        headers.retain(|(k, v)| {
            if k.eq_ignore_ascii_case("access-control-expose-headers") {
                upstream_expose.extend(
                    v.split(',')
                        .map(|h| h.trim().to_ascii_lowercase())
                        .filter(|h| !h.is_empty() && !EXPOSE_HEADERS.split(", ").any(|o| o == h)),
                );
                return false;
            }
            !k.eq_ignore_ascii_case("access-control-allow-origin")
                && !k.eq_ignore_ascii_case("access-control-allow-credentials")
        });
        let vary_has_origin = headers.iter().any(|(k, v)| {
            k.eq_ignore_ascii_case("vary")
                && v.split(',')
                    .any(|p| p.trim().eq_ignore_ascii_case("origin"))
        });
        for (k, mut v) in allow_origin_headers(origin) {
            if k == "vary" && vary_has_origin {
                continue;
            }
            if k == "access-control-expose-headers" {
                for h in &upstream_expose {
                    v.push_str(", ");
                    v.push_str(h);
                }
            }
            headers.push((k, v));
        }
    } else {
        headers.retain(|(k, _)| !k.to_ascii_lowercase().starts_with("access-control-"));
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    fn hosts() -> Vec<String> {
        vec!["acme.app.example".into(), "crm.acme.com".into()]
    }

    #[test]
    fn tenant_hosts_are_allowed_origins_on_any_scheme_and_port() {
        assert!(origin_allowed("https://acme.app.example", &hosts(), &[]));
        assert!(origin_allowed("http://crm.acme.com:8787", &hosts(), &[]));
    }

    #[test]
    fn other_tenants_and_lookalikes_are_refused() {
        for o in [
            "https://globex.app.example",
            "https://acme.app.example.evil.com",
            "https://evilacme.app.example",
            "null",
            "",
            "file://acme.app.example",
            "https://acme.app.example/path",
        ] {
            assert!(!origin_allowed(o, &hosts(), &[]), "{o}");
        }
    }

    #[test]
    fn configured_origins_are_exact() {
        let extra = vec!["https://admin.example.com".to_string()];
        assert!(origin_allowed(
            "https://admin.example.com",
            &hosts(),
            &extra
        ));
        assert!(!origin_allowed(
            "http://admin.example.com",
            &hosts(),
            &extra
        ));
        assert!(!origin_allowed(
            "https://admin.example.com:444",
            &hosts(),
            &extra
        ));
    }

    #[test]
    fn upstream_wildcard_is_replaced_for_allowed_origins() {
        let mut h = vec![
            ("access-control-allow-origin".to_string(), "*".to_string()),
            (
                "access-control-expose-headers".to_string(),
                "content-range".to_string(),
            ),
        ];
        rewrite_response_headers(&mut h, Some("https://acme.app.example"), true);
        let acao: Vec<_> = h
            .iter()
            .filter(|(k, _)| k == "access-control-allow-origin")
            .collect();
        assert_eq!(acao.len(), 1);
        assert_eq!(acao[0].1, "https://acme.app.example");
        assert!(h.iter().any(|(k, v)| k == "vary" && v == "Origin"));
        let expose: Vec<_> = h
            .iter()
            .filter(|(k, _)| k == "access-control-expose-headers")
            .collect();
        assert_eq!(expose.len(), 1, "one expose header: {h:?}");
        for name in [
            "content-range",
            "retry-after",
            "x-supabase-api-version",
            "sb-request-id",
        ] {
            assert!(
                expose[0].1.split(", ").any(|e| e == name),
                "{name} in {}",
                expose[0].1
            );
        }
    }

    #[test]
    fn refused_origins_get_no_cors_headers_at_all() {
        let mut h = vec![
            ("access-control-allow-origin".to_string(), "*".to_string()),
            ("content-type".to_string(), "application/json".to_string()),
        ];
        rewrite_response_headers(&mut h, Some("https://evil.example"), false);
        assert_eq!(
            h,
            vec![("content-type".to_string(), "application/json".to_string())]
        );
    }
}
