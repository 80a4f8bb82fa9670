//! The per-request data point for Workers Analytics Engine (README, "Per-tenant metrics"): from
//! the request's [`Outcome`] (the same facts its log line is made of) to `{indexes, blobs,
//! doubles}`, which the edge hands to the `METRICS` binding's `writeDataPoint` as it is. The layout (which blob is
//! which) is written once, in `tenant_shared::metrics`.
//!
//! What gets a point: every request answered for a resolved tenant (suspended ones included: their
//! 403s are that tenant's traffic), API prefixes and the front end alike. What does not: requests
//! that resolve no tenant (an unknown or invalid host, the platform's hosts, the auth return host,
//! a directory outage before any record), the router's own namespace `/__router/*` (health, the
//! tenant profile, the confirmation link, bench) and certificate-validation pass-through. So a
//! tenant's figures are its users' requests, and a stranger probing random hosts writes nothing.

use serde::Serialize;
use tenant_shared::metrics::{self as layout, BLOBS, DOUBLES};

use crate::directory::cache::CacheStatus;
use crate::pipeline::Outcome;
use crate::route::Route;

/// One `writeDataPoint` argument, serialised to JSON exactly as the binding takes it. The doubles
/// are whole numbers (milliseconds, a status code): integers here, they serialise without float
/// formatting in the bundle and are the same numbers in JS.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DataPoint {
    pub indexes: [String; 1],
    pub blobs: [&'static str; BLOBS],
    pub doubles: [u64; DOUBLES],
}

/// `blob1`: the route class; `None` for routes that get no point.
fn route_class(route: Route) -> Option<&'static str> {
    match route {
        Route::Api(prefix) => prefix.strip_prefix('/').and_then(|p| p.strip_suffix("/v1")),
        Route::Frontend => Some("frontend"),
        Route::Health
        | Route::TenantProfile
        | Route::BenchVerify
        | Route::AuthReturn
        | Route::AuthConfirm
        | Route::BenchTrap
        | Route::RouterOther
        | Route::CertValidation => None,
    }
}

/// The point for a request's outcome, or `None` when it gets none.
pub fn data_point(o: &Outcome) -> Option<DataPoint> {
    let tenant = o.tenant_id?;
    let route = route_class(o.route)?;
    let mut blobs = [""; BLOBS];
    blobs[layout::BLOB_ROUTE] = route;
    blobs[layout::BLOB_STATUS_CLASS] = layout::status_class(o.status);
    blobs[layout::BLOB_CACHE] = o.cache.map_or("none", CacheStatus::as_str);
    blobs[layout::BLOB_TOKEN] = o.token;
    blobs[layout::BLOB_TOKEN_SOURCE] = o.token_source;
    let mut doubles = [0; DOUBLES];
    doubles[layout::DOUBLE_LATENCY_MS] = o.elapsed_ms;
    doubles[layout::DOUBLE_STATUS] = u64::from(o.status);
    Some(DataPoint {
        indexes: [tenant.to_string()],
        blobs,
        doubles,
    })
}

impl DataPoint {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    const ACME: &str = "6f1c0000-0000-4000-8000-000000000001";

    fn outcome(route: Route, tenant: bool) -> Outcome<'static> {
        Outcome {
            now_ms: 1_042,
            tenant_id: tenant.then(|| ACME.parse().unwrap()),
            tenant_slug: tenant.then_some("acme"),
            host: "acme.app.example",
            method: "GET",
            route,
            status: 201,
            cache: Some(CacheStatus::Hit),
            token: "user",
            token_source: "cached",
            elapsed_ms: 42,
            error: None,
        }
    }

    #[test]
    fn a_tenants_api_request_is_one_point_in_the_shared_layout() {
        let p = data_point(&outcome(Route::Api("/rest/v1"), true)).unwrap();
        assert_eq!(p.indexes, [ACME.to_string()]);
        assert_eq!(p.blobs, ["rest", "2xx", "hit", "user", "cached"]);
        assert_eq!(p.doubles, [42, 201]);
        assert_eq!(
            p.to_json(),
            r#"{"indexes":["6f1c0000-0000-4000-8000-000000000001"],"blobs":["rest","2xx","hit","user","cached"],"doubles":[42,201]}"#
        );
    }

    #[test]
    fn every_api_prefix_has_its_route_class() {
        let classes: Vec<_> = crate::route::API_PREFIXES
            .iter()
            .map(|p| route_class(Route::Api(p)).unwrap())
            .collect();
        assert_eq!(
            classes,
            [
                "rest",
                "auth",
                "storage",
                "functions",
                "graphql",
                "realtime"
            ]
        );
        assert_eq!(route_class(Route::Frontend), Some("frontend"));
    }

    #[test]
    fn router_endpoints_and_requests_without_a_tenant_get_no_point() {
        for r in [
            Route::Health,
            Route::TenantProfile,
            Route::AuthConfirm,
            Route::AuthReturn,
            Route::RouterOther,
            Route::BenchVerify,
            Route::CertValidation,
        ] {
            assert_eq!(data_point(&outcome(r, true)), None, "{r:?}");
        }
        assert_eq!(data_point(&outcome(Route::Api("/rest/v1"), false)), None);
    }

    #[test]
    fn errors_and_refusals_keep_their_class() {
        let mut o = outcome(Route::Api("/auth/v1"), true);
        o.token = "refused";
        o.token_source = "none";
        o.cache = None;
        o.status = 401;
        o.elapsed_ms = 0;
        let p = data_point(&o).unwrap();
        assert_eq!(p.blobs, ["auth", "4xx", "none", "refused", "none"]);
        assert_eq!(p.doubles, [0, 401]);
        o.status = 503;
        assert_eq!(data_point(&o).unwrap().blobs[1], "5xx");
    }
}
