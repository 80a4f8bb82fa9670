//! Host normalisation and classification (SPEC §1.2): normalising is idempotent, spelling
//! variations of one host (case, port, trailing dot) give one name, and a name maps to exactly
//! one lookup key, which names that host and no other.

use crate::host::{classify, normalise, HostKind};

const BASES: [&str; 2] = ["app.example", "eu.app.example"];
const RESERVED: [&str; 2] = ["www", "api"];

pub fn check(data: &[u8]) {
    let raw = String::from_utf8_lossy(data);
    let Ok(name) = normalise(&raw) else {
        return;
    };
    assert_eq!(
        normalise(&name).as_deref(),
        Ok(name.as_str()),
        "not idempotent: {raw:?}"
    );
    assert!(
        name.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.'),
        "{raw:?} normalised to {name:?}"
    );
    let variant = format!("{}.:8443", name.to_ascii_uppercase());
    assert_eq!(
        normalise(&variant).as_deref(),
        Ok(name.as_str()),
        "{variant:?}"
    );

    let bases: Vec<String> = BASES.map(String::from).to_vec();
    let reserved: Vec<String> = RESERVED.map(String::from).to_vec();
    let key = classify(&name, &bases, &reserved);
    assert_eq!(key, classify(&name, &bases, &reserved));
    let under: Vec<(&str, &str)> = BASES
        .iter()
        .filter_map(|b| Some((name.strip_suffix(b)?.strip_suffix('.')?, *b)))
        .collect();
    // The longest base is the one the host is under (`x.eu.app.example` is not a slug of app.example).
    let longest = under.iter().max_by_key(|(_, b)| b.len());
    match (&key, longest) {
        (Ok(HostKind::Platform), _) => assert!(
            BASES.contains(&name.as_str())
                || longest.is_some_and(|(label, _)| RESERVED.contains(label)),
            "{name:?} classified as the platform"
        ),
        (Ok(HostKind::Slug(s)), Some((label, base))) => {
            assert_eq!(s, label);
            assert!(!s.contains('.') && !RESERVED.contains(&s.as_str()));
            assert_eq!(format!("{s}.{base}"), name, "the slug names another host");
        }
        (Ok(HostKind::CustomDomain(d)), None) => {
            assert_eq!(*d, name);
            assert!(!BASES.contains(&name.as_str()));
        }
        // A name nested deeper under a base domain is nobody's.
        (Err(_), Some((label, _))) => assert!(label.contains('.')),
        (k, l) => panic!("{name:?}: key {k:?}, under base {l:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::super::strategies::{config, from};
    use proptest::prelude::*;

    const FRAGMENTS: &[&str] = &[
        "acme", "ACME", ".", "..", "app", "eu", "example", ":", "443", "-", "xn--", "www", "api",
        "1", "0x7f", "[", "]", " ", "\u{212A}", "é", "_", "a1", "63",
    ];

    #[test]
    fn known_shapes() {
        for h in [
            "acme.app.example",
            "ACME.APP.EXAMPLE.:443",
            "x.eu.app.example",
            "www.app.example",
            "a.b.app.example",
            "crm.globex.test",
            "app.example",
            "eu.app.example",
        ] {
            super::check(h.as_bytes());
        }
    }

    proptest! {
        #![proptest_config(config(2000))]
        #[test]
        fn host_properties(h in from(FRAGMENTS, 10)) {
            super::check(h.as_bytes());
        }
    }
}
