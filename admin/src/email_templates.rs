//! The branded auth emails: one message per action Supabase Auth's Send Email hook names, in the
//! tenant's name, logo and colour, as HTML and plain text. Everything a tenant or a user wrote is
//! escaped for HTML here, once; the logo and colour are used only in forms that cannot leave their
//! attribute (an http(s) URL, a `#rrggbb` colour), else left out.

use serde_json::Value;

/// Colour used when the tenant has none (or one that is not a plain hex colour).
const DEFAULT_COLOR: &str = "#2563eb";
const MAX_NAME: usize = 200;
const MAX_LOGO_URL: usize = 2048;

/// The actions GoTrue's hook sends (`email_action_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Signup,
    Magiclink,
    Recovery,
    Invite,
    EmailChange,
    /// GoTrue's newer name for a sign-in code mailed to an existing address.
    Email,
    /// A code to confirm a sensitive change: no link, the code only.
    Reauthentication,
}

impl Action {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "signup" => Self::Signup,
            "magiclink" => Self::Magiclink,
            "recovery" => Self::Recovery,
            "invite" => Self::Invite,
            "email_change" => Self::EmailChange,
            "email" => Self::Email,
            "reauthentication" => Self::Reauthentication,
            _ => return None,
        })
    }

    /// The `type` the confirm route hands to `/verify` with the token hash.
    pub fn verify_type(self) -> Option<&'static str> {
        Some(match self {
            Self::Signup => "signup",
            Self::Magiclink => "magiclink",
            Self::Recovery => "recovery",
            Self::Invite => "invite",
            Self::EmailChange => "email_change",
            Self::Email => "email",
            Self::Reauthentication => return None,
        })
    }

    fn words(self) -> (&'static str, &'static str, &'static str) {
        // (subject, what the link does, button)
        match self {
            Self::Signup => (
                "Confirm your sign-up",
                "Confirm your email address to finish signing up.",
                "Confirm email",
            ),
            Self::Magiclink | Self::Email => {
                ("Your sign-in link", "Use this link to sign in.", "Sign in")
            }
            Self::Recovery => (
                "Reset your password",
                "Use this link to choose a new password.",
                "Reset password",
            ),
            Self::Invite => (
                "You have been invited",
                "You have been invited to join. Accept to set up your account.",
                "Accept invitation",
            ),
            Self::EmailChange => (
                "Confirm your new email",
                "Confirm the change of your email address.",
                "Confirm change",
            ),
            Self::Reauthentication => (
                "Your confirmation code",
                "Enter this code to confirm the change.",
                "",
            ),
        }
    }
}

/// The tenant's branding as the emails use it: already checked, not yet escaped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Brand {
    pub name: String,
    pub logo_url: Option<String>,
    pub color: String,
}

