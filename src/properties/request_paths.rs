//! Request-path classification: the routes, and which Supabase Auth endpoint an `/auth/v1` path
//! reaches. A path that a gateway in front of GoTrue could normalise into an endpoint the router
//! treats specially (percent-decoding, merging `//`, dropping `;` parameters, `\` as `/`, case, one
//! trailing `/`) is either classified as that endpoint or refused: never waved through as another.

use crate::proxy::auth_paths::{classify, AuthEndpoint, AUTH_PREFIX};
use crate::route::Route;

const ENDPOINTS: [(&str, AuthEndpoint); 9] = [
    ("/signup", AuthEndpoint::Signup),
    ("/otp", AuthEndpoint::Otp),
    ("/magiclink", AuthEndpoint::MagicLink),
    ("/verify", AuthEndpoint::Verify),
    ("/sso", AuthEndpoint::Sso),
    ("/sso/saml/acs", AuthEndpoint::SamlAcs),
    ("/authorize", AuthEndpoint::Authorize),
    ("/callback", AuthEndpoint::Callback),
    ("/token", AuthEndpoint::Token),
];

/// The most a lenient gateway might make of `path` (repeatedly, until nothing changes).
fn gateway_view(path: &str) -> String {
    let mut p = path.to_string();
    loop {
        let decoded = percent_decode(&p).replace('\\', "/");
        let no_params: String = decoded
            .split('/')
            .map(|seg| seg.split(';').next().unwrap_or(""))
            .collect::<Vec<_>>()
            .join("/");
        let mut merged = no_params.clone();
        while merged.contains("//") {
            merged = merged.replace("//", "/");
        }
        if merged == p {
            return p.to_lowercase();
        }
        p = merged;
    }
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |j: usize| b.get(j).and_then(|c| (*c as char).to_digit(16));
        match (b[i], hex(i + 1), hex(i + 2)) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (c, _, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub fn check(data: &[u8]) {
    let path = format!("/{}", String::from_utf8_lossy(data));
    let route = Route::of(&path);
    let under_auth = path
        .strip_prefix(AUTH_PREFIX)
        .is_some_and(|r| r.is_empty() || r.starts_with('/'));
    assert_eq!(
        route == Route::Api(AUTH_PREFIX),
        under_auth,
        "{path:?} routed {route:?}"
    );
    if !under_auth {
        return;
    }
    let verdict = classify(&path);
    if let Err(e) = &verdict {
        assert_eq!(e.status(), 400, "{path:?}: {e:?}");
    }
    let seen = gateway_view(&path);
    let rest = seen.strip_prefix(AUTH_PREFIX).unwrap_or("");
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    if let Some((_, ep)) = ENDPOINTS.iter().find(|(p, _)| *p == rest) {
        assert!(
            verdict.as_ref().map_or(true, |v| v == ep),
            "{path:?} reaches {ep:?} behind a gateway but was classified {verdict:?}"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::super::strategies::{config, from};
    use proptest::prelude::*;

    const FRAGMENTS: &[&str] = &[
        "auth/v1", "/", "//", "signup", "SIGNUP", "otp", "sso", "saml", "acs", "%73", "%2F", "%2f",
        ";x", "\\", "token", "verify", "rest/v1", "%", "%25", "ſ", ".",
    ];

    #[test]
    fn known_shapes() {
        for p in [
            "auth/v1/signup",
            "auth/v1/%73ignup",
            "auth/v1//signup",
            "auth/v1/SIGNUP/",
            "auth/v1/signup;x",
        ] {
            super::check(p.as_bytes());
        }
    }

    proptest! {
        #![proptest_config(config(3000))]
        #[test]
        fn auth_paths(p in from(FRAGMENTS, 8)) {
            super::check(format!("auth/v1/{p}").as_bytes());
            super::check(p.as_bytes());
        }
    }
}
