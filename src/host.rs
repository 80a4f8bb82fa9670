//! Host -> tenant key (SPEC §1.2): normalisation, validation and classification.
//!
//! Only the `Host` the runtime hands us is used; `X-Forwarded-Host`, `Forwarded` and friends come
//! from clients and are never read here.

use crate::error::RouterError;

const MAX_NAME: usize = 253;
const MAX_LABEL: usize = 63;

/// What a normalised host means to the router. It is the directory's whole question, so it is also
/// the key of its cache and of its in-flight lookups: `Slug("acme")` (`acme.<base>`) and
/// `CustomDomain("acme")` (a bare `Host: acme`) are different questions with different answers.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum HostKind {
    /// A base domain or a reserved label under one: the platform itself, never a tenant.
    Platform,
    /// `<slug>.<base domain>`.
    Slug(String),
    /// Any other host, looked up as a tenant's custom domain.
    CustomDomain(String),
}

fn invalid(why: impl Into<String>) -> RouterError {
    RouterError::InvalidHost(why.into())
}

/// Lowercase, drop the port and a trailing dot, and refuse anything that is not an LDH DNS name.
pub fn normalise(raw: &str) -> Result<String, RouterError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(invalid("empty host"));
    }
    if raw.starts_with('[') {
        return Err(invalid("IP literals are not tenant hosts"));
    }
    if !raw.is_ascii() {
        return Err(invalid("non-ASCII host; send it as punycode (xn--)"));
    }
    let name = match raw.rsplit_once(':') {
        Some((name, port)) => {
            if port.is_empty() || port.len() > 5 || !port.bytes().all(|b| b.is_ascii_digit()) {
                return Err(invalid("malformed port"));
            }
            name
        }
        None => raw,
    };
    let name = name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase();
    if name.is_empty() {
        return Err(invalid("empty host"));
    }
    if name.len() > MAX_NAME {
        return Err(invalid("host name longer than 253 characters"));
    }
    for label in name.split('.') {
        if label.is_empty() {
            return Err(invalid("empty label"));
        }
        if label.len() > MAX_LABEL {
            return Err(invalid("label longer than 63 characters"));
        }
        if !label
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(invalid("labels may hold only letters, digits and hyphens"));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(invalid("a label may not start or end with a hyphen"));
        }
    }
    // A numeric last label is never a DNS name: it catches 127.0.0.1 and shorthand like 0x7f.1.
    if name
        .rsplit('.')
        .next()
        .is_some_and(|tld| tld.bytes().all(|b| b.is_ascii_digit()))
        || name.parse::<std::net::Ipv4Addr>().is_ok()
    {
        return Err(invalid("IP literals are not tenant hosts"));
    }
    Ok(name)
}

