//! Header lists across the JS boundary, both ways, each in one crossing; `headers.js` beside this
//! file does the JS half of the two that go as lines.

use js_sys::Object;
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};

use crate::proxy::headers::HeaderEdit;

#[wasm_bindgen(module = "/src/edge/headers.js")]
extern "C" {
    #[wasm_bindgen(js_name = headerLines)]
    fn header_lines(headers: &web_sys::Headers) -> String;
    #[wasm_bindgen(catch, js_name = editedHeaders)]
    fn edited_headers(headers: &web_sys::Headers, edits: &str)
        -> Result<web_sys::Headers, JsValue>;
}

/// Every header, in order, in one crossing as `name\nvalue\n` lines: one string to copy and split,
/// where JSON went through `Array.from`, `JSON.stringify` and serde_json (this and [`edited`] in
/// one call measured 5–29 µs a request less in `bench/worker/cost.mjs`: README).
pub fn pairs(headers: &web_sys::Headers) -> Vec<(String, String)> {
    let lines = header_lines(headers);
    let mut it = lines.split('\n');
    let mut out = Vec::new();
    while let (Some(k), Some(v)) = (it.next(), it.next()) {
        out.push((k.to_string(), v.to_string()));
    }
    out
}

/// A copy of `headers` with `edits` applied, in one crossing; an edit the runtime refuses is an
/// error naming it. A name or value holding a line break (which the runtime refuses anyway) cannot
/// go as lines: those edits go one call each, so the refusal is the runtime's own.
pub fn edited(
    headers: &web_sys::Headers,
    edits: &[HeaderEdit],
) -> Result<web_sys::Headers, String> {
    let mut lines = String::with_capacity(256);
    for edit in edits {
        let (op, name, value): (char, &str, &str) = match edit {
            HeaderEdit::Remove(k) => ('-', k, ""),
            HeaderEdit::Set(k, v) => ('=', k, v),
            HeaderEdit::Append(k, v) => ('+', k, v),
        };
        if name.contains('\n') || value.contains('\n') {
            return one_edit_at_a_time(headers, edits);
        }
        lines.push(op);
        lines.push_str(name);
        lines.push('\n');
        lines.push_str(value);
        lines.push('\n');
    }
    edited_headers(headers, &lines).map_err(super::js::js_err)
}

fn one_edit_at_a_time(
    headers: &web_sys::Headers,
    edits: &[HeaderEdit],
) -> Result<web_sys::Headers, String> {
    let refused =
        |name: &str, e: JsValue| format!("header {name} refused: {}", super::js::js_err(e));
    let out = web_sys::Headers::new_with_headers(headers).map_err(|e| refused("(copy)", e))?;
    for edit in edits {
        match edit {
            HeaderEdit::Remove(k) => out.delete(k).map_err(|e| refused(k, e))?,
            HeaderEdit::Set(k, v) => out.set(k, v).map_err(|e| refused(k, e))?,
            HeaderEdit::Append(k, v) => out.append(k, v).map_err(|e| refused(k, e))?,
        }
    }
    Ok(out)
}

/// A header list for `RequestInit`/`ResponseInit` in one crossing (`JSON.parse` runs natively);
/// the runtime builds its own `Headers` from it, so making one here would copy the list twice.
pub fn list(pairs: &[(String, String)]) -> JsValue {
    serde_json::to_string(pairs)
        .ok()
        .and_then(|json| js_sys::JSON::parse(&json).ok())
        .unwrap_or_else(|| js_sys::Array::new().into())
}

/// Pair by pair, dropping only what the runtime refuses: the fallback when a whole list is refused.
pub fn one_by_one(pairs: &[(String, String)]) -> JsValue {
    let h =
        web_sys::Headers::new().unwrap_or_else(|_| JsValue::from(Object::new()).unchecked_into());
    for (k, v) in pairs {
        let _ = h.append(k, v);
    }
    h.into()
}
