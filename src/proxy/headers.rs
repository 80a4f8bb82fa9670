//! Header hygiene between the client and the upstream.

use std::borrow::Cow;

use super::identity_headers::router_owned;

/// RFC 9110 §7.6.1 hop-by-hop headers, plus the non-standard `proxy-connection`.
const HOP_BY_HOP: [&str; 9] = [
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

pub struct TenantHeaders<'a> {
    pub tenant_id: &'a str,
    pub tenant_slug: &'a str,
    /// Added as `apikey` when the client sent none; `None` for the frontend.
    pub apikey: Option<&'a str>,
    pub forwarded_host: &'a str,
    pub forwarded_proto: &'a str,
    pub client_ip: Option<&'a str>,
    /// A WebSocket upgrade keeps `Connection: upgrade` and `Upgrade`, or upstream sees a plain GET.
    pub upgrade: bool,
    /// The body is replaced, so the client's length no longer applies.
    pub body_replaced: bool,
    /// Further client headers not to forward (lowercase), e.g. auth redirect carriers.
    pub drop: &'a [&'a str],
}

/// The headers sent upstream: the client's, cleaned, plus exactly one of each router header.
pub fn upstream_headers(client: &[(String, String)], t: &TenantHeaders) -> Vec<(String, String)> {
    let connection_named: Vec<String> = client
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case("connection"))
        .flat_map(|(_, v)| v.split(',').map(|s| s.trim().to_ascii_lowercase()))
        .filter(|s| !s.is_empty())
        .collect();
    let mut out: Vec<(String, String)> = Vec::with_capacity(client.len() + 6);
    let mut has_apikey = false;
    for (k, v) in client {
        // Copied only when kept: most of what is left behind is the edge's own (cf-*, host).
        let name = lowercase(k);
        if t.upgrade && name == "upgrade" {
            out.push((name.into_owned(), v.clone()));
            continue;
        }
        if HOP_BY_HOP.contains(&name.as_ref())
            || connection_named.iter().any(|c| *c == name)
            || router_owned(&name)
            || t.drop.contains(&name.as_ref())
        {
            continue;
        }
        if t.body_replaced && name == "content-length" {
            continue;
        }
        if name == "apikey" {
            has_apikey = true;
        }
        out.push((name.into_owned(), v.clone()));
    }
    if t.upgrade {
        out.push(("connection".into(), "Upgrade".into()));
    }
    if let (Some(key), false) = (t.apikey, has_apikey) {
        out.push(("apikey".into(), key.to_string()));
    }
    out.push(("x-tenant-id".into(), t.tenant_id.to_string()));
    out.push(("x-tenant-slug".into(), t.tenant_slug.to_string()));
    out.push(("x-forwarded-host".into(), t.forwarded_host.to_string()));
    out.push(("x-forwarded-proto".into(), t.forwarded_proto.to_string()));
    if let Some(ip) = t.client_ip {
        out.push(("x-forwarded-for".into(), ip.to_string()));
        // GoTrue takes the client address from here when `Sb-Forwarded-For` is enabled.
        out.push(("sb-forwarded-for".into(), ip.to_string()));
    }
    out
}

/// One change to a copy of the client's headers. The adapter applies these to the runtime's own
/// copy of the client's `Headers` (made natively) instead of building the upstream list from
/// scratch: handing a whole list across cost ~60 µs a request in workerd, a handful of edits a few.
/// They borrow from the two lists they were computed from: nothing is copied to say what changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderEdit<'a> {
    Remove(Cow<'a, str>),
    Set(Cow<'a, str>, &'a str),
    Append(Cow<'a, str>, &'a str),
}

/// The runtime hands names over lowercase, so comparing them costs no allocation in the usual case.
fn lowercase(name: &str) -> Cow<'_, str> {
    if name.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(name.to_ascii_lowercase())
    } else {
        Cow::Borrowed(name)
    }
}

/// The values of `name` in `list`, in order.
fn values<'l, 'a>(
    list: &'l [(Cow<'a, str>, &'a str)],
    name: &'l str,
) -> impl Iterator<Item = &'a str> + 'l {
    list.iter().filter(move |(k, _)| k == name).map(|(_, v)| *v)
}

