//! Redirect handling, every carrier (SPEC §6): whatever targets a request carries (the
//! `redirect_to` header, url-encoded body and query values, `Referer`, the JSON body of `/verify`
//! and `/sso`), every target GoTrue can read from what the router forwards is on one of the
//! tenant's hosts, written so plainly that URL parsers agree, and there is at most one. An upstream
//! `Location` on the project moves to the user's origin and nowhere else.

use super::auth_call::{run, tenant, Forwarded, HOSTS, ORIGIN};
use super::fields;
use super::go_model::{query_values, struct_fields, Field};
use crate::error::RouterError;
use crate::proxy::auth_request::AuthForward;
use crate::proxy::auth_request::DROPPED_HEADERS;
use crate::proxy::redirect::rewrite_location;

const PATHS: [&str; 8] = [
    "/auth/v1/verify",
    "/auth/v1/sso",
    "/auth/v1/otp",
    "/auth/v1/recover",
    "/auth/v1/token",
    "/auth/v1/authorize",
    "/auth/v1/signup",
    "/auth/v1/user",
];
const FORM: &str = "application/x-www-form-urlencoded";
const PROJECT: &str = "https://proj.supabase.co";

/// On a tenant host by a reading independent of the router's: the `url` crate (WHATWG) finds one
/// of the tenant's hosts, no userinfo, and the text between `://` and the path is that host (with
/// at most a port), so a parser that splits differently cannot find another.
pub fn on_tenant_host(target: &str) -> bool {
    let Ok(u) = url::Url::parse(target) else {
        return false;
    };
    let authority_text = target
        .split_once("://")
        .map(|(_, r)| &r[..r.find(['/', '?', '#']).unwrap_or(r.len())])
        .unwrap_or("");
    // A trailing dot names the same DNS host.
    let host = u.host_str().unwrap_or("").trim_end_matches('.');
    let written = authority_text
        .split(':')
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    matches!(u.scheme(), "http" | "https")
        && u.username().is_empty()
        && u.password().is_none()
        && HOSTS.contains(&host)
        && written.trim_end_matches('.') == host
        && !target
            .chars()
            .any(|c| c.is_control() || c == '\\' || c == ' ')
}

struct Input {
    path: &'static str,
    method: &'static str,
    content_type: &'static str,
    /// query, `redirect_to` header, `Referer`, body.
    f: Vec<String>,
}

/// Input: a selector byte (bits 0–2: the endpoint, bit 3: POST, bit 4: a form content type else
/// JSON), then `query\nredirect_to header\nreferer\nbody`.
fn input(data: &[u8]) -> Input {
    let (sel, rest) = super::selector(data);
    Input {
        path: PATHS[(sel & 7) as usize],
        method: if sel & 8 != 0 { "POST" } else { "GET" },
        content_type: if sel & 16 != 0 {
            FORM
        } else {
            "application/json"
        },
        f: fields(rest, 4),
    }
}

fn forward(i: &Input) -> Result<AuthForward, RouterError> {
    let f = &i.f;
    let mut headers = vec![("content-type", i.content_type)];
    if !f[1].is_empty() {
        headers.push(("redirect_to", f[1].as_str()));
    }
    if !f[2].is_empty() {
        headers.push(("referer", f[2].as_str()));
    }
    let query = (!f[0].is_empty()).then_some(f[0].as_str());
    run(
        i.method,
        i.path,
        query,
        &headers,
        f[3].as_bytes(),
        &tenant(false),
    )
}

/// What goes upstream for `data` when the router forwards it (the carrier headers are dropped),
/// and whether GoTrue reads a JSON `redirect_to` on that endpoint.
pub fn forwarded(data: &[u8]) -> Option<(Forwarded, bool)> {
    let i = input(data);
    let out = forward(&i).ok()?;
    let query = out.query.unwrap_or_default();
    let f = Forwarded {
        method: i.method,
        url: if query.is_empty() {
            i.path.to_string()
        } else {
            format!("{}?{query}", i.path)
        },
        headers: vec![("Content-Type".into(), i.content_type.into())],
        body: if i.method == "POST" {
            out.body.unwrap_or_else(|| i.f[3].as_bytes().to_vec())
        } else {
            Vec::new()
        },
    };
    let reads_json = i.method == "POST" && matches!(i.path, "/auth/v1/verify" | "/auth/v1/sso");
    Some((f, reads_json))
}

