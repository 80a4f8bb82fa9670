//! A directory held in configuration (`TENANT_DIRECTORY` as a JSON array).

use std::collections::HashMap;
use std::rc::Rc;

use futures::future::LocalBoxFuture;

use super::{LookupResult, TenantSource};
use crate::host::HostKind;
use crate::tenant::TenantRecord;

#[derive(Debug, Default)]
pub struct StaticDirectory {
    // Shared: a request takes its tenant by a reference count, not a copy of every field.
    by_slug: HashMap<String, Rc<TenantRecord>>,
    by_domain: HashMap<String, Rc<TenantRecord>>,
}

impl StaticDirectory {
    pub fn new(records: &[TenantRecord]) -> Self {
        let mut d = Self::default();
        for r in records {
            let shared = Rc::new(r.clone());
            d.by_slug
                .insert(r.slug.to_ascii_lowercase(), Rc::clone(&shared));
            // Every hostname the record lists routes to it, as `resolve_tenant` does.
            for host in r.custom_hosts() {
                d.by_domain.insert(host, Rc::clone(&shared));
            }
        }
        d
    }

    pub fn get(&self, key: &HostKind) -> Option<&Rc<TenantRecord>> {
        match key {
            HostKind::Slug(s) => self.by_slug.get(s),
            HostKind::CustomDomain(d) => self.by_domain.get(d),
            HostKind::Platform => None,
        }
    }
}

impl TenantSource for StaticDirectory {
    fn lookup(&self, key: &HostKind) -> LocalBoxFuture<'static, LookupResult> {
        let found = self.get(key).map(|r| TenantRecord::clone(r));
        Box::pin(async move { Ok(found) })
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn finds_by_slug_and_by_custom_domain_only() {
        let r: TenantRecord = serde_json::from_str(
            r#"{"id":"11111111-1111-4111-8111-111111111111","slug":"acme","name":"A","status":"active",
                "custom_domain":"CRM.Acme.com","signup":"open"}"#,
        )
        .unwrap();
        let d = StaticDirectory::new(&[r]);
        assert!(d.get(&HostKind::Slug("acme".into())).is_some());
        assert!(d
            .get(&HostKind::CustomDomain("crm.acme.com".into()))
            .is_some());
        // A slug is never a domain and the reverse.
        assert!(d.get(&HostKind::CustomDomain("acme".into())).is_none());
        assert!(d.get(&HostKind::Slug("crm.acme.com".into())).is_none());
    }

    /// Found by the static-directory property: hostnames in `domains` were not routed at all.
    #[test]
    fn every_listed_domain_finds_the_record() {
        let r: TenantRecord = serde_json::from_str(
            r#"{"id":"11111111-1111-4111-8111-111111111111","slug":"acme","name":"A","status":"active",
                "custom_domain":"crm.acme.com","domains":["crm.acme.com","Shop.Acme.com."],"signup":"open"}"#,
        )
        .unwrap();
        let d = StaticDirectory::new(&[r]);
        for host in ["crm.acme.com", "shop.acme.com"] {
            assert!(
                d.get(&HostKind::CustomDomain(host.into())).is_some(),
                "{host}"
            );
        }
    }
}