/// The edits that turn `client` into exactly `upstream` (names compared without case): every name
/// the upstream must not see is removed, every name whose values differ is replaced whole.
pub fn header_edits<'a>(
    client: &'a [(String, String)],
    upstream: &'a [(String, String)],
) -> Vec<HeaderEdit<'a>> {
    let client: Vec<(Cow<str>, &str)> = client
        .iter()
        .map(|(k, v)| (lowercase(k), v.as_str()))
        .collect();
    let upstream: Vec<(Cow<str>, &str)> = upstream
        .iter()
        .map(|(k, v)| (lowercase(k), v.as_str()))
        .collect();
    let mut edits = Vec::new();
    for (i, (name, _)) in client.iter().chain(&upstream).enumerate() {
        if client
            .iter()
            .chain(&upstream)
            .take(i)
            .any(|(k, _)| k == name)
        {
            continue;
        }
        if values(&upstream, name).eq(values(&client, name)) {
            continue;
        }
        let mut want = values(&upstream, name);
        match want.next() {
            None => edits.push(HeaderEdit::Remove(name.clone())),
            Some(first) => {
                edits.push(HeaderEdit::Set(name.clone(), first));
                for v in want {
                    edits.push(HeaderEdit::Append(name.clone(), v));
                }
            }
        }
    }
    edits
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    fn h(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn base(upgrade: bool) -> TenantHeaders<'static> {
        TenantHeaders {
            tenant_id: "11111111-1111-4111-8111-111111111111",
            tenant_slug: "acme",
            apikey: Some("anon"),
            forwarded_host: "acme.app.example",
            forwarded_proto: "https",
            client_ip: Some("203.0.113.7"),
            upgrade,
            body_replaced: false,
            drop: &[],
        }
    }

    fn get<'a>(hs: &'a [(String, String)], name: &str) -> Vec<&'a str> {
        hs.iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    #[test]
    fn client_tenant_and_forwarding_headers_are_replaced() {
        let out = upstream_headers(
            &h(&[
                ("X-Tenant-Id", "22222222-2222-4222-8222-222222222222"),
                ("x-tenant-slug", "globex"),
                ("x-tenant-anything", "1"),
                ("X-Forwarded-Host", "globex.app.example"),
                ("x-forwarded-for", "1.2.3.4"),
                ("Forwarded", "host=globex.app.example"),
                ("X-Original-Host", "globex.app.example"),
                ("X-Real-IP", "1.2.3.4"),
                ("Host", "evil"),
                ("accept", "application/json"),
            ]),
            &base(false),
        );
        assert_eq!(
            get(&out, "x-tenant-id"),
            vec!["11111111-1111-4111-8111-111111111111"]
        );
        assert_eq!(get(&out, "x-tenant-slug"), vec!["acme"]);
        assert!(get(&out, "x-tenant-anything").is_empty());
        assert_eq!(get(&out, "x-forwarded-host"), vec!["acme.app.example"]);
        assert_eq!(get(&out, "x-forwarded-for"), vec!["203.0.113.7"]);
        assert_eq!(get(&out, "x-forwarded-proto"), vec!["https"]);
        for gone in ["forwarded", "x-original-host", "x-real-ip", "host"] {
            assert!(get(&out, gone).is_empty(), "{gone} must be dropped");
        }
        assert_eq!(get(&out, "accept"), vec!["application/json"]);
    }

    #[test]
    fn hop_by_hop_and_connection_named_headers_are_dropped() {
        let out = upstream_headers(
            &h(&[
                ("Connection", "keep-alive, X-Secret-Hop"),
                ("Keep-Alive", "timeout=5"),
                ("X-Secret-Hop", "1"),
                ("TE", "trailers"),
                ("Transfer-Encoding", "chunked"),
                ("Upgrade", "h2c"),
                ("Proxy-Authorization", "Basic x"),
                ("authorization", "Bearer t"),
            ]),
            &base(false),
        );
        for gone in [
            "connection",
            "keep-alive",
            "x-secret-hop",
            "te",
            "transfer-encoding",
            "upgrade",
            "proxy-authorization",
        ] {
            assert!(get(&out, gone).is_empty(), "{gone} must be dropped");
        }
        assert_eq!(get(&out, "authorization"), vec!["Bearer t"]);
    }

    #[test]
    fn websocket_upgrade_keeps_upgrade() {
        let out = upstream_headers(
            &h(&[
                ("Connection", "Upgrade"),
                ("Upgrade", "websocket"),
                ("sec-websocket-key", "k"),
            ]),
            &base(true),
        );
        assert_eq!(get(&out, "upgrade"), vec!["websocket"]);
        assert_eq!(get(&out, "connection"), vec!["Upgrade"]);
        assert_eq!(get(&out, "sec-websocket-key"), vec!["k"]);
    }

    #[test]
    fn apikey_is_added_only_when_absent() {
        assert_eq!(
            get(&upstream_headers(&[], &base(false)), "apikey"),
            vec!["anon"]
        );
        assert_eq!(
            get(
                &upstream_headers(&h(&[("apikey", "mine")]), &base(false)),
                "apikey"
            ),
            vec!["mine"]
        );
    }

    #[test]
    fn replaced_body_drops_the_client_length() {
        let mut t = base(false);
        t.body_replaced = true;
        assert!(get(
            &upstream_headers(&h(&[("content-length", "10")]), &t),
            "content-length"
        )
        .is_empty());
        assert_eq!(
            get(
                &upstream_headers(&h(&[("content-length", "10")]), &base(false)),
                "content-length"
            ),
            vec!["10"]
        );
    }

    /// What a runtime `Headers` object holds after `edits`: name → values, in order.
    fn apply(client: &[(String, String)], edits: &[HeaderEdit]) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = client
            .iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
            .collect();
        for e in edits {
            match e {
                HeaderEdit::Remove(k) => out.retain(|(n, _)| n != k),
                HeaderEdit::Set(k, v) => {
                    out.retain(|(n, _)| n != k);
                    out.push((k.to_string(), v.to_string()));
                }
                HeaderEdit::Append(k, v) => out.push((k.to_string(), v.to_string())),
            }
        }
        out
    }

    fn same_set(a: &[(String, String)], b: &[(String, String)]) -> bool {
        let mut a = a.to_vec();
        let mut b = b.to_vec();
        a.sort();
        b.sort();
        a == b
    }

    #[test]
    fn edits_turn_the_client_headers_into_exactly_the_upstream_headers() {
        for (client, upgrade) in [
            (
                h(&[
                    ("host", "acme.app.example"),
                    ("X-Tenant-Id", "22222222-2222-4222-8222-222222222222"),
                    ("x-forwarded-for", "1.2.3.4"),
                    ("cf-connecting-ip", "203.0.113.7"),
                    ("connection", "keep-alive, x-secret-hop"),
                    ("x-secret-hop", "1"),
                    ("authorization", "Bearer t"),
                    ("accept", "application/json"),
                ]),
                false,
            ),
            (
                h(&[
                    ("connection", "Upgrade"),
                    ("upgrade", "websocket"),
                    ("apikey", "mine"),
                    ("sec-websocket-key", "k"),
                ]),
                true,
            ),
            (h(&[]), false),
        ] {
            let upstream = upstream_headers(&client, &base(upgrade));
            let edits = header_edits(&client, &upstream);
            assert!(
                same_set(&apply(&client, &edits), &upstream),
                "{client:?} -> {edits:?}"
            );
        }
    }

    #[test]
    fn a_forged_tenant_header_is_replaced_and_untouched_headers_cost_no_edit() {
        let client = h(&[
            ("x-tenant-id", "22222222-2222-4222-8222-222222222222"),
            ("accept", "application/json"),
            ("authorization", "Bearer t"),
        ]);
        let upstream = upstream_headers(&client, &base(false));
        let edits = header_edits(&client, &upstream);
        assert!(edits.contains(&HeaderEdit::Set(
            "x-tenant-id".into(),
            "11111111-1111-4111-8111-111111111111"
        )));
        assert!(!edits.iter().any(|e| matches!(e,
            HeaderEdit::Remove(k) | HeaderEdit::Set(k, _) | HeaderEdit::Append(k, _)
                if k == "accept" || k == "authorization")));
    }

    #[test]
    fn repeated_values_are_replaced_whole() {
        let client = h(&[
            ("x-forwarded-for", "1.1.1.1"),
            ("x-forwarded-for", "2.2.2.2"),
        ]);
        let upstream = h(&[
            ("x-forwarded-for", "3.3.3.3"),
            ("x-forwarded-for", "4.4.4.4"),
        ]);
        let edits = header_edits(&client, &upstream);
        assert_eq!(
            edits,
            vec![
                HeaderEdit::Set("x-forwarded-for".into(), "3.3.3.3"),
                HeaderEdit::Append("x-forwarded-for".into(), "4.4.4.4"),
            ]
        );
        assert!(same_set(&apply(&client, &edits), &upstream));
    }
}