/// Decide whether a normalised host is the platform, a slug host or a custom domain.
pub fn classify(
    host: &str,
    base_domains: &[String],
    reserved: &[String],
) -> Result<HostKind, RouterError> {
    // The longest base wins, so `eu.app.example` is not read as a slug of `app.example`.
    let mut bases: Vec<&String> = base_domains.iter().collect();
    bases.sort_by_key(|b| std::cmp::Reverse(b.len()));
    for base in bases {
        if host == base.as_str() {
            return Ok(HostKind::Platform);
        }
        if let Some(prefix) = host
            .strip_suffix(base.as_str())
            .and_then(|p| p.strip_suffix('.'))
        {
            if prefix.contains('.') {
                return Err(RouterError::TenantNotFound);
            }
            if reserved.iter().any(|r| r == prefix) {
                return Ok(HostKind::Platform);
            }
            return Ok(HostKind::Slug(prefix.to_string()));
        }
    }
    Ok(HostKind::CustomDomain(host.to_string()))
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    fn bases() -> Vec<String> {
        vec!["app.example".into()]
    }
    fn reserved() -> Vec<String> {
        ["www", "api", "app", "admin", "auth"]
            .map(String::from)
            .to_vec()
    }
    fn kind(h: &str) -> Result<HostKind, RouterError> {
        classify(&normalise(h)?, &bases(), &reserved())
    }

    #[test]
    fn host_is_lowercased_and_loses_port_and_trailing_dot() {
        assert_eq!(normalise("ACME.app.example.").unwrap(), "acme.app.example");
        assert_eq!(
            normalise("acme.app.example:8443").unwrap(),
            "acme.app.example"
        );
        assert_eq!(
            normalise("ACME.App.Example.:443").unwrap(),
            "acme.app.example"
        );
    }

    #[test]
    fn malformed_hosts_are_invalid() {
        let long_label = format!("{}.example", "a".repeat(64));
        let long_name = format!("{}example", "abcdefghi.".repeat(25));
        for h in [
            "",
            ".",
            "a..b",
            ".acme.app.example",
            "ac_me.app.example",
            "acme.app.example:",
            "acme.app.example:99999999",
            "acme.app.example:80a",
            "-acme.app.example",
            "acme-.app.example",
            &long_label,
            &long_name,
            "acmé.app.example",
            "a b.example",
            "acme.app.example/evil",
            "user@acme.app.example",
        ] {
            assert!(
                matches!(normalise(h), Err(RouterError::InvalidHost(_))),
                "{h:?} should be invalid"
            );
        }
    }

    #[test]
    fn ip_literals_are_refused() {
        for h in [
            "127.0.0.1",
            "127.0.0.1:8787",
            "[::1]",
            "[::1]:443",
            "10.0.0.1.",
            "0x7f.1",
        ] {
            assert!(
                matches!(normalise(h), Err(RouterError::InvalidHost(_))),
                "{h:?}"
            );
        }
    }

    #[test]
    fn punycode_is_accepted_as_a_custom_domain() {
        assert_eq!(
            kind("xn--bcher-kva.example").unwrap(),
            HostKind::CustomDomain("xn--bcher-kva.example".into())
        );
    }

    #[test]
    fn label_of_63_and_name_of_253_are_fine() {
        let l63 = format!("{}.example", "a".repeat(63));
        assert!(normalise(&l63).is_ok());
        let name = format!("{}{}", "abcdefghi.".repeat(24), "a".repeat(13));
        assert_eq!(name.len(), 253);
        assert!(normalise(&name).is_ok());
    }

    #[test]
    fn one_label_under_a_base_domain_is_a_slug() {
        assert_eq!(
            kind("ACME.app.example.").unwrap(),
            HostKind::Slug("acme".into())
        );
    }

    #[test]
    fn base_domain_and_reserved_labels_are_the_platform() {
        assert_eq!(kind("app.example").unwrap(), HostKind::Platform);
        assert_eq!(kind("www.app.example").unwrap(), HostKind::Platform);
        assert_eq!(kind("ADMIN.app.example").unwrap(), HostKind::Platform);
    }

    #[test]
    fn nested_names_under_a_base_domain_are_not_tenants() {
        assert_eq!(
            kind("evil.com.app.example"),
            Err(RouterError::TenantNotFound)
        );
        assert_eq!(kind("a.acme.app.example"), Err(RouterError::TenantNotFound));
    }

    #[test]
    fn base_domain_as_prefix_of_another_domain_is_a_custom_domain() {
        assert_eq!(
            kind("acme.app.example.evil.com").unwrap(),
            HostKind::CustomDomain("acme.app.example.evil.com".into())
        );
        assert_eq!(
            kind("notapp.example").unwrap(),
            HostKind::CustomDomain("notapp.example".into())
        );
    }

    #[test]
    fn other_hosts_are_custom_domains() {
        assert_eq!(
            kind("crm.acme.com").unwrap(),
            HostKind::CustomDomain("crm.acme.com".into())
        );
    }

    #[test]
    fn longest_base_domain_wins() {
        let b = vec!["example".to_string(), "eu.example".to_string()];
        assert_eq!(
            classify("acme.eu.example", &b, &[]).unwrap(),
            HostKind::Slug("acme".into())
        );
        assert_eq!(classify("eu.example", &b, &[]).unwrap(), HostKind::Platform);
    }
}
