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

/// Unix seconds of an RFC 3339 timestamp (`2026-12-01T23:59:59Z`, `…59.123+02:00`; fractions are
/// dropped, `t`/`z` and a space for `T` accepted), or `None` when it is not one.
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 20 || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    let num = |r: std::ops::Range<usize>| num_of(s.get(r)?);
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if b[4] != b'-' || b[7] != b'-' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days_in_month = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if !(1..=12).contains(&m) || d < 1 || d > days_in_month[(m - 1) as usize] {
        return None;
    }
    if h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let mut rest = &s[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        rest = &frac[digits..];
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ if rest.len() == 6 && matches!(&rest[..1], "+" | "-") && &rest[3..4] == ":" => {
            let (oh, om) = (num_of(&rest[1..3])?, num_of(&rest[4..6])?);
            if oh > 23 || om > 59 {
                return None;
            }
            let o = oh * 3600 + om * 60;
            if rest.starts_with('-') {
                -o
            } else {
                o
            }
        }
        _ => return None,
    };
    // Howard Hinnant's days-from-civil, the inverse of `rfc3339_utc`'s.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + h * 3600 + mi * 60 + sec - offset)
}

fn num_of(s: &str) -> Option<i64> {
    s.bytes()
        .all(|c| c.is_ascii_digit())
        .then(|| s.parse().ok())?
}

#[cfg(test)]
mod parse_tests {
    use super::{parse_rfc3339, rfc3339_utc};

    #[test]
    fn parses_what_it_formats_and_offsets() {
        for ms in [0u64, 951_782_400_000, 1_796_169_599_000] {
            assert_eq!(
                parse_rfc3339(&rfc3339_utc(ms, false)),
                Some((ms / 1000) as i64)
            );
            assert_eq!(
                parse_rfc3339(&rfc3339_utc(ms, true)),
                Some((ms / 1000) as i64)
            );
        }
        assert_eq!(
            parse_rfc3339("2026-12-02T01:59:59+02:00"),
            parse_rfc3339("2026-12-01T23:59:59Z")
        );
        assert_eq!(parse_rfc3339("1969-12-31T23:59:59Z"), Some(-1));
    }

    #[test]
    fn refuses_what_is_not_rfc3339() {
        for bad in [
            "",
            "2026-12-01",
            "2026-12-01T23:59:59",
            "2026-02-30T00:00:00Z",
            "2026-13-01T00:00:00Z",
            "2026-12-01T24:00:00Z",
            "2026-12-01T23:59:59.Z",
            "2026-12-01T23:59:59+0200",
            "+026-12-01T23:59:59Z",
            "2026-12-01T23:59:59Z'; drop",
            "１０２６-12-01T23:59:59Z",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }
}
