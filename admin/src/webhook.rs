//! Standard Webhooks verification (<https://www.standardwebhooks.com>), the scheme Supabase Auth signs
//! its HTTP hooks with: `webhook-signature: v1,<base64(HMAC-SHA256(secret, "<id>.<timestamp>.<body>"))>`
//! (several, space-separated, during a rotation), secrets written `v1,whsec_<base64>`.
//!
//! Written here on `hmac`/`sha2`/`base64` (already in the tree) rather than with the
//! `standardwebhooks` crate: its `verify` reads the clock through `time::OffsetDateTime::now_utc`,
//! which panics on wasm32-unknown-unknown (no `SystemTime` in workerd), takes one secret per
//! verifier and an `http::HeaderMap`, and pulls a second `base64` major. Here the clock is the
//! caller's and every accepted secret is tried. The scheme is small; the tests pin it to the spec's
//! published example.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// How far a signature's timestamp may be from our clock, either way (the spec's default): older
/// calls are replays, newer ones a skewed or forged clock.
pub const TOLERANCE_S: i64 = 5 * 60;
/// Longest `webhook-id` read (GoTrue sends a UUID).
const MAX_ID: usize = 256;
/// Most signatures read from one header.
const MAX_SIGNATURES: usize = 8;

/// A signing secret's bytes; `Debug` never shows them.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookSecret(Vec<u8>);

impl std::fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookSecret(<secret>)")
    }
}

/// `v1,whsec_<base64>` entries separated by `|`, as Supabase Auth's `secrets` are written
/// (GOTRUE_HOOK_SEND_EMAIL_SECRETS). Anything else is refused: a secret in another form would be
/// used as other bytes than Auth's and verify nothing, or worse, something else.
pub fn parse_secrets(s: &str) -> Result<Vec<WebhookSecret>, String> {
    let mut out = Vec::new();
    for entry in s.split('|').map(str::trim).filter(|e| !e.is_empty()) {
        let b64 = entry
            .strip_prefix("v1,whsec_")
            .ok_or("each secret is written v1,whsec_<base64>")?;
        let bytes = STANDARD
            .decode(b64)
            .map_err(|_| "a secret's whsec_ part is not base64")?;
        if bytes.len() < 24 {
            return Err("a secret carries fewer than 24 bytes".into());
        }
        out.push(WebhookSecret(bytes));
    }
    if out.is_empty() {
        return Err("no secret".into());
    }
    Ok(out)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookError {
    MissingHeader(&'static str),
    BadTimestamp,
    TimestampOutOfTolerance,
    BadSignature,
}

impl WebhookError {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::MissingHeader("webhook-id") => "webhook-id is missing or malformed",
            Self::MissingHeader("webhook-timestamp") => "webhook-timestamp is missing",
            Self::MissingHeader(_) => "webhook-signature is missing",
            Self::BadTimestamp => "webhook-timestamp is not a Unix time in seconds",
            Self::TimestampOutOfTolerance => "webhook-timestamp is too far from now",
            Self::BadSignature => "no valid signature",
        }
    }
}

/// The signature header's value for `body`, as Auth sends it (tests and stand-ins sign with it).
pub fn sign(secret: &WebhookSecret, id: &str, timestamp: i64, body: &[u8]) -> String {
    format!(
        "v1,{}",
        STANDARD.encode(mac(secret, id, timestamp, body).finalize().into_bytes())
    )
}

fn mac(secret: &WebhookSecret, id: &str, timestamp: i64, body: &[u8]) -> HmacSha256 {
    // HMAC takes keys of any length; new_from_slice cannot fail for it.
    let mut m = <HmacSha256 as Mac>::new_from_slice(&secret.0)
        .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
    m.update(id.as_bytes());
    m.update(b".");
    m.update(timestamp.to_string().as_bytes());
    m.update(b".");
    m.update(body);
    m
}

