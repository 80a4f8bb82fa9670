//! Which Supabase Auth endpoint an `/auth/v1` request reaches, decided on a canonical path only.
//!
//! GoTrue routes with chi on the raw path (`%73ignup` is not `signup` to it), but a gateway in front
//! may normalise before it does: decode unreserved `%`-escapes, merge `//`, drop `;` parameters or
//! an encoded trailing `%2F`. Rather than guess each gateway, the router refuses every such spelling
//! on `/auth/v1` (400 `invalid_path`): supabase-js never sends one. What is left is matched without
//! case and with one trailing `/` (chi mounts `/signup` and `/signup/` alike), which over-approaches
//! chi's case-sensitive match on purpose: an endpoint that creates users is never missed.
//! The workerd runtime has already resolved `.`/`..` segments (WHATWG URL parsing).

use crate::error::RouterError;

pub const AUTH_PREFIX: &str = "/auth/v1";

/// The endpoints the router treats specially (`internal/api/api.go` in supabase/auth).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthEndpoint {
    /// `POST /signup`: email/phone sign-up, or anonymous sign-in with neither.
    Signup,
    /// `POST /otp`: creates the user unless `create_user` is false.
    Otp,
    /// `POST /magiclink`: signs unknown addresses up, with no way to say not to.
    MagicLink,
    /// `/verify`: reads `redirect_to` from its JSON body on POST.
    Verify,
    /// `POST /sso`: SAML sign-in, creating users; `redirect_to` from its JSON body.
    Sso,
    /// `POST /sso/saml/acs`: the IdP's assertion, creating users.
    SamlAcs,
    /// `GET /authorize`: OAuth sign-in, creating users at the callback.
    Authorize,
    /// `/callback`: the OAuth provider's answer, where users are created.
    Callback,
    /// `POST /token`: grants; `id_token` and `web3` create users.
    Token,
    Other,
}

impl AuthEndpoint {
    /// Endpoints whose JSON body GoTrue reads for what the router rewrites.
    pub fn json_body_edited(self) -> bool {
        matches!(
            self,
            Self::Signup | Self::Otp | Self::MagicLink | Self::Verify | Self::Sso
        )
    }

    /// Endpoints that create users (stamped with the tenant where allowed).
    pub fn stamps_signup(self) -> bool {
        matches!(self, Self::Signup | Self::Otp | Self::MagicLink)
    }
}

/// The endpoint of `path` (which starts with [`AUTH_PREFIX`]), or 400 when it is not canonical.
pub fn classify(path: &str) -> Result<AuthEndpoint, RouterError> {
    let rest = path.strip_prefix(AUTH_PREFIX).unwrap_or(path);
    for (bad, why) in [
        ("%", "percent-encoded characters"),
        (";", "`;` parameters"),
        ("//", "empty path segments"),
        ("\\", "backslashes"),
    ] {
        if rest.contains(bad) {
            return Err(RouterError::InvalidPath(format!(
                "/auth/v1 paths may not hold {why}"
            )));
        }
    }
    let rest = rest.to_ascii_lowercase();
    let rest = rest.strip_suffix('/').unwrap_or(&rest);
    Ok(match rest {
        "/signup" => AuthEndpoint::Signup,
        "/otp" => AuthEndpoint::Otp,
        "/magiclink" => AuthEndpoint::MagicLink,
        "/verify" => AuthEndpoint::Verify,
        "/sso" => AuthEndpoint::Sso,
        "/sso/saml/acs" => AuthEndpoint::SamlAcs,
        "/authorize" => AuthEndpoint::Authorize,
        "/callback" => AuthEndpoint::Callback,
        "/token" => AuthEndpoint::Token,
        _ => AuthEndpoint::Other,
    })
}

/// Endpoints after which Auth sends an email or a browser somewhere (`internal/api/api.go`): given
/// no target, GoTrue would use its Site URL, so the router names the user's host instead.
pub fn names_a_redirect(path: &str) -> bool {
    let rest = path
        .strip_prefix(AUTH_PREFIX)
        .unwrap_or(path)
        .to_ascii_lowercase();
    let rest = rest.strip_suffix('/').unwrap_or(&rest);
    matches!(
        rest,
        "/signup"
            | "/otp"
            | "/magiclink"
            | "/recover"
            | "/resend"
            | "/invite"
            | "/user"
            | "/authorize"
    )
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn canonical_spellings_are_classified_without_case_and_with_one_trailing_slash() {
        for p in ["/auth/v1/signup", "/auth/v1/signup/", "/auth/v1/SignUp"] {
            assert_eq!(classify(p), Ok(AuthEndpoint::Signup), "{p}");
        }
        assert_eq!(classify("/auth/v1/sso/saml/acs"), Ok(AuthEndpoint::SamlAcs));
        assert_eq!(classify("/auth/v1/user"), Ok(AuthEndpoint::Other));
        assert_eq!(classify("/auth/v1"), Ok(AuthEndpoint::Other));
    }

    #[test]
    fn non_canonical_spellings_are_refused() {
        for p in [
            "/auth/v1//signup",
            "/auth/v1/signup//",
            "/auth/v1/%73ignup",
            "/auth/v1/signu%70",
            "/auth/v1/signup%2F",
            "/auth/v1/signup;x=1",
            "/auth/v1/admin/users/%2e%2e",
        ] {
            assert!(
                matches!(classify(p), Err(RouterError::InvalidPath(_))),
                "{p}"
            );
        }
    }
}
