//! Per-tenant figures from Workers Analytics Engine (README, "Per-tenant metrics"): the router
//! writes one data point per request (layout in `tenant_shared::metrics`), this module asks AE's
//! SQL API for them and shapes the answer the console and `tenantctl top` read.
//!
//! AE samples: a row stands for `_sample_interval` requests. Every figure is weighted by it —
//! counts are `SUM(_sample_interval)`, error counts the same under `if`, latency percentiles
//! `quantileExactWeighted(q)(double1, _sample_interval)` — as AE's SQL API documents; an
//! unweighted `count()` or `quantileExact` would give wrong figures for sampled tenants.
//!
//! Nothing a caller sends reaches the SQL as text: the tenant id is a parsed UUID, times are Unix
//! seconds this module formats, the step and limit are integers in bounds, the dataset name was
//! validated when the config was read, and the column names come from the shared layout.

use serde_json::{json, Value};
use tenant_shared::metrics::{blob_column, double_column, BLOB_STATUS_CLASS, DOUBLE_LATENCY_MS};
use tenant_shared::time::{parse_rfc3339, rfc3339_utc};
use uuid::Uuid;

use crate::backend::{call, Backend, Service};
use crate::config::{AdminConfig, AnalyticsConfig};
use crate::error::AdminError;

pub const DEFAULT_RANGE_S: i64 = 3600;
pub const DEFAULT_STEP_S: i64 = 60;
pub const MIN_STEP_S: i64 = 60;
pub const MAX_STEP_S: i64 = 86_400;
pub const MAX_RANGE_S: i64 = 31 * 86_400;
pub const MAX_POINTS: i64 = 1440;
pub const DEFAULT_TOP: u32 = 10;
pub const MAX_TOP: u32 = 100;

/// A time range, in Unix seconds, `since` included and `until` excluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    pub since: i64,
    pub until: i64,
}

/// What `?since=&until=&step=&limit=` asked for, checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Params {
    pub range: Range,
    pub step: i64,
    pub limit: u32,
}

fn bad(why: impl Into<String>) -> AdminError {
    AdminError::InvalidQuery(why.into())
}

/// Reads the query string; `allowed` names the parameters the route takes.
pub fn parse_params(
    query: Option<&str>,
    now_s: i64,
    allowed: &[&str],
) -> Result<Params, AdminError> {
    let (mut since, mut until, mut step, mut limit) = (None, None, None, None);
    for (k, v) in url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        if !allowed.contains(&k.as_ref()) {
            return Err(bad(format!("unknown parameter {k}")));
        }
        let time = || {
            parse_rfc3339(&v).ok_or_else(|| {
                bad(format!(
                    "{k} is an RFC 3339 time, e.g. 2026-12-01T10:00:00Z"
                ))
            })
        };
        match k.as_ref() {
            "since" => since = Some(time()?),
            "until" => until = Some(time()?),
            "step" => {
                step = Some(
                    v.parse::<i64>()
                        .ok()
                        .filter(|s| (MIN_STEP_S..=MAX_STEP_S).contains(s))
                        .ok_or_else(|| {
                            bad(format!("step is {MIN_STEP_S} to {MAX_STEP_S} seconds"))
                        })?,
                )
            }
            _ => {
                limit = Some(
                    v.parse::<u32>()
                        .ok()
                        .filter(|l| (1..=MAX_TOP).contains(l))
                        .ok_or_else(|| bad(format!("limit is 1 to {MAX_TOP}")))?,
                )
            }
        }
    }
    let until = until.unwrap_or(now_s);
    let since = since.unwrap_or(until - DEFAULT_RANGE_S);
    let step = step.unwrap_or(DEFAULT_STEP_S);
    if since >= until {
        return Err(bad("since must be before until"));
    }
    if until - since > MAX_RANGE_S {
        return Err(bad("the range is at most 31 days"));
    }
    if allowed.contains(&"step") && buckets(Range { since, until }, step) > MAX_POINTS {
        return Err(bad(format!(
            "at most {MAX_POINTS} points: widen step or narrow the range"
        )));
    }
    Ok(Params {
        range: Range { since, until },
        step,
        limit: limit.unwrap_or(DEFAULT_TOP),
    })
}

/// How many `step`-wide buckets, starting at `since`, cover the range.
fn buckets(r: Range, step: i64) -> i64 {
    (r.until - r.since + step - 1) / step
}

