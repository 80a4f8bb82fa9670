//! Which algorithms a Worker accepts: from configuration (`JWT_ALGORITHMS`), never from the token.

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JwtAlg {
    Hs256,
    Es256,
    Rs256,
}

impl JwtAlg {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "HS256" => Some(Self::Hs256),
            "ES256" => Some(Self::Es256),
            "RS256" => Some(Self::Rs256),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Hs256 => "HS256",
            Self::Es256 => "ES256",
            Self::Rs256 => "RS256",
        }
    }
}

/// `JWT_ALGORITHMS` read: unset means the project's asymmetric keys (ES256, RS256), plus HS256 when
/// the legacy secret is configured; a list names them exactly. HS256 without a secret is refused
/// here rather than failing every token later. `Err` is the reason, for the caller's config error.
pub fn policy(setting: Option<&str>, has_secret: bool) -> Result<Vec<JwtAlg>, PolicyError> {
    let algorithms = match setting.map(str::trim).filter(|s| !s.is_empty()) {
        None => {
            let mut a = vec![JwtAlg::Es256, JwtAlg::Rs256];
            if has_secret {
                a.push(JwtAlg::Hs256);
            }
            a
        }
        Some(v) => {
            let mut a = Vec::new();
            for name in v.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                let alg = JwtAlg::parse(name)
                    .ok_or_else(|| PolicyError::Unsupported(name.to_string()))?;
                if !a.contains(&alg) {
                    a.push(alg);
                }
            }
            if a.is_empty() {
                return Err(PolicyError::Empty);
            }
            a
        }
    };
    if algorithms.contains(&JwtAlg::Hs256) && !has_secret {
        return Err(PolicyError::Hs256WithoutSecret);
    }
    Ok(algorithms)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyError {
    Unsupported(String),
    Empty,
    Hs256WithoutSecret,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_adds_hs256_only_with_a_secret_and_a_list_is_exact() {
        assert_eq!(policy(None, false), Ok(vec![JwtAlg::Es256, JwtAlg::Rs256]));
        assert_eq!(
            policy(Some(" "), true),
            Ok(vec![JwtAlg::Es256, JwtAlg::Rs256, JwtAlg::Hs256])
        );
        assert_eq!(policy(Some("ES256, ES256"), true), Ok(vec![JwtAlg::Es256]));
        assert_eq!(
            policy(Some("none"), true),
            Err(PolicyError::Unsupported("none".into()))
        );
        assert_eq!(policy(Some(","), true), Err(PolicyError::Empty));
        assert_eq!(
            policy(Some("HS256"), false),
            Err(PolicyError::Hs256WithoutSecret)
        );
    }
}