pub fn check(data: &[u8]) {
    let i = input(data);
    let (path, method, ct, f) = (i.path, i.method, i.content_type, &i.f);
    let out = match forward(&i) {
        Ok(out) => out,
        Err(e) => {
            assert!((400..500).contains(&e.status()), "{f:?} gave {e:?}");
            return;
        }
    };
    // Header carriers never go upstream on /auth/v1; what is left is the query and the body.
    assert!(DROPPED_HEADERS.contains(&"redirect_to") && DROPPED_HEADERS.contains(&"referer"));
    let sent_query = out.query.unwrap_or_default();
    let sent_body = out.body.unwrap_or_else(|| f[3].as_bytes().to_vec());
    let mut targets: Vec<Vec<u8>> = query_values(&sent_query, "redirect_to");
    if method == "POST" {
        if ct == FORM {
            targets.extend(query_values(
                &String::from_utf8_lossy(&sent_body),
                "redirect_to",
            ));
        }
        if matches!(path, "/auth/v1/verify" | "/auth/v1/sso") {
            let json = struct_fields(&sent_body, &[("redirect_to", Field::Scalar)]);
            if let Some(t) = json.and_then(|j| j.get("redirect_to").cloned()) {
                targets.push(t.as_str().unwrap_or("<not a string>").as_bytes().to_vec());
            }
        }
    }
    targets.retain(|t| !t.is_empty());
    for t in &targets {
        let t = String::from_utf8_lossy(t);
        assert!(on_tenant_host(&t), "{t:?} leaves the tenant, from {f:?}");
    }
    targets.dedup();
    assert!(targets.len() <= 1, "several targets {targets:?} from {f:?}");

    // Location on the way back: the first field as what the upstream answered.
    if let Some(moved) = rewrite_location(&f[0], PROJECT, ORIGIN) {
        let rest = moved
            .strip_prefix(ORIGIN)
            .unwrap_or_else(|| panic!("{moved:?}"));
        assert!(rest.is_empty() || rest.starts_with(['/', '?']), "{moved:?}");
    }
}

#[cfg(test)]
mod tests {
    use super::super::strategies::{config, from};
    use proptest::prelude::*;

    const TARGETS: &[&str] = &[
        "https://acme.app.example/x",
        "https://evil.test",
        "https://acme.app.example@evil.test",
        "https://acme.app.example.evil.test",
        "https://crm.acme.test:8443",
        "https:\\\\evil.test",
        "//evil.test",
        "javascript:alert(1)",
        "https://ACME.app.example",
        "http://www.acme.test?x#y",
        "https://evil.test%2f@acme.app.example",
        "https://acme.app.example\t.evil",
    ];
    const GLUE: &[&str] = &["redirect_to=", "&", ";", "%2F", "redirect%5Fto=", "+", "="];

    fn carrier() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            prop_oneof![
                proptest::sample::select(TARGETS),
                proptest::sample::select(GLUE)
            ],
            0..5,
        )
        .prop_map(|v| v.concat())
    }

    proptest! {
        #![proptest_config(config(3000))]
        #[test]
        fn carriers(sel in 0u8..32, q in carrier(), h in proptest::sample::select(TARGETS),
                    r in proptest::sample::select(TARGETS), b in carrier(),
                    json in proptest::sample::select(TARGETS), use_json in any::<bool>()) {
            let body = if use_json { format!("{{\"redirect_to\":\"{json}\",\"type\":\"magiclink\"}}") } else { b };
            let mut d = vec![sel];
            d.extend_from_slice(format!("{q}\n{h}\n{r}\n{body}").as_bytes());
            super::check(&d);
        }

        #[test]
        fn free_text(d in from(&["redirect_to", "=", "&", "\n", "https://", "acme.app.example", "evil", "@", "\\", "%40", ":"], 20)) {
            for sel in [8u8, 24, 0, 9, 25] {
                let mut v = vec![sel];
                v.extend_from_slice(d.as_bytes());
                super::check(&v);
            }
        }
    }
}