/// The figures every query selects, weighted by `_sample_interval`.
fn weighted_figures(percentiles: &[(&str, &str)]) -> String {
    let status = blob_column(BLOB_STATUS_CLASS);
    let latency = double_column(DOUBLE_LATENCY_MS);
    let mut s = format!(
        "SUM(_sample_interval) AS requests, \
         SUM(if({status} = '4xx', _sample_interval, 0)) AS client_errors, \
         SUM(if({status} = '5xx', _sample_interval, 0)) AS errors"
    );
    for (q, name) in percentiles {
        s.push_str(&format!(
            ", quantileExactWeighted({q})({latency}, _sample_interval) AS {name}"
        ));
    }
    s
}

const PERCENTILES: [(&str, &str); 3] = [("0.5", "p50_ms"), ("0.95", "p95_ms"), ("0.99", "p99_ms")];

fn time_filter(r: Range) -> String {
    format!(
        "timestamp >= toDateTime({}) AND timestamp < toDateTime({})",
        r.since, r.until
    )
}

/// Per-bucket figures of one tenant; `bucket` is the bucket's number from `since`.
pub fn series_sql(a: &AnalyticsConfig, tenant: Uuid, p: &Params) -> String {
    format!(
        "SELECT intDiv(toUnixTimestamp(timestamp) - {since}, {step}) AS bucket, {figures} \
         FROM {ds} WHERE index1 = '{tenant}' AND {range} \
         GROUP BY bucket ORDER BY bucket ASC FORMAT JSON",
        since = p.range.since,
        step = p.step,
        figures = weighted_figures(&PERCENTILES),
        ds = a.dataset,
        range = time_filter(p.range),
    )
}

/// The same figures over the whole range (percentiles do not add up from buckets).
pub fn totals_sql(a: &AnalyticsConfig, tenant: Uuid, p: &Params) -> String {
    format!(
        "SELECT {figures} FROM {ds} WHERE index1 = '{tenant}' AND {range} FORMAT JSON",
        figures = weighted_figures(&PERCENTILES),
        ds = a.dataset,
        range = time_filter(p.range),
    )
}

/// The busiest tenants of the range.
pub fn top_sql(a: &AnalyticsConfig, p: &Params) -> String {
    format!(
        "SELECT index1 AS tenant_id, {figures} FROM {ds} WHERE {range} \
         GROUP BY tenant_id ORDER BY requests DESC, tenant_id ASC LIMIT {limit} FORMAT JSON",
        figures = weighted_figures(&[("0.95", "p95_ms")]),
        ds = a.dataset,
        range = time_filter(p.range),
        limit = p.limit,
    )
}

