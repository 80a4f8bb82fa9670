//! Keeping Supabase Auth on the tenant's own domain: the redirect target of an auth request, and
//! `Location` on the way back.
//!
//! GoTrue reads a redirect target from several carriers (`internal/utilities/request.go`
//! `GetReferrer`: the `redirect_to` header, then `r.Form` — url-encoded body values before query
//! values, keys percent-decoded — then `Referer`; `/verify` (POST) and `/sso` read `redirect_to`
//! from their JSON body). Which one it ends up using depends on its own allow list, which the router
//! cannot see, so the router normalises them together: the target GoTrue would look at first is
//! kept if [`RedirectPolicy`] accepts it, else replaced by the user's origin, and that one target
//! is all that is forwarded — every other carrier is removed.

use uuid::Uuid;

use crate::config::AuthReturn;
use crate::host;
use crate::signed_return;

/// Where an auth redirect may land.
///
/// Two kinds of target: an `http(s)` URL on one of the tenant's hosts, and — where a [`Signer`] is
/// configured — the router's signed return URL for this tenant (which Auth's one allow-list entry
/// matches). With a signer every target forwarded is a signed return: Auth would refuse a tenant
/// host it does not list.
pub struct RedirectPolicy<'a> {
    pub tenant_hosts: &'a [String],
    /// `scheme://host[:port]` the user is on: the replacement for a refused target.
    pub user_origin: &'a str,
    pub signer: Option<Signer<'a>>,
}

/// How targets become signed returns for one request.
pub struct Signer<'a> {
    pub config: &'a AuthReturn,
    pub tenant: Uuid,
    pub now_s: u64,
    /// The scheme of the return URL: the request's own (https in production).
    pub scheme: &'a str,
    /// Add the user's origin as the target when the request names none (an endpoint that may send
    /// an email or redirect), so Auth never falls back to its Site URL.
    pub by_default: bool,
}

impl Signer<'_> {
    fn wrap(&self, target: &str) -> String {
        let token = signed_return::sign(
            &self.config.keys[0],
            self.tenant,
            target,
            self.now_s + self.config.ttl_s,
        );
        signed_return::return_url(self.scheme, &self.config.host, &token)
    }

    /// A return URL a client presents is kept only if it is valid for this very tenant now.
    fn is_own_return(&self, target: &str, tenant_hosts: &[String]) -> bool {
        signed_return::token_of_return_url(target, &self.config.host)
            .and_then(|t| signed_return::verify(t, &self.config.keys, self.now_s).ok())
            .is_some_and(|r| r.tenant == self.tenant && on_tenant_host(&r.target, tenant_hosts))
    }
}

impl RedirectPolicy<'_> {
    pub fn accepts(&self, target: &str) -> bool {
        on_tenant_host(target, self.tenant_hosts)
            || self
                .signer
                .as_ref()
                .is_some_and(|s| s.is_own_return(target, self.tenant_hosts))
    }

    /// `requested` when accepted, else `user_origin/`; signed where a signer is configured.
    pub fn resolve(&self, requested: &str) -> String {
        // A target too long to sign would make a link the return endpoint refuses.
        let signable = self.signer.is_none() || requested.len() <= signed_return::MAX_TARGET_BYTES;
        let kept = if signable && self.accepts(requested) {
            requested.to_string()
        } else {
            format!("{}/", self.user_origin)
        };
        match &self.signer {
            Some(s) if !s.is_own_return(&kept, self.tenant_hosts) => s.wrap(&kept),
            _ => kept,
        }
    }

    /// The target to add when the request carries none.
    fn default_target(&self) -> Option<String> {
        self.signer
            .as_ref()
            .filter(|s| s.by_default)
            .map(|s| s.wrap(&format!("{}/", self.user_origin)))
    }
}

/// A target on one of `tenant_hosts`, written so plainly that every URL parser agrees on its host:
/// lowercase `http://` or `https://`, an authority that is a valid host name (optionally with a
/// port) with no userinfo, and nothing non-ASCII, blank, control or `\` anywhere.
pub fn on_tenant_host(target: &str, tenant_hosts: &[String]) -> bool {
    if target
        .chars()
        .any(|c| !c.is_ascii() || c.is_ascii_control() || c == ' ' || c == '\\')
    {
        return false;
    }
    let Some(rest) = target
        .strip_prefix("https://")
        .or_else(|| target.strip_prefix("http://"))
    else {
        return false;
    };
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    !authority.contains('@') && host::normalise(authority).is_ok_and(|h| tenant_hosts.contains(&h))
}

