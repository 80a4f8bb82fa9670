//! `POST /admin/v1/tenants`: the body checked and normalised before anything is recorded. The
//! normalised form is what the journal stores (its digest makes a same-key retry with another body
//! a 422), so a suggested slug is part of it.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::AdminError;
use tenant_shared::{plan, slug};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Body {
    name: Option<String>,
    slug: Option<String>,
    plan: Option<String>,
    admin_email: Option<String>,
    custom_domain: Option<String>,
    signup: Option<String>,
    branding: Option<Value>,
    probe: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreateTenant {
    pub name: String,
    pub slug: String,
    pub plan: String,
    pub admin_email: String,
    pub custom_domain: Option<String>,
    pub signup: String,
    pub branding: Value,
    /// A tenant `tenantctl probe` makes for itself (README, "The live isolation probe"): no
    /// invitation is mailed, and only such a tenant takes probe users (`crate::probe`). Absent from
    /// the journal when false, so an ordinary request's digest is what it always was.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub probe: bool,
}

fn bad(d: impl Into<String>) -> AdminError {
    AdminError::InvalidBody(d.into())
}

pub fn parse_create(bytes: &[u8], reserved: &[String]) -> Result<CreateTenant, AdminError> {
    let b: Body = serde_json::from_slice(bytes).map_err(|e| bad(e.to_string()))?;
    let name = b
        .name
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty())
        .ok_or_else(|| bad("name is required"))?;
    if name.chars().count() > 200 {
        return Err(bad("name is at most 200 characters"));
    }
    let slug = match b.slug {
        Some(s) => s.trim().to_string(),
        None => slug::suggest(&name),
    };
    slug::validate(&slug, reserved).map_err(|e| bad(format!("slug {slug:?}: {}", e.describe())))?;
    let plan = b.plan.ok_or_else(|| bad("plan is required"))?;
    if !plan::is_plan_id(&plan) {
        return Err(bad("plan is not a plan id"));
    }
    let admin_email = b
        .admin_email
        .map(|e| e.trim().to_ascii_lowercase())
        .ok_or_else(|| bad("admin_email is required"))?;
    if !is_email(&admin_email) {
        return Err(bad("admin_email is not an email address"));
    }
    let custom_domain = match b.custom_domain {
        None => None,
        Some(d) => {
            Some(normalise_hostname(&d).ok_or_else(|| bad("custom_domain is not a hostname"))?)
        }
    };
    let signup = b.signup.unwrap_or_else(|| "invite_only".into());
    if signup != "open" && signup != "invite_only" {
        return Err(bad("signup is open or invite_only"));
    }
    let branding = b
        .branding
        .unwrap_or_else(|| Value::Object(Default::default()));
    if !branding.is_object() {
        return Err(bad("branding is an object"));
    }
    Ok(CreateTenant {
        name,
        slug,
        plan,
        admin_email,
        custom_domain,
        signup,
        branding,
        probe: b.probe.unwrap_or(false),
    })
}

fn is_email(e: &str) -> bool {
    let Some((local, domain)) = e.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && e.len() <= 254
        && normalise_hostname(domain).is_some()
        && !e.chars().any(char::is_whitespace)
}

/// A hostname as `tenant_domains` stores it: lowercase ASCII, no trailing dot, labels of letters,
/// digits and inner hyphens, at least two labels.
pub fn normalise_hostname(h: &str) -> Option<String> {
    let h = h.trim().trim_end_matches('.').to_ascii_lowercase();
    let labels: Vec<&str> = h.split('.').collect();
    let ok = h.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(|l| {
            (1..=63).contains(&l.len())
                && l.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        });
    ok.then_some(h)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Result<CreateTenant, AdminError> {
        parse_create(s.as_bytes(), &["admin".to_string(), "www".to_string()])
    }

    #[test]
    fn slug_is_suggested_from_the_name_and_defaults_filled() {
        let r =
            p(r#"{"name":"Acme Clinic","plan":"pro","admin_email":" Boss@Acme.com "}"#).unwrap();
        assert_eq!(
            (r.slug.as_str(), r.admin_email.as_str(), r.signup.as_str()),
            ("acme-clinic", "boss@acme.com", "invite_only")
        );
        assert!(r.branding.is_object() && r.custom_domain.is_none() && !r.probe);
    }

    #[test]
    fn the_probe_flag_is_kept_and_left_out_of_ordinary_journals() {
        let ordinary = p(r#"{"name":"Acme","plan":"pro","admin_email":"a@b.co"}"#).unwrap();
        let json = serde_json::to_value(&ordinary).unwrap();
        assert!(json.get("probe").is_none(), "{json}");
        let probe =
            p(r#"{"name":"Probe","plan":"pro","admin_email":"a@b.co","probe":true}"#).unwrap();
        assert!(probe.probe);
        let back: CreateTenant =
            serde_json::from_value(serde_json::to_value(&probe).unwrap()).unwrap();
        assert!(back.probe);
        assert_eq!(
            p(r#"{"name":"P","plan":"pro","admin_email":"a@b.co","probe":1}"#)
                .unwrap_err()
                .status(),
            400
        );
    }

    #[test]
    fn bad_bodies_are_400_never_a_panic() {
        for body in [
            "",
            "[]",
            "{",
            r#"{"plan":"pro","admin_email":"a@b.co"}"#,
            r#"{"name":"X Y Z","slug":"admin","plan":"pro","admin_email":"a@b.co"}"#,
            r#"{"name":"Acme","slug":"Ac me","plan":"pro","admin_email":"a@b.co"}"#,
            r#"{"name":"Acme","plan":"Pro!","admin_email":"a@b.co"}"#,
            r#"{"name":"Acme","plan":"pro","admin_email":"nobody"}"#,
            r#"{"name":"Acme","plan":"pro","admin_email":"a@b.co","custom_domain":"not a host"}"#,
            r#"{"name":"Acme","plan":"pro","admin_email":"a@b.co","signup":"maybe"}"#,
            r#"{"name":"Acme","plan":"pro","admin_email":"a@b.co","branding":[1]}"#,
            r#"{"name":"Acme","plan":"pro","admin_email":"a@b.co","owner":"x"}"#,
            r#"{"name":"日本","plan":"pro","admin_email":"a@b.co"}"#,
        ] {
            let e = p(body).unwrap_err();
            assert_eq!(e.status(), 400, "{body}: {e:?}");
        }
    }

    #[test]
    fn hostnames_are_normalised() {
        assert_eq!(
            normalise_hostname("CRM.Acme.com."),
            Some("crm.acme.com".into())
        );
        assert_eq!(normalise_hostname("localhost"), None);
        assert_eq!(normalise_hostname("a..b"), None);
    }
}
