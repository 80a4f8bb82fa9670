//! The routing record: what the directory knows about a tenant (SPEC §3).

use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TenantStatus {
    Active,
    Suspended,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignupPolicy {
    Open,
    InviteOnly,
}

/// Where a placed tenant's project is. `resolve_tenant` publishes only the project's opaque `key`
/// (migration 022, so that anyone asking learns no internal name); databases before 022 and static
/// directories give its `project` name. Both are accepted, the key first: the router must keep working
/// while the migration that changes the shape is applied after it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Placement {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TenantRecord {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
    pub status: TenantStatus,
    #[serde(default)]
    pub custom_domain: Option<String>,
    /// Every routable hostname of the tenant, primary first (migration 018); absent from older
    /// databases and static directories, where `custom_domain` is the only one.
    #[serde(default)]
    pub domains: Vec<String>,
    pub signup: SignupPolicy,
    #[serde(default)]
    pub branding: Value,
    #[serde(default)]
    pub placement: Option<Placement>,
}

impl TenantRecord {
    /// The tenant's own hostnames besides its slug hosts: `custom_domain` and `domains`, lowercase,
    /// without a trailing dot, each once.
    pub fn custom_hosts(&self) -> Vec<String> {
        let mut hosts: Vec<String> = Vec::new();
        for d in self.custom_domain.iter().chain(self.domains.iter()) {
            let h = d.trim_end_matches('.').to_ascii_lowercase();
            if !h.is_empty() && !hosts.contains(&h) {
                hosts.push(h);
            }
        }
        hosts
    }

    /// What `GET /__router/tenant` shows: everything but the placement, which is operational.
    pub fn public_profile(&self) -> Value {
        serde_json::json!({
            "id": self.id,
            "slug": self.slug,
            "name": self.name,
            "status": self.status,
            "custom_domain": self.custom_domain,
            "signup": self.signup,
            "branding": if self.branding.is_null() { serde_json::json!({}) } else { self.branding.clone() },
        })
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn routing_record_parses_the_documented_shape() {
        let r: TenantRecord = serde_json::from_str(
            r##"{"id":"11111111-1111-4111-8111-111111111111","slug":"acme","name":"Acme Clinic",
                "status":"active","custom_domain":"crm.acme.com","signup":"invite_only",
                "branding":{"primary_color":"#004AAD"},"placement":{"project":"eu1"}}"##,
        )
        .unwrap();
        assert_eq!(r.signup, SignupPolicy::InviteOnly);
        assert_eq!(
            r.placement.as_ref().and_then(|p| p.project.as_deref()),
            Some("eu1")
        );
    }

    #[test]
    fn routing_record_parses_the_opaque_placement_key_of_migration_022() {
        let r: TenantRecord = serde_json::from_str(
            r#"{"id":"11111111-1111-4111-8111-111111111111","slug":"acme","name":"A",
                "status":"active","signup":"open","placement":{"key":"pk_0123"}}"#,
        )
        .unwrap();
        let p = r.placement.unwrap();
        assert_eq!(
            (p.key.as_deref(), p.project.as_deref()),
            (Some("pk_0123"), None)
        );
    }

    #[test]
    fn custom_hosts_join_custom_domain_and_domains_once_each() {
        let r: TenantRecord = serde_json::from_str(
            r#"{"id":"11111111-1111-4111-8111-111111111111","slug":"acme","name":"A","status":"active",
                "signup":"open","custom_domain":"CRM.acme.com.","domains":["crm.acme.com","www.acme.com"]}"#,
        )
        .unwrap();
        assert_eq!(r.custom_hosts(), vec!["crm.acme.com", "www.acme.com"]);
        let old: TenantRecord = serde_json::from_str(
            r#"{"id":"11111111-1111-4111-8111-111111111111","slug":"acme","name":"A","status":"active",
                "signup":"open","custom_domain":"crm.acme.com"}"#,
        )
        .unwrap();
        assert_eq!(old.custom_hosts(), vec!["crm.acme.com"]);
    }

    #[test]
    fn public_profile_hides_placement() {
        let r: TenantRecord = serde_json::from_str(
            r#"{"id":"11111111-1111-4111-8111-111111111111","slug":"acme","name":"A",
                "status":"active","signup":"open","placement":{"project":"eu1"}}"#,
        )
        .unwrap();
        let p = r.public_profile();
        assert!(p.get("placement").is_none());
        assert_eq!(p["slug"], "acme");
    }
}