/// Ok when one of the header's `v1` signatures is one of `secrets`' over exactly these bytes, and
/// the timestamp is within [`TOLERANCE_S`] of `now_s`. Other versions are skipped, as the spec asks.
pub fn verify(
    secrets: &[WebhookSecret],
    id: Option<&str>,
    timestamp: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
    now_s: i64,
) -> Result<(), WebhookError> {
    use WebhookError::*;
    // The id is signed as text before a ".": one with a "." could shift the boundaries.
    let id = id
        .filter(|i| {
            !i.is_empty()
                && i.len() <= MAX_ID
                && i.bytes().all(|b| b.is_ascii_graphic() && b != b'.')
        })
        .ok_or(MissingHeader("webhook-id"))?;
    let ts = timestamp.ok_or(MissingHeader("webhook-timestamp"))?;
    // Digits only, so that the signed text has one spelling ("+1", "01" and " 1" are refused).
    if ts.is_empty()
        || ts.len() > 12
        || !ts.bytes().all(|b| b.is_ascii_digit())
        || (ts.len() > 1 && ts.starts_with('0'))
    {
        return Err(BadTimestamp);
    }
    let ts: i64 = ts.parse().map_err(|_| BadTimestamp)?;
    if (now_s - ts).abs() > TOLERANCE_S {
        return Err(TimestampOutOfTolerance);
    }
    let signature = signature.ok_or(MissingHeader("webhook-signature"))?;
    for sig in signature
        .split(' ')
        .filter(|s| !s.is_empty())
        .take(MAX_SIGNATURES)
    {
        let Some(b64) = sig.strip_prefix("v1,") else {
            continue;
        };
        let Ok(tag) = STANDARD.decode(b64) else {
            continue;
        };
        // verify_slice compares in constant time.
        if secrets
            .iter()
            .any(|s| mac(s, id, ts, body).verify_slice(&tag).is_ok())
        {
            return Ok(());
        }
    }
    Err(BadSignature)
}

#[cfg(test)]
mod tests {
    use super::*;

    // The Standard Webhooks spec's published example (spec/standard-webhooks.md).
    const SPEC_SECRET: &str = "v1,whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const SPEC_ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const SPEC_TS: i64 = 1614265330;
    const SPEC_BODY: &[u8] = br#"{"test": 2432232314}"#;
    const SPEC_SIG: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    fn spec_secret() -> Vec<WebhookSecret> {
        parse_secrets(SPEC_SECRET).unwrap()
    }

    fn check(
        secrets: &[WebhookSecret],
        id: &str,
        ts: &str,
        sig: &str,
        body: &[u8],
        now: i64,
    ) -> Result<(), WebhookError> {
        verify(secrets, Some(id), Some(ts), Some(sig), body, now)
    }

    #[test]
    fn the_spec_example_verifies_and_signs_alike() {
        let s = spec_secret();
        assert_eq!(sign(&s[0], SPEC_ID, SPEC_TS, SPEC_BODY), SPEC_SIG);
        assert_eq!(
            check(
                &s,
                SPEC_ID,
                &SPEC_TS.to_string(),
                SPEC_SIG,
                SPEC_BODY,
                SPEC_TS
            ),
            Ok(())
        );
    }

    #[test]
    fn another_body_id_or_timestamp_fails_the_signature() {
        let s = spec_secret();
        let ts = SPEC_TS.to_string();
        let e = Err(WebhookError::BadSignature);
        assert_eq!(
            check(
                &s,
                SPEC_ID,
                &ts,
                SPEC_SIG,
                br#"{"test": 2432232315}"#,
                SPEC_TS
            ),
            e
        );
        assert_eq!(check(&s, "msg_other", &ts, SPEC_SIG, SPEC_BODY, SPEC_TS), e);
        assert_eq!(
            check(
                &s,
                SPEC_ID,
                &(SPEC_TS + 1).to_string(),
                SPEC_SIG,
                SPEC_BODY,
                SPEC_TS
            ),
            e
        );
        // A v2 (or unversioned) signature of the right bytes is not a v1 one.
        let raw = SPEC_SIG.strip_prefix("v1,").unwrap();
        assert_eq!(
            check(&s, SPEC_ID, &ts, &format!("v2,{raw}"), SPEC_BODY, SPEC_TS),
            e
        );
        assert_eq!(check(&s, SPEC_ID, &ts, raw, SPEC_BODY, SPEC_TS), e);
        assert_eq!(check(&s, SPEC_ID, &ts, "", SPEC_BODY, SPEC_TS), e);
    }

