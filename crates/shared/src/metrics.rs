//! The per-request data point in Workers Analytics Engine, as one fact both sides read: the router
//! writes its blobs and doubles in this order (`src/metrics.rs`), the admin's SQL names the same
//! columns (`admin/src/metrics.rs`). AE has no column names, only positions: `blob1..blob20`,
//! `double1..double20`, `index1`. `metrics_layout.json` beside this file holds the same layout for
//! the JS tests; a test below keeps the two equal.
//!
//! | column    | what                        | values                                                        |
//! | --------- | --------------------------- | ------------------------------------------------------------- |
//! | `index1`  | the tenant's id (UUID)      |                                                               |
//! | `blob1`   | route class                 | `rest` `auth` `storage` `functions` `realtime` `graphql` `frontend` |
//! | `blob2`   | status class                | `1xx` `2xx` `3xx` `4xx` `5xx`                                 |
//! | `blob3`   | directory cache outcome     | `hit` `stale` `miss` `static`                                 |
//! | `blob4`   | token kind (as the log line) | `none` `anon` `user` `service_role` `refused`                |
//! | `blob5`   | the JWT's verification      | `cached` (verified-token cache) `verified` (this request) `none` (no JWT accepted) |
//! | `double1` | latency to the response head, ms |                                                          |
//! | `double2` | HTTP status code            |                                                               |

/// Position (0-based) of each blob; column `blob{n+1}`.
pub const BLOB_ROUTE: usize = 0;
pub const BLOB_STATUS_CLASS: usize = 1;
pub const BLOB_CACHE: usize = 2;
pub const BLOB_TOKEN: usize = 3;
pub const BLOB_TOKEN_SOURCE: usize = 4;
/// How many blobs a point carries.
pub const BLOBS: usize = 5;
/// The blobs' names by position, as in `metrics_layout.json`.
pub const BLOB_NAMES: [&str; BLOBS] = ["route", "status_class", "cache", "token", "token_source"];

pub const DOUBLE_LATENCY_MS: usize = 0;
pub const DOUBLE_STATUS: usize = 1;
pub const DOUBLES: usize = 2;
pub const DOUBLE_NAMES: [&str; DOUBLES] = ["latency_ms", "status"];

/// The SQL column of blob `pos`.
pub fn blob_column(pos: usize) -> String {
    format!("blob{}", pos + 1)
}

/// The SQL column of double `pos`.
pub fn double_column(pos: usize) -> String {
    format!("double{}", pos + 1)
}

/// `1xx` … `5xx` (anything else, which no HTTP answer has, counts as `5xx`).
pub fn status_class(status: u16) -> &'static str {
    match status {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_json_layout_the_tests_read_matches_the_constants() {
        let v: serde_json::Value =
            serde_json::from_str(include_str!("metrics_layout.json")).unwrap();
        assert_eq!(v["index"], "tenant_id");
        assert_eq!(v["blobs"], serde_json::json!(BLOB_NAMES));
        assert_eq!(v["doubles"], serde_json::json!(DOUBLE_NAMES));
        assert_eq!(BLOB_NAMES[BLOB_ROUTE], "route");
        assert_eq!(BLOB_NAMES[BLOB_STATUS_CLASS], "status_class");
        assert_eq!(BLOB_NAMES[BLOB_CACHE], "cache");
        assert_eq!(BLOB_NAMES[BLOB_TOKEN], "token");
        assert_eq!(BLOB_NAMES[BLOB_TOKEN_SOURCE], "token_source");
        assert_eq!(DOUBLE_NAMES[DOUBLE_LATENCY_MS], "latency_ms");
        assert_eq!(DOUBLE_NAMES[DOUBLE_STATUS], "status");
        assert_eq!(blob_column(BLOB_STATUS_CLASS), "blob2");
        assert_eq!(double_column(DOUBLE_LATENCY_MS), "double1");
    }

    #[test]
    fn status_classes() {
        assert_eq!(
            [101, 200, 204, 303, 401, 404, 500, 504].map(status_class),
            ["1xx", "2xx", "2xx", "3xx", "4xx", "4xx", "5xx", "5xx"]
        );
    }
}
