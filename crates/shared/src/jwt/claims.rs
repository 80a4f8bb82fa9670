//! The registered claims every verified token must satisfy, whatever signed it.

use serde::Deserialize;

/// `exp`/`nbf` tolerance for clock skew between Supabase Auth and the edge.
pub const LEEWAY_S: f64 = 30.0;

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum Audience {
    One(String),
    Many(Vec<String>),
}

impl Audience {
    pub fn contains(&self, want: &str) -> bool {
        match self {
            Audience::One(a) => a == want,
            Audience::Many(v) => v.iter().any(|a| a == want),
        }
    }
}

/// `exp` is required; `exp` and `nbf` are compared with [`LEEWAY_S`] of slack. `Err` says why.
pub fn valid_at(exp: Option<f64>, nbf: Option<f64>, now_s: f64) -> Result<(), &'static str> {
    let exp = exp.ok_or("exp claim missing")?;
    if now_s > exp + LEEWAY_S {
        return Err("token expired");
    }
    if nbf.is_some_and(|nbf| now_s + LEEWAY_S < nbf) {
        return Err("token not yet valid");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_is_required_and_both_bounds_have_the_leeway() {
        assert_eq!(valid_at(None, None, 0.0), Err("exp claim missing"));
        assert_eq!(valid_at(Some(100.0), None, 130.0), Ok(()));
        assert_eq!(valid_at(Some(100.0), None, 131.0), Err("token expired"));
        assert_eq!(valid_at(Some(999.0), Some(130.0), 100.0), Ok(()));
        assert_eq!(
            valid_at(Some(999.0), Some(131.0), 100.0),
            Err("token not yet valid")
        );
    }
}
