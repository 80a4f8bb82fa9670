//! One structured JSON line per request (SPEC §1.5).

use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct RequestLog<'a> {
    pub ts: String,
    pub tenant: Option<&'a str>,
    pub host: &'a str,
    pub method: &'a str,
    pub route: &'a str,
    pub status: u16,
    pub latency_ms: u64,
    pub cache: Option<&'a str>,
    pub token: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<&'a str>,
}

impl RequestLog<'_> {
    pub fn to_line(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// RFC 3339 UTC timestamp with milliseconds, from Unix milliseconds.
pub fn rfc3339(ms: u64) -> String {
    tenant_shared::time::rfc3339_utc(ms, true)
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_rfc3339() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(1_795_305_600_123), "2026-11-22T00:00:00.123Z");
        assert_eq!(rfc3339(951_782_400_000), "2000-02-29T00:00:00.000Z");
    }

    #[test]
    fn log_line_has_the_documented_fields() {
        let l = RequestLog {
            ts: rfc3339(0),
            tenant: Some("acme"),
            host: "acme.app.example",
            method: "GET",
            route: "/rest/v1",
            status: 200,
            latency_ms: 3,
            cache: Some("hit"),
            token: "user",
            error: None,
        };
        let v: serde_json::Value = serde_json::from_str(&l.to_line()).unwrap();
        for k in [
            "ts",
            "tenant",
            "host",
            "method",
            "route",
            "status",
            "latency_ms",
            "cache",
            "token",
        ] {
            assert!(v.get(k).is_some(), "missing {k}");
        }
    }
}