/// Every redirect target an auth request carries, per carrier, as GoTrue decodes them.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Carriers {
    /// `redirect_to` of the JSON body, on the endpoints that read it.
    pub json_body: Option<String>,
    pub header: Option<String>,
    pub form_body: Vec<String>,
    pub query: Vec<String>,
    pub referer: Option<String>,
}

/// The one target to forward, and where.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// Set as the JSON body's `redirect_to` (it had one).
    pub json_body: Option<String>,
    /// Sent as the single `redirect_to` query parameter (some other carrier had one).
    pub query: Option<String>,
}

impl Carriers {
    fn non_json(&self) -> impl Iterator<Item = &str> {
        self.header
            .iter()
            .chain(&self.form_body)
            .chain(&self.query)
            .chain(&self.referer)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// The target GoTrue looks at first: the JSON body's where read, else `GetReferrer`'s order.
    fn requested(&self) -> Option<&str> {
        self.json_body
            .as_deref()
            .filter(|v| !v.is_empty())
            .into_iter()
            .chain(self.non_json())
            .next()
    }

    pub fn plan(&self, policy: &RedirectPolicy) -> Plan {
        let Some(target) = self.requested().map(|r| policy.resolve(r)) else {
            return Plan {
                json_body: None,
                query: policy.default_target(),
            };
        };
        Plan {
            json_body: self
                .json_body
                .as_deref()
                .filter(|v| !v.is_empty())
                .map(|_| target.clone()),
            query: self.non_json().next().map(|_| target),
        }
    }
}

/// An upstream `Location` on the project's own URL becomes the same path on the user's origin.
pub fn rewrite_location(location: &str, project_url: &str, origin: &str) -> Option<String> {
    let rest = location.strip_prefix(project_url)?;
    if !(rest.is_empty() || rest.starts_with('/') || rest.starts_with('?')) {
        return None;
    }
    Some(format!("{origin}{rest}"))
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    fn hosts() -> Vec<String> {
        vec!["acme.app.example".into(), "crm.acme.com".into()]
    }

    fn policy(hosts: &[String]) -> RedirectPolicy<'_> {
        RedirectPolicy {
            tenant_hosts: hosts,
            user_origin: "https://acme.app.example",
            signer: None,
        }
    }

    #[test]
    fn targets_on_the_tenants_hosts_are_accepted() {
        let h = hosts();
        for t in [
            "https://crm.acme.com/welcome?a=1",
            "http://acme.app.example:8443/",
            "https://ACME.app.example",
        ] {
            assert!(policy(&h).accepts(t), "{t}");
        }
    }

    #[test]
    fn lookalike_ambiguous_and_non_http_targets_are_refused() {
        let h = hosts();
        for t in [
            "https://acme.app.example.evil.com/",
            "https://acme.app.example@evil.com/",
            "https://acme.app.example\\@evil.com/",
            "https://evil.com\\acme.app.example",
            "HTTPS://acme.app.example/",
            "https://acme.app.example /",
            "https://acme.app.example/\u{0}",
            "javascript:alert(1)",
            "//evil.com",
            "/relative",
            "https://globex.app.example/",
            "",
        ] {
            assert!(!policy(&h).accepts(t), "{t}");
        }
    }

    #[test]
    fn the_first_carrier_decides_and_one_target_goes_where_the_carriers_were() {
        let h = hosts();
        let own = "https://crm.acme.com/a".to_string();
        let evil = "https://evil.com/".to_string();
        let c = Carriers {
            header: Some(evil.clone()),
            query: vec![own.clone()],
            referer: Some(own.clone()),
            ..Carriers::default()
        };
        assert_eq!(
            c.plan(&policy(&h)),
            Plan {
                json_body: None,
                query: Some("https://acme.app.example/".into())
            }
        );
        let c = Carriers {
            json_body: Some(own.clone()),
            query: vec![evil.clone()],
            ..Carriers::default()
        };
        assert_eq!(
            c.plan(&policy(&h)),
            Plan {
                json_body: Some(own.clone()),
                query: Some(own.clone())
            }
        );
        assert_eq!(Carriers::default().plan(&policy(&h)), Plan::default());
        let empty = Carriers {
            query: vec![String::new()],
            ..Carriers::default()
        };
        assert_eq!(empty.plan(&policy(&h)), Plan::default());
    }

    fn return_config() -> AuthReturn {
        AuthReturn {
            host: "auth.app.example".into(),
            host_name: "auth.app.example".into(),
            keys: vec![signed_return::ReturnKey {
                kid: "k1".into(),
                secret: b"0123456789abcdef0123456789abcdef".to_vec(),
            }],
            ttl_s: 86_400,
        }
    }

