//! Tenant slugs: a DNS label under every base domain (`<slug>.<base>`), so lowercase ASCII letters,
//! digits and inner hyphens, 3–63 bytes (a label's limit; three keeps out abbreviations that read as
//! the platform's), never a reserved label, never `xn--` (a punycode label would render as another
//! name).

use crate::reserved::DEFAULT_RESERVED_LABELS;

pub const MIN_LEN: usize = 3;
pub const MAX_LEN: usize = 63;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SlugError {
    Length,
    Charset,
    Hyphen,
    Reserved,
}

impl SlugError {
    pub fn describe(&self) -> &'static str {
        match self {
            SlugError::Length => "a slug is 3 to 63 characters long",
            SlugError::Charset => "a slug holds only lowercase ASCII letters, digits and hyphens",
            SlugError::Hyphen => {
                "a slug neither starts nor ends with a hyphen, nor starts with xn--"
            }
            SlugError::Reserved => "this slug is a reserved label of the platform",
        }
    }
}

pub fn validate(slug: &str, reserved: &[String]) -> Result<(), SlugError> {
    if !(MIN_LEN..=MAX_LEN).contains(&slug.len()) {
        return Err(SlugError::Length);
    }
    if !slug
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err(SlugError::Charset);
    }
    if slug.starts_with('-') || slug.ends_with('-') || slug.starts_with("xn--") {
        return Err(SlugError::Hyphen);
    }
    let is_reserved = reserved.iter().any(|r| r == slug)
        || (reserved.is_empty() && DEFAULT_RESERVED_LABELS.contains(&slug));
    if is_reserved {
        return Err(SlugError::Reserved);
    }
    Ok(())
}

/// A slug suggested from a company name: ASCII letters and digits kept (lowercased), every other run
/// of characters one hyphen, cut to the maximum length. Accents are not transliterated: an operator
/// whose name has none left gets a validation error and passes a slug.
pub fn suggest(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    out.truncate(MAX_LEN);
    out.trim_end_matches('-').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Result<(), SlugError> {
        validate(s, &[])
    }

    #[test]
    fn suggestions_are_valid_slugs() {
        assert_eq!(suggest("Acme Clinic, Inc."), "acme-clinic-inc");
        assert_eq!(suggest("  --Globex  "), "globex");
        assert_eq!(suggest("Café 24"), "caf-24");
        assert_eq!(suggest(&"Long ".repeat(30)).len(), 63);
        assert_eq!(v(&suggest(&"Long ".repeat(30))), Ok(()));
    }

    #[test]
    fn validation_rules() {
        assert_eq!(v("acme"), Ok(()));
        assert_eq!(v("ab"), Err(SlugError::Length));
        assert_eq!(v(&"a".repeat(64)), Err(SlugError::Length));
        assert_eq!(v("Acme"), Err(SlugError::Charset));
        assert_eq!(v("ac.me"), Err(SlugError::Charset));
        assert_eq!(v("-acme"), Err(SlugError::Hyphen));
        assert_eq!(v("acme-"), Err(SlugError::Hyphen));
        assert_eq!(v("xn--acme"), Err(SlugError::Hyphen));
        assert_eq!(v("admin"), Err(SlugError::Reserved));
        assert_eq!(
            validate("billing", &["billing".into()]),
            Err(SlugError::Reserved)
        );
    }
}
