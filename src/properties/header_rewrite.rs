//! Header rewriting (SPEC §6 "Identity headers"): whatever the client sends, the upstream list
//! holds no client copy of an `x-tenant-*` or other identity header Supabase trusts, exactly one
//! `x-tenant-id` and `x-tenant-slug` (the router's), no hop-by-hop header but the upgrade pair; and
//! the edits the adapter applies to the client's headers produce exactly that list.

use crate::proxy::headers::{header_edits, upstream_headers, HeaderEdit, TenantHeaders};
use crate::proxy::identity_headers::router_owned;

const TENANT_ID: &str = "6f1c2a3e-0000-4000-8000-00000000ac4e";

/// Input: a selector byte (bit 0: a WebSocket upgrade, bit 1: the body is replaced), then one
/// `name:value` header a line.
pub fn check(data: &[u8]) {
    let (sel, rest) = super::selector(data);
    let client: Vec<(String, String)> = String::from_utf8_lossy(rest)
        .lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let t = TenantHeaders {
        tenant_id: TENANT_ID,
        tenant_slug: "acme",
        apikey: Some("sb_publishable_x"),
        forwarded_host: "acme.app.example",
        forwarded_proto: "https",
        client_ip: Some("192.0.2.1"),
        upgrade: sel & 1 != 0,
        body_replaced: sel & 2 != 0,
        drop: &["redirect_to", "referer"],
    };
    let ours = [
        ("x-tenant-id", TENANT_ID),
        ("x-tenant-slug", "acme"),
        ("x-forwarded-host", "acme.app.example"),
        ("x-forwarded-proto", "https"),
        ("x-forwarded-for", "192.0.2.1"),
        ("sb-forwarded-for", "192.0.2.1"),
    ];
    let up = upstream_headers(&client, &t);
    let named = |n: &str| up.iter().filter(|(k, _)| k.eq_ignore_ascii_case(n)).count();
    for (k, v) in &up {
        let lk = k.to_ascii_lowercase();
        if lk.starts_with("x-tenant-") || router_owned(&lk) {
            assert!(
                ours.contains(&(lk.as_str(), v.as_str())),
                "a client's {k}: {v:?} went upstream"
            );
        }
        let hop = [
            "keep-alive",
            "te",
            "trailer",
            "transfer-encoding",
            "proxy-authorization",
        ];
        assert!(!hop.contains(&lk.as_str()), "hop-by-hop {k} forwarded");
        assert!(
            !t.drop.contains(&lk.as_str()),
            "{k} should have been dropped"
        );
        if lk == "connection" || lk == "upgrade" {
            assert!(t.upgrade, "{k} forwarded without an upgrade");
        }
        if lk == "content-length" {
            assert!(!t.body_replaced, "the client's length went with a new body");
        }
    }
    for (n, _) in ours {
        assert_eq!(named(n), 1, "{n} in {up:?}");
    }

    // The adapter's way: edits applied to the client's headers, names without case.
    let mut applied: Vec<(String, String)> = client
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
        .collect();
    for e in header_edits(&client, &up) {
        match e {
            HeaderEdit::Remove(n) => applied.retain(|(k, _)| *k != n),
            HeaderEdit::Set(n, v) => {
                applied.retain(|(k, _)| *k != n);
                applied.push((n.into_owned(), v.to_string()));
            }
            HeaderEdit::Append(n, v) => applied.push((n.into_owned(), v.to_string())),
        }
    }
    let per_name = |l: &[(String, String)]| {
        let mut m: std::collections::BTreeMap<String, Vec<String>> = Default::default();
        for (k, v) in l {
            m.entry(k.to_ascii_lowercase()).or_default().push(v.clone());
        }
        m
    };
    assert_eq!(
        per_name(&applied),
        per_name(&up),
        "edits do not give the upstream list"
    );
}

#[cfg(test)]
mod tests {
    use super::super::strategies::{config, from};
    use proptest::prelude::*;

    const NAMES: &[&str] = &[
        "X-Tenant-Id",
        "x-tenant-slug",
        "X-TENANT-ROLE",
        "connection",
        "Connection",
        "upgrade",
        "keep-alive",
        "x-forwarded-for",
        "Forwarded",
        "sb-forwarded-for",
        "x-real-ip",
        "apikey",
        "content-length",
        "x-foo",
        "Referer",
        "redirect_to",
        "X-JWT-AUD",
        "te",
        "authorization",
    ];
    const VALUES: &[&str] = &[
        "evil",
        "x-foo",
        "upgrade, x-foo",
        "websocket",
        "1",
        "",
        " a, b ",
    ];

    proptest! {
        #![proptest_config(config(2000))]
        #[test]
        fn header_lists(sel in 0u8..4, hs in proptest::collection::vec(
            (proptest::sample::select(NAMES), from(VALUES, 2)), 0..12)) {
            let lines: Vec<String> = hs.iter().map(|(k, v)| format!("{k}:{v}")).collect();
            let mut data = vec![sel];
            data.extend_from_slice(lines.join("\n").as_bytes());
            super::check(&data);
        }
    }
}