/// AE's JSON format quotes 64-bit integers (`"requests": "42"`), as ClickHouse does: both read.
fn number(v: Option<&Value>) -> Option<f64> {
    match v? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// The rows of an SQL API answer `{meta, data, rows}`.
async fn query(
    b: &dyn Backend,
    a: &AnalyticsConfig,
    sql: String,
) -> Result<Vec<Value>, AdminError> {
    let path = format!("/accounts/{}/analytics_engine/sql", a.account_id);
    let answer = call(
        b,
        Service::Analytics,
        "POST",
        &path,
        Some(Value::String(sql)),
    )
    .await
    .map_err(|e| AdminError::AnalyticsUnavailable(crate::backend::cause(&e)))?;
    match answer.get("data") {
        Some(Value::Array(rows)) => Ok(rows.clone()),
        _ => Err(AdminError::AnalyticsUnavailable(
            "the SQL API answered without a data array".into(),
        )),
    }
}

/// `requests`, `client_errors`, `errors`, `error_rate` and the percentiles (null without requests).
fn figures(row: Option<&Value>) -> Value {
    let get = |k: &str| row.and_then(|r| number(r.get(k)));
    let requests = get("requests").unwrap_or(0.0);
    let errors = get("errors").unwrap_or(0.0);
    let pct = |k: &str| {
        if requests > 0.0 {
            get(k).map_or(Value::Null, |v| json!(v))
        } else {
            Value::Null
        }
    };
    json!({
        "requests": requests,
        "client_errors": get("client_errors").unwrap_or(0.0),
        "errors": errors,
        "error_rate": if requests > 0.0 { errors / requests } else { 0.0 },
        "p50_ms": pct("p50_ms"),
        "p95_ms": pct("p95_ms"),
        "p99_ms": pct("p99_ms"),
    })
}

fn time(s: i64) -> String {
    rfc3339_utc((s.max(0) as u64) * 1000, false)
}

/// Every bucket of the range, in order, a zero point where AE has no row (a continuous axis).
pub fn shape_series(p: &Params, rows: &[Value], totals: Option<&Value>) -> Value {
    let n = buckets(p.range, p.step);
    let mut points = Vec::with_capacity(n as usize);
    for i in 0..n {
        let row = rows
            .iter()
            .find(|r| number(r.get("bucket")).is_some_and(|b| b as i64 == i));
        let mut point = figures(row);
        point["t"] = json!(time(p.range.since + i * p.step));
        points.push(point);
    }
    let mut totals = figures(totals);
    if let Some(o) = totals.as_object_mut() {
        o.remove("t");
    }
    json!({
        "enabled": true,
        "since": time(p.range.since),
        "until": time(p.range.until),
        "step_s": p.step,
        "points": points,
        "totals": totals,
    })
}

/// `GET /admin/v1/tenants/:id/metrics`.
pub async fn tenant(
    b: &dyn Backend,
    cfg: &AdminConfig,
    id: Uuid,
    query_string: Option<&str>,
) -> Result<Value, AdminError> {
    let Some(a) = &cfg.analytics else {
        return Ok(json!({"enabled": false}));
    };
    let p = parse_params(query_string, b.now_s() as i64, &["since", "until", "step"])?;
    let known = call(
        b,
        Service::Rest,
        "GET",
        &format!("/tenants?id=eq.{id}&select=id"),
        None,
    )
    .await?;
    if known.as_array().is_none_or(Vec::is_empty) {
        return Err(AdminError::NotFound);
    }
    let rows = query(b, a, series_sql(a, id, &p)).await?;
    let totals = query(b, a, totals_sql(a, id, &p)).await?;
    Ok(shape_series(&p, &rows, totals.first()))
}

/// `GET /admin/v1/metrics/top`.
pub async fn top(
    b: &dyn Backend,
    cfg: &AdminConfig,
    query_string: Option<&str>,
) -> Result<Value, AdminError> {
    let Some(a) = &cfg.analytics else {
        return Ok(json!({"enabled": false}));
    };
    let p = parse_params(query_string, b.now_s() as i64, &["since", "until", "limit"])?;
    let rows = query(b, a, top_sql(a, &p)).await?;
    let ids: Vec<Uuid> = rows
        .iter()
        .filter_map(|r| r.get("tenant_id").and_then(Value::as_str))
        .filter_map(|s| Uuid::parse_str(s).ok())
        .collect();
    // Names from the tenants table; a purged tenant's id has none (slug null).
    let known = if ids.is_empty() {
        Value::Array(Vec::new())
    } else {
        let list: Vec<String> = ids.iter().map(Uuid::to_string).collect();
        call(
            b,
            Service::Rest,
            "GET",
            &format!("/tenants?id=in.({})&select=id,slug,name", list.join(",")),
            None,
        )
        .await?
    };
    let tenants: Vec<Value> = rows
        .iter()
        .map(|r| {
            let id = r
                .get("tenant_id")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let t = known.as_array().and_then(|k| {
                k.iter()
                    .find(|t| t.get("id").and_then(Value::as_str) == Some(id))
            });
            let f = figures(Some(r));
            json!({
                "tenant_id": id,
                "slug": t.and_then(|t| t.get("slug")).cloned().unwrap_or(Value::Null),
                "name": t.and_then(|t| t.get("name")).cloned().unwrap_or(Value::Null),
                "requests": f["requests"], "errors": f["errors"], "error_rate": f["error_rate"],
                "p95_ms": f["p95_ms"],
            })
        })
        .collect();
    Ok(json!({
        "enabled": true,
        "since": time(p.range.since),
        "until": time(p.range.until),
        "tenants": tenants,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_796_169_600; // 2026-12-02T00:00:00Z
    const SERIES: &[&str] = &["since", "until", "step"];

    fn ae() -> AnalyticsConfig {
        AnalyticsConfig {
            account_id: "0123456789abcdef0123456789abcdef".into(),
            token: "t".into(),
            dataset: "tenant_requests".into(),
        }
    }

    #[test]
    fn defaults_are_the_last_hour_by_minute() {
        let p = parse_params(None, NOW, SERIES).unwrap();
        assert_eq!(
            p.range,
            Range {
                since: NOW - 3600,
                until: NOW
            }
        );
        assert_eq!((p.step, p.limit), (60, 10));
    }

    #[test]
    fn bad_parameters_are_400s_that_say_why() {
        for q in [
            "since=yesterday",
            "until=2026-12-01",
            "step=59",
            "step=86401",
            "step=1e3",
            "since=2026-12-01T00:00:00Z&until=2026-11-01T00:00:00Z",
            "since=2026-10-01T00:00:00Z&until=2026-12-01T00:00:00Z&step=86400",
            "since=2026-11-01T00:00:00Z&until=2026-12-01T00:00:00Z&step=60",
            "bogus=1",
            "limit=5",
        ] {
            let e = parse_params(Some(q), NOW, SERIES).unwrap_err();
            assert_eq!(e.status(), 400, "{q}");
            assert_eq!(e.body()["code"], "invalid_parameter", "{q}");
        }
        for q in ["limit=0", "limit=101", "limit=x", "step=60"] {
            assert_eq!(
                parse_params(Some(q), NOW, &["since", "until", "limit"])
                    .unwrap_err()
                    .status(),
                400,
                "{q}"
            );
        }
        // 1440 one-minute points is the most: a whole day.
        assert!(parse_params(
            Some("since=2026-12-01T00:00:00Z&until=2026-12-02T00:00:00Z&step=60"),
            NOW,
            SERIES
        )
        .is_ok());
        assert!(parse_params(
            Some("since=2026-12-01T00:00:00Z&until=2026-12-02T00:01:00Z&step=60"),
            NOW,
            SERIES
        )
        .is_err());
    }

    #[test]
    fn every_figure_is_weighted_and_reads_the_shared_layout_columns() {
        let p = parse_params(
            Some("since=2026-12-01T10:00:00Z&until=2026-12-01T11:00:00Z&step=300"),
            NOW,
            SERIES,
        )
        .unwrap();
        let id = Uuid::parse_str("6f1c2a3e-0000-4000-8000-00000000ac4e").unwrap();
        let sql = series_sql(&ae(), id, &p);
        assert!(sql.contains("SUM(_sample_interval) AS requests"), "{sql}");
        assert!(
            sql.contains("SUM(if(blob2 = '5xx', _sample_interval, 0)) AS errors"),
            "{sql}"
        );
        assert!(
            sql.contains("SUM(if(blob2 = '4xx', _sample_interval, 0)) AS client_errors"),
            "{sql}"
        );
        assert!(
            sql.contains("quantileExactWeighted(0.95)(double1, _sample_interval) AS p95_ms"),
            "{sql}"
        );
        assert!(
            sql.contains("intDiv(toUnixTimestamp(timestamp) - 1796119200, 300) AS bucket"),
            "{sql}"
        );
        assert!(
            sql.contains("index1 = '6f1c2a3e-0000-4000-8000-00000000ac4e'"),
            "{sql}"
        );
        assert!(sql.contains("FROM tenant_requests WHERE"), "{sql}");
        assert!(
            !sql.to_lowercase().contains("count("),
            "counts are sums of the sample interval: {sql}"
        );
        let top = top_sql(
            &ae(),
            &parse_params(Some("limit=3"), NOW, &["since", "until", "limit"]).unwrap(),
        );
        assert!(
            top.contains("GROUP BY tenant_id ORDER BY requests DESC, tenant_id ASC LIMIT 3"),
            "{top}"
        );
    }

    #[test]
    fn empty_buckets_are_zero_points_and_quoted_integers_read_as_numbers() {
        let p = parse_params(
            Some("since=2026-12-01T10:00:00Z&until=2026-12-01T10:03:30Z&step=60"),
            NOW,
            SERIES,
        )
        .unwrap();
        let rows = [
            json!({"bucket": "2", "requests": "30", "client_errors": "3", "errors": "6", "p50_ms": 10.0, "p95_ms": 40.0, "p99_ms": 90.0}),
        ];
        let totals = json!({"requests": "30", "client_errors": "3", "errors": "6", "p50_ms": 10.0, "p95_ms": 40.0, "p99_ms": 90.0});
        let v = shape_series(&p, &rows, Some(&totals));
        let points = v["points"].as_array().unwrap();
        assert_eq!(points.len(), 4, "10:00, 10:01, 10:02, 10:03");
        assert_eq!(
            points[0],
            json!({"t": "2026-12-01T10:00:00Z", "requests": 0.0, "client_errors": 0.0, "errors": 0.0, "error_rate": 0.0, "p50_ms": null, "p95_ms": null, "p99_ms": null})
        );
        assert_eq!(points[2]["t"], "2026-12-01T10:02:00Z");
        assert_eq!(points[2]["requests"], 30.0);
        assert_eq!(points[2]["error_rate"], 0.2);
        assert_eq!(points[2]["p95_ms"], 40.0);
        assert_eq!(v["totals"]["errors"], 6.0);
        assert_eq!(
            (
                v["since"].as_str(),
                v["until"].as_str(),
                v["step_s"].as_i64()
            ),
            (
                Some("2026-12-01T10:00:00Z"),
                Some("2026-12-01T10:03:30Z"),
                Some(60)
            )
        );
        let none = shape_series(&p, &[], None);
        assert_eq!(none["totals"]["p99_ms"], Value::Null);
        assert_eq!(none["totals"]["error_rate"], 0.0);
    }
}
