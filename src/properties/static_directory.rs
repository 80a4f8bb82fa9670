//! The static directory configuration (`TENANT_DIRECTORY`): any text is either refused as a
//! configuration error or gives a directory in which every host a record lists — its slug under
//! the base domain, its `custom_domain` and every one of its `domains` — finds a record, the record
//! found always matches the key asked for (as the Supabase backend requires of its answers), and
//! no host is answered with a record that does not list it. (A `custom_domain` under a base
//! domain is that slug's host, not the record's.)

use std::collections::HashMap;

use crate::config::{Config, DirectorySource};
use crate::directory::record_matches;
use crate::directory::static_map::StaticDirectory;
use crate::host::{classify, normalise, HostKind};

const BASE: &str = "app.example";

pub fn check(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let vars: HashMap<String, String> = [
        ("SUPABASE_URL", "https://proj.supabase.co"),
        ("SUPABASE_ANON_KEY", "sb_publishable_fuzz"),
        (
            "SUPABASE_JWT_SECRET",
            "fuzz-secret-with-at-least-32-characters!",
        ),
        ("BASE_DOMAINS", BASE),
        ("TENANT_DIRECTORY", &text),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let config = match Config::from_vars(&vars) {
        Ok(c) => c,
        Err(e) => {
            assert_eq!(e.code(), "router_misconfigured", "{text:?}: {e:?}");
            return;
        }
    };
    let DirectorySource::Static(records) = &config.directory else {
        return;
    };
    let dir = StaticDirectory::new(records);
    for r in records {
        let hosts = std::iter::once(format!("{}.{BASE}", r.slug)).chain(r.custom_hosts());
        for h in hosts {
            let Ok(name) = normalise(&h) else {
                continue;
            };
            let Ok(key) = classify(&name, &config.base_domains, &config.reserved_labels) else {
                continue;
            };
            // A custom domain under a base domain is read as the slug host it is (one host, one
            // key): that slug's tenant answers it, or nobody.
            if key == HostKind::Platform
                || key != HostKind::Slug(r.slug.to_ascii_lowercase())
                    && matches!(key, HostKind::Slug(_))
            {
                if let Some(found) = dir.get(&key) {
                    assert!(
                        record_matches(&key, found),
                        "{key:?} answered with {found:?}"
                    );
                }
                continue;
            }
            let found = dir
                .get(&key)
                .unwrap_or_else(|| panic!("{h:?}, listed by {:?}, finds no tenant", r.slug));
            assert!(
                record_matches(&key, found),
                "{key:?} answered with {found:?}"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::super::strategies::config;

    fn record() -> impl Strategy<Value = String> {
        let slug = proptest::sample::select(vec!["acme", "ACME", "globex", "a-b", "x.y", ""]);
        let domain = proptest::sample::select(vec![
            "null",
            "\"crm.acme.test\"",
            "\"CRM.Acme.Test.\"",
            "\"globex.app.example\"",
            "\"\"",
        ]);
        let domains = proptest::sample::select(vec![
            "[]",
            "[\"crm.acme.test\", \"www.acme.test\"]",
            "[\"Other.Test.\"]",
        ]);
        (slug, domain, domains).prop_map(|(s, d, ds)| {
            format!(
                r#"{{"id":"6f1c2a3e-0000-4000-8000-00000000ac4e","slug":"{s}","name":"n","status":"active","custom_domain":{d},"domains":{ds},"signup":"open"}}"#
            )
        })
    }

    proptest! {
        #![proptest_config(config(1000))]
        #[test]
        fn directories(rs in proptest::collection::vec(record(), 0..4)) {
            super::check(format!("[{}]", rs.join(",")).as_bytes());
        }
    }
}