    #[test]
    fn one_good_signature_among_several_and_either_secret_of_a_rotation() {
        let old = spec_secret();
        let new = parse_secrets("v1,whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA").unwrap();
        let both = parse_secrets(&format!(
            "v1,whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA | {SPEC_SECRET}"
        ))
        .unwrap();
        let ts = SPEC_TS.to_string();
        let many = format!("v1,Zm9v v2,bar {SPEC_SIG}");
        assert_eq!(
            check(&both, SPEC_ID, &ts, &many, SPEC_BODY, SPEC_TS),
            Ok(())
        );
        assert_eq!(
            check(&new, SPEC_ID, &ts, &many, SPEC_BODY, SPEC_TS),
            Err(WebhookError::BadSignature)
        );
        assert_eq!(check(&old, SPEC_ID, &ts, &many, SPEC_BODY, SPEC_TS), Ok(()));
    }

    #[test]
    fn timestamps_outside_five_minutes_or_oddly_spelled_are_refused() {
        let s = spec_secret();
        let ts = SPEC_TS.to_string();
        let far = Err(WebhookError::TimestampOutOfTolerance);
        assert_eq!(
            check(&s, SPEC_ID, &ts, SPEC_SIG, SPEC_BODY, SPEC_TS + TOLERANCE_S),
            Ok(())
        );
        assert_eq!(
            check(
                &s,
                SPEC_ID,
                &ts,
                SPEC_SIG,
                SPEC_BODY,
                SPEC_TS + TOLERANCE_S + 1
            ),
            far
        );
        assert_eq!(
            check(
                &s,
                SPEC_ID,
                &ts,
                SPEC_SIG,
                SPEC_BODY,
                SPEC_TS - TOLERANCE_S - 1
            ),
            far
        );
        for bad in [
            "",
            "+1614265330",
            "01614265330",
            " 1614265330",
            "1614265330.0",
            "99999999999999999999",
        ] {
            assert_eq!(
                check(&s, SPEC_ID, bad, SPEC_SIG, SPEC_BODY, SPEC_TS),
                Err(WebhookError::BadTimestamp),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn missing_headers_and_ids_that_could_shift_the_signed_text() {
        let s = spec_secret();
        let ts = SPEC_TS.to_string();
        assert_eq!(
            verify(&s, None, Some(&ts), Some(SPEC_SIG), SPEC_BODY, SPEC_TS),
            Err(WebhookError::MissingHeader("webhook-id"))
        );
        assert_eq!(
            verify(&s, Some(SPEC_ID), None, Some(SPEC_SIG), SPEC_BODY, SPEC_TS),
            Err(WebhookError::MissingHeader("webhook-timestamp"))
        );
        assert_eq!(
            verify(&s, Some(SPEC_ID), Some(&ts), None, SPEC_BODY, SPEC_TS),
            Err(WebhookError::MissingHeader("webhook-signature"))
        );
        assert!(check(&s, "a.1", &ts, SPEC_SIG, SPEC_BODY, SPEC_TS).is_err());
    }

    #[test]
    fn secrets_in_any_other_form_are_refused() {
        for bad in [
            "",
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "v1,MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "v1,whsec_not base64!",
            "v1,whsec_AAAA",
            "v1,whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw|oops",
        ] {
            assert!(parse_secrets(bad).is_err(), "{bad:?}");
        }
        assert!(!format!("{:?}", spec_secret()).contains("MfKQ"));
    }
}