    const ACME_ID: &str = "6f1c2a3e-0000-4000-8000-00000000ac4e";
    const GLOBEX_ID: &str = "7a2d3b4f-1111-4111-8111-0000000091be";

    fn signing<'a>(
        hosts: &'a [String],
        config: &'a AuthReturn,
        tenant: &str,
    ) -> RedirectPolicy<'a> {
        RedirectPolicy {
            tenant_hosts: hosts,
            user_origin: "https://acme.app.example",
            signer: Some(Signer {
                config,
                tenant: Uuid::parse_str(tenant).unwrap(),
                now_s: 1_000,
                scheme: "https",
                by_default: true,
            }),
        }
    }

    fn read(url: &str, config: &AuthReturn) -> signed_return::SignedReturn {
        let token = signed_return::token_of_return_url(url, &config.host).expect(url);
        signed_return::verify(token, &config.keys, 1_000).unwrap()
    }

    #[test]
    fn with_a_signer_every_target_is_a_return_signed_for_the_tenant() {
        let (h, c) = (hosts(), return_config());
        let p = signing(&h, &c, ACME_ID);
        let r = read(&p.resolve("https://crm.acme.com/a?b=1"), &c);
        assert_eq!(
            (r.target.as_str(), r.exp_s),
            ("https://crm.acme.com/a?b=1", 87_400)
        );
        assert_eq!(r.tenant.to_string(), ACME_ID);
        for refused in [
            "https://evil.example/",
            "https://acme.app.example@evil.example/",
            "//evil",
        ] {
            assert_eq!(
                read(&p.resolve(refused), &c).target,
                "https://acme.app.example/",
                "{refused}"
            );
        }
        let long = format!(
            "https://crm.acme.com/{}",
            "a".repeat(signed_return::MAX_TARGET_BYTES)
        );
        assert_eq!(
            read(&p.resolve(&long), &c).target,
            "https://acme.app.example/"
        );
        let none = Carriers::default().plan(&p);
        assert_eq!(
            read(&none.query.unwrap(), &c).target,
            "https://acme.app.example/"
        );
    }

    #[test]
    fn a_presented_return_is_kept_only_when_it_is_this_tenants() {
        let (h, c) = (hosts(), return_config());
        let mine = signing(&h, &c, ACME_ID).resolve("https://crm.acme.com/x");
        assert_eq!(signing(&h, &c, ACME_ID).resolve(&mine), mine);
        let globex_hosts = vec!["globex.app.example".to_string()];
        let theirs = signing(&globex_hosts, &c, GLOBEX_ID).resolve("https://globex.app.example/");
        let replaced = signing(&h, &c, ACME_ID).resolve(&theirs);
        assert_ne!(replaced, theirs);
        assert_eq!(read(&replaced, &c).target, "https://acme.app.example/");
        // Signed for acme but aimed at another tenant's host (a key holder's mistake): not kept.
        let token = signed_return::sign(
            &c.keys[0],
            Uuid::parse_str(ACME_ID).unwrap(),
            "https://globex.app.example/",
            5_000,
        );
        let odd = signed_return::return_url("https", &c.host, &token);
        assert_ne!(signing(&h, &c, ACME_ID).resolve(&odd), odd);
        // Signed for globex but aimed at acme's host: not acme's return either.
        let token = signed_return::sign(
            &c.keys[0],
            Uuid::parse_str(GLOBEX_ID).unwrap(),
            "https://acme.app.example/",
            5_000,
        );
        let foreign = signed_return::return_url("https", &c.host, &token);
        let replaced = signing(&h, &c, ACME_ID).resolve(&foreign);
        assert_eq!(read(&replaced, &c).tenant.to_string(), ACME_ID);
    }

    #[test]
    fn location_on_the_project_is_moved_to_the_tenant_origin() {
        assert_eq!(
            rewrite_location(
                "https://proj.supabase.co/auth/v1/verify?token=t",
                "https://proj.supabase.co",
                "https://acme.app.example"
            ),
            Some("https://acme.app.example/auth/v1/verify?token=t".into())
        );
        assert_eq!(
            rewrite_location(
                "https://accounts.google.com/o/oauth2",
                "https://proj.supabase.co",
                "https://x"
            ),
            None
        );
        assert_eq!(
            rewrite_location(
                "https://proj.supabase.co.evil.com/",
                "https://proj.supabase.co",
                "https://x"
            ),
            None
        );
    }
}
