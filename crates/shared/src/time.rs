//! RFC 3339 UTC timestamps from Unix time, without a date crate (the router's log line, the admin's
//! PostgREST timestamp filters).

/// `YYYY-MM-DDTHH:MM:SS` plus `.mmm` when `millis` is given, and `Z`, for Unix milliseconds.
pub fn rfc3339_utc(ms: u64, millis: bool) -> String {
    let secs = (ms / 1000) as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's days-to-civil algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    let (h, mi, s) = (rem / 3600, rem % 3600 / 60, rem % 60);
    if millis {
        format!(
            "{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{:03}Z",
            ms % 1000
        )
    } else {
        format!("{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
    }
}

#[cfg(test)]
mod tests {
    use super::rfc3339_utc;

    #[test]
    fn known_instants() {
        assert_eq!(rfc3339_utc(0, false), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339_utc(951_782_400_000, false), "2000-02-29T00:00:00Z");
        assert_eq!(
            rfc3339_utc(1_796_169_599_123, true),
            "2026-12-01T23:59:59.123Z"
        );
    }
}
