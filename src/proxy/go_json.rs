//! JSON bodies the router edits, made unambiguous to Go's `encoding/json`, which is how Supabase
//! Auth decodes them: it matches object keys to struct fields case-insensitively with Unicode simple
//! folding (`CREATE_USER`, `Data`, `create_uſer` with U+017F, `K` U+212A all match) and the last
//! match wins. So a body with two keys that fold alike is refused, a key that folds to a name the
//! router reads or sets is renamed to that name, and every value the router does not touch is
//! kept as the client wrote it (its source text), so nested fields mean what they meant.
//!
//! Output bytes also escape `&`, `=`, `%` and `;` inside strings (`\u0026`…): those bytes only occur
//! inside strings in valid JSON, and escaped they give a url-encoded-form reader of the same body
//! (GoTrue's `ParseForm` under a form content type) nothing to find.

use serde_json::Value;

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

const BLANK: [u8; 4] = [b' ', b'\t', b'\n', b'\r'];

/// A body Go's decoder would read as JSON into a struct: its first non-blank byte is `{`.
pub fn looks_like_object(body: &[u8]) -> bool {
    body.iter()
        .find(|b| !BLANK.contains(b))
        .is_some_and(|b| *b == b'{')
}

/// Valid JSON of any shape. (Parsed as a `Value`, whose code the router has anyway: a decoder of
/// its own for this would only grow the .wasm.)
pub fn is_valid(body: &[u8]) -> bool {
    serde_json::from_slice::<Value>(body).is_ok()
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

/// The end of the string starting at `text[start] == '"'` (one past its closing quote).
fn string_end(text: &[u8], start: usize) -> usize {
    let mut i = start + 1;
    while i < text.len() {
        match text[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    text.len()
}

/// The top-level members of a valid JSON object text, as `(key, value)` source slices.
fn members(text: &str) -> Vec<(&str, &str)> {
    let b = text.as_bytes();
    let skip = |mut i: usize| {
        while i < b.len() && BLANK.contains(&b[i]) {
            i += 1;
        }
        i
    };
    let mut out = Vec::new();
    let mut i = skip(0) + 1;
    loop {
        i = skip(i);
        if i >= b.len() || b[i] != b'"' {
            return out;
        }
        let key_end = string_end(b, i);
        let key = &text[i..key_end];
        i = skip(skip(key_end) + 1);
        let value_start = i;
        let mut depth = 0usize;
        while i < b.len() {
            match b[i] {
                b'"' => {
                    i = string_end(b, i);
                    continue;
                }
                b'{' | b'[' => depth += 1,
                b'}' | b']' if depth == 0 => break,
                b'}' | b']' => depth -= 1,
                b',' if depth == 0 => break,
                _ => {}
            }
            i += 1;
        }
        out.push((
            key,
            text[value_start..i]
                .trim_end_matches(|c: char| c.is_ascii() && BLANK.contains(&(c as u8))),
        ));
        i += 1;
    }
}

/// A JSON object as its members in order, duplicates kept, values as the client wrote them.
#[derive(Debug)]
pub struct JsonObject {
    members: Vec<(String, String)>,
}

impl JsonObject {
    /// Parse `body` as one object whose keys no two fold alike, with every key that folds to one
    /// of `names` renamed to it.
    pub fn parse(body: &[u8], names: &[&str]) -> Result<Self, RouterError> {
        let whole: Value = serde_json::from_slice(body)
            .map_err(|e| invalid(format!("expected a JSON object: {e}")))?;
        if !whole.is_object() {
            return Err(invalid("expected a JSON object"));
        }
        // Valid JSON is UTF-8 (serde_json checked), so this cannot fail.
        let text = std::str::from_utf8(body).map_err(|e| invalid(e.to_string()))?;
        let mut obj = JsonObject {
            members: Vec::new(),
        };
        for (raw_key, raw_value) in members(text) {
            let key = match serde_json::from_str(raw_key) {
                Ok(Value::String(k)) => k,
                _ => return Err(invalid("malformed object key")),
            };
            if let Some((dup, _)) = obj.members.iter().find(|(d, _)| folds_to(d, &key)) {
                return Err(invalid(format!(
                    "duplicate key {key:?} (keys are matched without case, so it repeats {dup:?})"
                )));
            }
            obj.members.push((key, raw_value.to_string()));
        }
        for (k, _) in obj.members.iter_mut() {
            if let Some(name) = names.iter().find(|n| folds_to(k, n)) {
                *k = name.to_string();
            }
        }
        Ok(obj)
    }

    /// The member's value, parsed.
    pub fn get(&self, name: &str) -> Option<Value> {
        self.members
            .iter()
            .find(|(k, _)| k == name)
            .and_then(|(_, v)| serde_json::from_str(v).ok())
    }

    /// The member as a string, as Go would fill a `string` field (`null` is empty).
    pub fn string(&self, name: &str) -> Result<String, RouterError> {
        match self.get(name) {
            None | Some(Value::Null) => Ok(String::new()),
            Some(Value::String(s)) => Ok(s),
            Some(_) => Err(invalid(format!("\"{name}\" must be a string"))),
        }
    }

    /// Set `name` to `value`, which replaces the member in place or goes last.
    pub fn set(&mut self, name: &str, value: Value) {
        let raw = value.to_string();
        match self.members.iter_mut().find(|(k, _)| k == name) {
            Some((_, v)) => *v = raw,
            None => self.members.push((name.to_string(), raw)),
        }
    }

    /// The object as bytes for upstream (see the module note on escaping).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = vec![b'{'];
        for (i, (k, v)) in self.members.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend(Value::String(k.clone()).to_string().into_bytes());
            out.push(b':');
            out.extend_from_slice(v.as_bytes());
        }
        out.push(b'}');
        escape_form_bytes(&out)
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
        o.set("create_user", Value::Bool(false));
        assert_eq!(
            o.to_bytes(),
            br#"{"create_user":false,"meta":{"B":1,"b":2},"n":1.50}"#.to_vec()
        );
    }

    #[test]
    fn form_bytes_are_escaped_inside_strings() {
        let o = JsonObject::parse(br#"{"pad":"&redirect_to=x%41;"}"#, &[]).unwrap();
        let out = o.to_bytes();
        assert!(!out.iter().any(|b| b"&=%;".contains(b)));
        let back: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(back["pad"], "&redirect_to=x%41;");
    }

    #[test]
    fn members_are_split_at_the_top_level_only() {
        let o = JsonObject::parse(
            br#" { "a" : {"b":[1,{"c":"},"}]} , "d":"\"x,}" ,"e":null } "#,
            &[],
        )
        .unwrap();
        assert_eq!(
            o.to_bytes(),
            br#"{"a":{"b":[1,{"c":"},"}]},"d":"\"x,}","e":null}"#.to_vec()
        );
        assert_eq!(
            JsonObject::parse(b"{}", &[]).unwrap().to_bytes(),
            b"{}".to_vec()
        );
    }

    #[test]
    fn only_objects_look_like_objects() {
        assert!(looks_like_object(b" \n{\"a\":1}"));
        assert!(!looks_like_object(b"[1]"));
        assert!(!looks_like_object(b"a=1"));
        assert!(!looks_like_object(b""));
    }
}
