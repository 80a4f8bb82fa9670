//! The PostgREST error body `{code, message, details, hint}`: supabase-js surfaces it like any
//! Supabase error, so both Workers answer every failure in this shape.

use serde_json::{json, Value};

pub fn body(code: &str, message: &str, details: Option<&str>, hint: Option<&str>) -> Value {
    json!({ "code": code, "message": message, "details": details, "hint": hint })
}

#[cfg(test)]
mod tests {
    #[test]
    fn absent_details_and_hint_are_null_not_missing() {
        let b = super::body("not_found", "Not found", None, None);
        assert_eq!(b.as_object().map(|o| o.len()), Some(4));
        assert!(b["details"].is_null() && b["hint"].is_null());
    }
}
