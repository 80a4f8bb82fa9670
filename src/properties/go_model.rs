//! How Go reads what the router forwards, written from Go's sources (Go 1.19, which the oracle in
//! `tests/go-oracle/` builds with), independently of `proxy::go_json` and `proxy::go_form`, which
//! are the code under test. `scripts/fuzz.sh` also hands the fuzzers' corpora to Go itself.

use std::collections::HashMap;
use std::fmt;

use serde::de::{Deserializer, MapAccess, Visitor};
use serde_json::Value;

/// Go's `unicode.SimpleFold` orbit of `c`, reduced to one representative: the lowercase of its
/// uppercase (so `K`, `k` and U+212A KELVIN SIGN, or `S`, `s` and U+017F LONG S, meet).
fn fold(c: char) -> char {
    let mut up = c.to_uppercase();
    let u = match (up.next(), up.next()) {
        (Some(u), None) => u,
        _ => c,
    };
    let mut low = u.to_lowercase();
    match (low.next(), low.next()) {
        (Some(l), None) => l,
        _ => c,
    }
}

/// `bytes.EqualFold` as `encoding/json` uses it to match a key to a field name.
pub fn equal_fold(a: &str, b: &str) -> bool {
    a.chars().map(fold).eq(b.chars().map(fold))
}

/// A JSON object's members in order, duplicates kept (what a streaming decoder sees).
struct Members(Vec<(String, Value)>);

impl<'de> serde::Deserialize<'de> for Members {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Members;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Members, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = m.next_entry::<String, Value>()? {
                    out.push((k, v));
                }
                Ok(Members(out))
            }
        }
        d.deserialize_map(V)
    }
}

/// The Go type of a struct field, as far as decoding into it differs.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// `map[string]interface{}`: an object is merged into the map already there (Go reuses it),
    /// `null` empties it.
    Map,
    /// Any other type: a value replaces the one there, `null` leaves it alone.
    Scalar,
}

/// `json.Unmarshal` of `body` into a struct with `fields`: each member goes to the field of the
/// same name, else to the first whose name folds alike, in order, so a later member overwrites (or,
/// for a map, merges into) what an earlier one set. Within an object a repeated key's last value
/// wins (as in `serde_json`'s map). `None`: Go's decoder fails.
pub fn struct_fields(body: &[u8], fields: &[(&str, Field)]) -> Option<HashMap<String, Value>> {
    let members: Members = serde_json::from_slice(body).ok()?;
    let mut out: HashMap<String, Value> = HashMap::new();
    for (k, v) in members.0 {
        let field = fields
            .iter()
            .find(|(n, _)| *n == k)
            .or_else(|| fields.iter().find(|(n, _)| equal_fold(n, &k)));
        let Some((name, kind)) = field else {
            continue;
        };
        match (kind, v) {
            (Field::Map, Value::Object(add)) => {
                let slot = out
                    .entry(name.to_string())
                    .or_insert_with(|| Value::Object(Default::default()));
                match slot {
                    Value::Object(m) => m.extend(add),
                    other => *other = Value::Object(add),
                }
            }
            (Field::Scalar, Value::Null) => {}
            (_, v) => {
                out.insert(name.to_string(), v);
            }
        }
    }
    Some(out)
}

fn unhex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// `url.QueryUnescape`.
fn query_unescape(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let hi = b.get(i + 1).copied().and_then(unhex)?;
                let lo = b.get(i + 2).copied().and_then(unhex)?;
                out.push(hi << 4 | lo);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    Some(out)
}

/// `url.ParseQuery(raw)[name]`: pairs split on `&`, a pair holding `;` is skipped (an error since
/// Go 1.17), as is one whose key or value does not unescape.
pub fn query_values(raw: &str, name: &str) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for pair in raw.split('&') {
        if pair.is_empty() || pair.contains(';') {
            continue;
        }
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let (Some(k), Some(v)) = (query_unescape(k), query_unescape(v)) else {
            continue;
        };
        if k == name.as_bytes() {
            out.push(v);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_fold_as_go_folds_them_and_the_last_match_wins() {
        assert!(equal_fold("create_uſer", "create_user"));
        assert!(equal_fold("\u{212A}", "k"));
        assert!(!equal_fold("daTa2", "data"));
        let data = [("data", Field::Map)];
        let f = struct_fields(br#"{"DATA":{"a":1},"data":{"b":2}}"#, &data).unwrap();
        assert_eq!(f["data"], serde_json::json!({"a": 1, "b": 2}));
        let f = struct_fields(br#"{"DATA":{"a":1},"Data":null}"#, &data).unwrap();
        assert_eq!(f["data"], Value::Null);
        let f = struct_fields(br#"{"data":{"t":"x","t":"y"}}"#, &data).unwrap();
        assert_eq!(f["data"]["t"], "y");
        let cu = [("create_user", Field::Scalar)];
        let f = struct_fields(br#"{"create_user":false,"CREATE_USER":null}"#, &cu).unwrap();
        assert_eq!(f["create_user"], false);
    }

    #[test]
    fn query_pairs_with_semicolons_or_bad_escapes_are_skipped() {
        assert_eq!(
            query_values("a=1;b&a=%zz&a=x+y%21", "a"),
            vec![b"x y!".to_vec()]
        );
    }
}
