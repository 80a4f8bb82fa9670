//! `tenantctl top`: the busiest tenants of a time range, from the admin API's
//! `GET /admin/v1/metrics/top` (Workers Analytics Engine behind it, weighted by its sampling).
//! `--since` and `--until` take an RFC 3339 time or a duration back from now (`15m`, `6h`, `7d`);
//! `--limit` 1 to 100. "metrics are off" (exit 0) when the admin service has no analytics.

use serde_json::Value;

use crate::admin_cmds::{escape, usage, Outcome};
use crate::args::Args;
use crate::client::{Admin, Failure};

/// `15m`, `6h`, `7d` (or seconds, `90s`) as seconds.
fn duration_s(v: &str) -> Option<u64> {
    let (n, unit) = v.split_at(v.len().checked_sub(1)?);
    let n: u64 = n.parse().ok()?;
    let mult = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return None,
    };
    n.checked_mul(mult)
}

/// An RFC 3339 time as given, or `now - duration` written as one.
fn time_arg(v: &str, now_s: u64) -> Option<String> {
    if tenant_shared::time::parse_rfc3339(v).is_some() {
        return Some(v.to_string());
    }
    let back = duration_s(v)?;
    Some(tenant_shared::time::rfc3339_utc(
        now_s.checked_sub(back)? * 1000,
        false,
    ))
}

fn now_s() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

pub fn run(a: &mut Args, admin: &Admin, as_json: bool) -> Result<Outcome, Failure> {
    let mut q = Vec::new();
    for k in ["since", "until"] {
        if let Some(v) = a.value(&format!("--{k}")) {
            let t = time_arg(&v, now_s()).ok_or_else(|| {
                usage(&format!(
                    "--{k} is an RFC 3339 time or a duration like 15m, 6h, 7d"
                ))
            })?;
            q.push(format!("{k}={}", escape(&t)));
        }
    }
    if let Some(v) = a.value("--limit") {
        q.push(format!("limit={}", escape(&v)));
    }
    let v = admin.call(
        "GET",
        &format!("/admin/v1/metrics/top?{}", q.join("&")),
        None,
        None,
    )?;
    if as_json {
        println!("{v}");
    } else {
        print!("{}", render(&v));
    }
    Ok(Outcome::Done)
}

/// The human table (or the one line saying metrics are off).
fn render(v: &Value) -> String {
    if v["enabled"] != Value::Bool(true) {
        return "metrics are off: the admin service has no Analytics Engine configuration\n".into();
    }
    let num = |x: &Value| x.as_f64().unwrap_or(0.0);
    let mut out = format!(
        "busiest tenants {} .. {}\n{:<24} {:>10} {:>8} {:>7} {:>8}  {}\n",
        v["since"].as_str().unwrap_or(""),
        v["until"].as_str().unwrap_or(""),
        "slug",
        "requests",
        "errors",
        "error%",
        "p95 ms",
        "tenant"
    );
    let tenants = v["tenants"].as_array().cloned().unwrap_or_default();
    if tenants.is_empty() {
        out.push_str("(no requests in this range)\n");
    }
    for t in &tenants {
        out.push_str(&format!(
            "{:<24} {:>10} {:>8} {:>6.1}% {:>8}  {} {}\n",
            t["slug"].as_str().unwrap_or("(purged)"),
            num(&t["requests"]),
            num(&t["errors"]),
            num(&t["error_rate"]) * 100.0,
            t["p95_ms"]
                .as_f64()
                .map_or_else(|| "-".to_string(), |p| format!("{p:.0}")),
            t["tenant_id"].as_str().unwrap_or(""),
            t["name"].as_str().unwrap_or(""),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn durations_and_times() {
        assert_eq!(duration_s("15m"), Some(900));
        assert_eq!(duration_s("7d"), Some(604_800));
        assert_eq!(duration_s("h"), None);
        assert_eq!(duration_s("5y"), None);
        assert_eq!(
            time_arg("1h", 7200).as_deref(),
            Some("1970-01-01T01:00:00Z")
        );
        assert_eq!(
            time_arg("2026-12-01T00:00:00Z", 0).as_deref(),
            Some("2026-12-01T00:00:00Z")
        );
        assert_eq!(time_arg("yesterday", 7200), None);
    }

    #[test]
    fn the_table_and_metrics_off() {
        assert!(render(&json!({"enabled": false})).starts_with("metrics are off"));
        let t = render(
            &json!({"enabled": true, "since": "a", "until": "b", "tenants": [
                {"tenant_id": "22222222-2222-4222-8222-222222222222", "slug": "globex", "name": "Globex", "requests": 70.0, "errors": 20.0, "error_rate": 0.2857, "p95_ms": 100.0},
                {"tenant_id": "99999999-9999-4999-8999-999999999999", "slug": null, "name": null, "requests": 2.0, "errors": 0.0, "error_rate": 0.0, "p95_ms": 5.0}
            ]}),
        );
        let lines: Vec<&str> = t.lines().collect();
        assert!(
            lines[2].starts_with("globex") && lines[2].contains("28.6%"),
            "{t}"
        );
        assert!(lines[3].starts_with("(purged)"), "{t}");
    }
}
