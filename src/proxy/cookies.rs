//! Sessions per tenant host (issue 17, item 6): a cookie the router relays is host-only.
//!
//! Every tenant's hosts share base domains with other tenants (`acme.app.example`,
//! `globex.app.example`), so a cookie with `Domain=app.example` set by one tenant's host would be
//! sent to every other tenant's host, session included. A `Set-Cookie` without `Domain` is
//! host-only (RFC 6265 §5.3 step 6): the router removes every `Domain` attribute from upstream
//! `Set-Cookie` headers (the front end's and Supabase's alike), whatever its case or spacing.

/// `set_cookie` with its `Domain` attributes removed, or `None` when it had none.
pub fn host_only(set_cookie: &str) -> Option<String> {
    let mut parts = set_cookie.split(';');
    let name_value = parts.next().unwrap_or("");
    let mut dropped = false;
    let mut out = name_value.to_string();
    for attr in parts {
        let name = attr.split('=').next().unwrap_or("").trim();
        if name.eq_ignore_ascii_case("domain") {
            dropped = true;
            continue;
        }
        out.push(';');
        out.push_str(attr);
    }
    dropped.then_some(out)
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn domain_attributes_are_removed_in_any_spelling() {
        assert_eq!(
            host_only("sb=1; Path=/; Domain=.app.example; HttpOnly").as_deref(),
            Some("sb=1; Path=/; HttpOnly")
        );
        assert_eq!(
            host_only("sb=1;domain=app.example;DOMAIN =x; Secure").as_deref(),
            Some("sb=1; Secure")
        );
        assert_eq!(host_only("sb=1; Path=/; Secure"), None);
        // A value that mentions domain is not an attribute.
        assert_eq!(host_only("domain=x; Path=/"), None);
    }
}
