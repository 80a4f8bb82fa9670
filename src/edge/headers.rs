//! Header lists across the JS boundary, both ways, each in one crossing.

use js_sys::Object;
use wasm_bindgen::{JsCast, JsValue};

/// Every header in one crossing: `Array.from` and `JSON.stringify` run natively, where iterating
/// entry by entry costs several calls and string copies per header.
pub fn pairs(headers: &web_sys::Headers) -> Vec<(String, String)> {
    js_sys::JSON::stringify(&js_sys::Array::from(headers))
        .ok()
        .and_then(|s| s.as_string())
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or_default()
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
