//! Keeping Supabase Auth on the tenant's own domain: `redirect_to` and `Location`.

use crate::host;

/// Replace every `redirect_to` query parameter whose host is not one of the tenant's hosts with
/// `origin/`. Other parameters keep their exact encoding.
pub fn rewrite_redirect_to(query: &str, tenant_hosts: &[String], origin: &str) -> String {
    query
        .split('&')
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            if name != "redirect_to" {
                return pair.to_string();
            }
            let decoded: String = url::form_urlencoded::parse(format!("v={value}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default();
            if redirect_allowed(&decoded, tenant_hosts) {
                pair.to_string()
            } else {
                let safe = format!("{origin}/");
                format!(
                    "redirect_to={}",
                    url::form_urlencoded::byte_serialize(safe.as_bytes()).collect::<String>()
                )
            }
        })
        .collect::<Vec<_>>()
        .join("&")
}

fn redirect_allowed(target: &str, tenant_hosts: &[String]) -> bool {
    let Ok(u) = url::Url::parse(target) else {
        return false;
    };
    if !matches!(u.scheme(), "http" | "https") {
        return false;
    }
    u.host_str()
        .and_then(|h| host::normalise(h).ok())
        .is_some_and(|h| tenant_hosts.contains(&h))
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

    #[test]
    fn foreign_redirect_to_is_replaced_by_the_users_origin() {
        let q = rewrite_redirect_to(
            "type=signup&redirect_to=https%3A%2F%2Fevil.com%2Fsteal&x=1",
            &hosts(),
            "https://acme.app.example",
        );
        assert_eq!(
            q,
            "type=signup&redirect_to=https%3A%2F%2Facme.app.example%2F&x=1"
        );
    }

    #[test]
    fn tenant_redirect_to_is_kept_verbatim() {
        let q = "redirect_to=https%3A%2F%2Fcrm.acme.com%2Fwelcome%3Fa%3D1";
        assert_eq!(
            rewrite_redirect_to(q, &hosts(), "https://acme.app.example"),
            q
        );
    }

    #[test]
    fn lookalike_and_non_http_redirects_are_replaced() {
        for target in [
            "https://acme.app.example.evil.com/",
            "javascript:alert(1)",
            "//evil.com",
            "/relative",
            "https://globex.app.example/",
        ] {
            let q = format!(
                "redirect_to={}",
                url::form_urlencoded::byte_serialize(target.as_bytes()).collect::<String>()
            );
            assert_eq!(
                rewrite_redirect_to(&q, &hosts(), "https://acme.app.example"),
                "redirect_to=https%3A%2F%2Facme.app.example%2F",
                "{target}"
            );
        }
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