impl Brand {
    /// From the routing record's `name` and `branding` (`logo_url`, `primary_color`, as the demo
    /// reads them).
    pub fn from_record(name: &str, branding: &Value) -> Self {
        let name: String = name
            .chars()
            .filter(|c| !c.is_control())
            .take(MAX_NAME)
            .collect();
        let logo_url = branding
            .get("logo_url")
            .and_then(Value::as_str)
            .filter(|u| {
                u.len() <= MAX_LOGO_URL
                    && (u.starts_with("https://") || u.starts_with("http://"))
                    && u.bytes().all(|b| b.is_ascii_graphic())
            })
            .map(String::from);
        let color = branding
            .get("primary_color")
            .and_then(Value::as_str)
            .filter(|c| {
                c.len() == 7 && c.starts_with('#') && c[1..].bytes().all(|b| b.is_ascii_hexdigit())
            })
            .unwrap_or(DEFAULT_COLOR)
            .to_string();
        Brand {
            name,
            logo_url,
            color,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub html: String,
    pub text: String,
}

/// HTML text and attribute escaping, written once (shared with the router's error page).
pub use tenant_shared::html::escape;

/// The message for `action`: `link` (on the tenant's host; `None` for a code-only message) and the
/// one-time `code` (for users who type it instead).
pub fn render(action: Action, brand: &Brand, link: Option<&str>, code: &str) -> Rendered {
    let (subject, what, button) = action.words();
    let subject = format!("{} – {subject}", brand.name);
    let name = escape(&brand.name);
    let color = &brand.color; // checked to be #rrggbb
    let logo = brand
        .logo_url
        .as_deref()
        .map(|u| format!(r#"<img src="{}" alt="{name}" height="40"><br>"#, escape(u)))
        .unwrap_or_default();
    let action_html = match link {
        Some(l) => format!(
            r#"<p><a href="{l}" style="display:inline-block;padding:10px 18px;background:{color};color:#fff;border-radius:6px;text-decoration:none">{button}</a></p><p style="font-size:12px;color:#555">Or open {l}</p>"#,
            l = escape(l)
        ),
        None => String::new(),
    };
    let html = format!(
        r#"<!doctype html><html><body style="font-family:sans-serif;color:#111"><div style="border-top:4px solid {color};padding:16px">{logo}<h1 style="font-size:20px;color:{color}">{name}</h1><p>{what}</p>{action_html}<p>Code: <b>{code}</b></p><p style="font-size:12px;color:#555">If you did not ask for this, ignore this email.</p></div></body></html>"#,
        code = escape(code)
    );
    let text = match link {
        Some(l) => format!("{}\n\n{what}\n\n{button}: {l}\n\nCode: {code}\n\nIf you did not ask for this, ignore this email.\n", brand.name),
        None => format!("{}\n\n{what}\n\nCode: {code}\n\nIf you did not ask for this, ignore this email.\n", brand.name),
    };
    Rendered {
        subject,
        html,
        text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_tenant_name_with_markup_is_text_not_html() {
        let b = Brand::from_record(r#"<script>alert(1)</script>"Acme" & 'Co'"#, &json!({}));
        let r = render(
            Action::Signup,
            &b,
            Some("https://crm.acme.com/__router/auth/confirm?token_hash=a&type=signup&next=%2F"),
            "123456",
        );
        assert!(!r.html.contains("<script>"), "{}", r.html);
        assert!(r
            .html
            .contains("&lt;script&gt;alert(1)&lt;/script&gt;&quot;Acme&quot; &amp; &#39;Co&#39;"));
        assert!(r.html.contains("token_hash=a&amp;type=signup"));
        assert!(
            r.text.starts_with(r#"<script>alert(1)</script>"Acme""#),
            "the text part is not HTML"
        );
    }

    #[test]
    fn a_logo_or_colour_that_could_leave_its_attribute_is_dropped() {
        for (logo, color) in [
            (r#"javascript:alert(1)"#, "red;background:url(x)"),
            (r#"https://x/" onerror="alert(1)"#, "#12345g"),
            ("data:image/svg+xml,<svg>", "#1234567"),
        ] {
            let b = Brand::from_record("Acme", &json!({"logo_url": logo, "primary_color": color}));
            assert_eq!(
                (b.logo_url.as_deref(), b.color.as_str()),
                (None, DEFAULT_COLOR),
                "{logo} {color}"
            );
            let r = render(Action::Recovery, &b, Some("https://h/"), "1");
            assert!(!r.html.contains("onerror") && !r.html.contains("javascript:"));
        }
        let b = Brand::from_record(
            "Acme",
            &json!({"logo_url": "https://cdn.acme.com/l.png?a=1&b=2", "primary_color": "#ff6600"}),
        );
        let r = render(Action::Invite, &b, Some("https://h/"), "1");
        assert!(r
            .html
            .contains(r#"<img src="https://cdn.acme.com/l.png?a=1&amp;b=2""#));
        assert!(r.html.contains("background:#ff6600"));
    }

    #[test]
    fn every_action_has_its_own_subject_and_a_link_type_the_confirm_route_takes() {
        let b = Brand::from_record("Acme", &json!({}));
        let mut subjects = std::collections::HashSet::new();
        for a in ["signup", "magiclink", "recovery", "invite", "email_change"] {
            let action = Action::parse(a).unwrap();
            assert_eq!(action.verify_type(), Some(a));
            let r = render(action, &b, Some("https://h/l"), "9");
            assert!(r.subject.starts_with("Acme – "));
            assert!(r.text.contains("https://h/l") && r.html.contains("https://h/l"));
            assert!(subjects.insert(r.subject));
        }
        let r = render(Action::Reauthentication, &b, None, "424242");
        assert!(r.text.contains("424242") && !r.html.contains("<a "));
        assert_eq!(Action::parse("sms"), None);
    }
}
