//! Header hygiene between the client and the upstream.

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

/// Headers a client could use to claim another host, address or tenant. The router sets its own.
fn client_may_not_send(name: &str) -> bool {
    name.starts_with("x-tenant-")
        || name.starts_with("x-forwarded-")
        || matches!(
            name,
            "forwarded"
                | "x-original-host"
                | "x-host"
                | "x-real-ip"
                | "x-client-ip"
                | "true-client-ip"
                | "x-original-url"
                | "x-rewrite-url"
                | "cf-connecting-ip"
                | "cf-connecting-ipv6"
                | "host"
        )
}

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
        let name = k.to_ascii_lowercase();
        if t.upgrade && name == "upgrade" {
            out.push((name, v.clone()));
            continue;
        }
        if HOP_BY_HOP.contains(&name.as_str())
            || connection_named.contains(&name)
            || client_may_not_send(&name)
        {
            continue;
        }
        if t.body_replaced && name == "content-length" {
            continue;
        }
        if name == "apikey" {
            has_apikey = true;
        }
        out.push((name, v.clone()));
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
    }
    out
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
}
