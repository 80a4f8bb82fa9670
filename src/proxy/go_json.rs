//! JSON bodies the router edits, made unambiguous to Go's `encoding/json`, which is how Supabase
//! Auth decodes them: it matches object keys to struct fields case-insensitively with Unicode simple
//! folding (`CREATE_USER`, `Data`, `create_uſer` with U+017F, `K` U+212A all match) and the last
//! match wins. So a body with two keys that fold alike is refused, a key that folds to a name the
//! router reads or sets is renamed to that name, and every value the router does not touch is
//! kept as the client wrote it (raw), so nested fields mean what they meant.
//!
//! Output bytes also escape `&`, `=`, `%` and `;` inside strings (`\u0026`…): those bytes only occur
//! inside strings in valid JSON, and escaped they give a url-encoded-form reader of the same body
//! (GoTrue's `ParseForm` under a form content type) nothing to find.

use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;

use crate::error::RouterError;

/// Go's fold of one character, as far as keys the router names go: ASCII without case, and the
/// two non-ASCII runes whose fold orbit holds an ASCII letter (U+212A KELVIN SIGN, U+017F LONG S).
fn fold(c: char) -> char {
    match c {
        '\u{212A}' => 'k',
        '\u{17F}' => 's',
        c => c.to_ascii_lowercase(),
    }
}

/// Whether Go's `encoding/json` would match `key` to a field named `name`.
pub fn folds_to(key: &str, name: &str) -> bool {
    key.chars().map(fold).eq(name.chars().map(fold))
}

fn invalid(why: impl Into<String>) -> RouterError {
    RouterError::InvalidBody(why.into())
}

/// A body Go's decoder would read as JSON into a struct: its first non-blank byte is `{`.
pub fn looks_like_object(body: &[u8]) -> bool {
    body.iter()
        .find(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
        .is_some_and(|b| *b == b'{')
}

/// Valid JSON of any shape (nothing kept).
pub fn is_valid(body: &[u8]) -> bool {
    serde_json::from_slice::<IgnoredAny>(body).is_ok()
}

/// `body` with `&`, `=`, `%`, `;` written as `\u00XX`; `body` must be valid JSON.
pub fn escape_form_bytes(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + 16);
    for &b in body {
        match b {
            b'&' | b'=' | b'%' | b';' => out.extend_from_slice(format!("\\u{:04x}", b).as_bytes()),
            b => out.push(b),
        }
    }
    out
}

/// A JSON object as its members in order, duplicates kept, values raw.
#[derive(Debug)]
pub struct JsonObject {
    members: Vec<(String, Box<RawValue>)>,
}

impl<'de> Deserialize<'de> for JsonObject {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Members;
        impl<'de> Visitor<'de> for Members {
            type Value = JsonObject;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<JsonObject, A::Error> {
                let mut members = Vec::new();
                while let Some(m) = map.next_entry::<String, Box<RawValue>>()? {
                    members.push(m);
                }
                Ok(JsonObject { members })
            }
        }
        d.deserialize_map(Members)
    }
}

impl JsonObject {
    /// Parse `body` as one object whose keys no two fold alike, with every key that folds to one
    /// of `names` renamed to it.
    pub fn parse(body: &[u8], names: &[&str]) -> Result<Self, RouterError> {
        let mut obj: JsonObject = serde_json::from_slice(body)
            .map_err(|e| invalid(format!("expected a JSON object: {e}")))?;
        for (i, (k, _)) in obj.members.iter().enumerate() {
            if let Some((dup, _)) = obj.members[..i].iter().find(|(d, _)| folds_to(d, k)) {
                return Err(invalid(format!(
                    "duplicate key {k:?} (keys are matched without case, so it repeats {dup:?})"
                )));
            }
        }
        for (k, _) in obj.members.iter_mut() {
            if let Some(name) = names.iter().find(|n| folds_to(k, n)) {
                *k = name.to_string();
            }
        }
        Ok(obj)
    }

    pub fn get(&self, name: &str) -> Option<&RawValue> {
        self.members
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| &**v)
    }

    /// The member as a string, as Go would fill a `string` field (`null` is empty).
    pub fn string(&self, name: &str) -> Result<String, RouterError> {
        match self.get(name) {
            None => Ok(String::new()),
            Some(raw) => serde_json::from_str::<Option<String>>(raw.get())
                .map(Option::unwrap_or_default)
                .map_err(|_| invalid(format!("\"{name}\" must be a string"))),
        }
    }

    /// Set `name` to `value`, which replaces the member in place or goes last.
    pub fn set(&mut self, name: &str, value: &impl serde::Serialize) -> Result<(), RouterError> {
        let raw = serde_json::value::to_raw_value(value).map_err(|e| invalid(e.to_string()))?;
        match self.members.iter_mut().find(|(k, _)| k == name) {
            Some((_, v)) => *v = raw,
            None => self.members.push((name.to_string(), raw)),
        }
        Ok(())
    }

    /// The object as bytes for upstream (see the module note on escaping).
    pub fn to_bytes(&self) -> Result<Vec<u8>, RouterError> {
        let mut out = vec![b'{'];
        for (i, (k, v)) in self.members.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend(serde_json::to_vec(k).map_err(|e| invalid(e.to_string()))?);
            out.push(b':');
            out.extend_from_slice(v.get().as_bytes());
        }
        out.push(b'}');
        Ok(escape_form_bytes(&out))
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn keys_fold_as_go_folds_them() {
        for k in [
            "create_user",
            "CREATE_USER",
            "Create_User",
            "create_u\u{17F}er",
        ] {
            assert!(folds_to(k, "create_user"), "{k}");
        }
        assert!(folds_to("\u{212A}ey", "key"));
        assert!(!folds_to("create_users", "create_user"));
        assert!(!folds_to("créate_user", "create_user"));
    }

    #[test]
    fn keys_that_fold_alike_are_refused() {
        for body in [
            r#"{"data":{},"Data":{}}"#,
            r#"{"create_user":false,"create_user":true}"#,
            r#"{"x":1,"X":2}"#,
        ] {
            assert!(
                matches!(
                    JsonObject::parse(body.as_bytes(), &["data"]),
                    Err(RouterError::InvalidBody(_))
                ),
                "{body}"
            );
        }
    }

    #[test]
    fn a_folded_key_is_renamed_and_untouched_values_stay_raw() {
        let mut o = JsonObject::parse(
            br#"{"CREATE_USER":true,"meta":{"B":1,"b":2},"n":1.50}"#,
            &["create_user"],
        )
        .unwrap();
        o.set("create_user", &false).unwrap();
        assert_eq!(
            o.to_bytes().unwrap(),
            br#"{"create_user":false,"meta":{"B":1,"b":2},"n":1.50}"#.to_vec()
        );
    }

    #[test]
    fn form_bytes_are_escaped_inside_strings() {
        let o = JsonObject::parse(br#"{"pad":"&redirect_to=x%41;"}"#, &[]).unwrap();
        let out = o.to_bytes().unwrap();
        assert!(!out.iter().any(|b| b"&=%;".contains(b)));
        let back: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(back["pad"], "&redirect_to=x%41;");
    }

    #[test]
    fn only_objects_look_like_objects() {
        assert!(looks_like_object(b" \n{\"a\":1}"));
        assert!(!looks_like_object(b"[1]"));
        assert!(!looks_like_object(b"a=1"));
        assert!(!looks_like_object(b""));
    }
}
