//! The JS the edge calls that web-sys does not declare the way it is used here, and the two
//! conversions every room needs. Nothing here holds state.

use js_sys::{Object, Reflect};
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};

use crate::slots::Key;

#[wasm_bindgen]
extern "C" {
    /// A promise, for `then` with two plain functions (js-sys's `then` wants closures).
    #[wasm_bindgen(js_name = Promise)]
    pub type Thenable;
    #[wasm_bindgen(method, js_name = then)]
    pub fn then_both(this: &Thenable, on_ok: &Callback, on_err: &Callback) -> js_sys::Promise;

    /// A function made once per isolate that takes a parking key first: see [`bound`].
    #[wasm_bindgen(js_name = Function)]
    pub type Callback;
    #[wasm_bindgen(method, js_name = bind)]
    fn bind_key(this: &Callback, this_arg: &JsValue, index: u32, generation: u32) -> Callback;

    /// `Promise.withResolvers()`: the promise a task hands workerd, and how to settle it.
    pub type Resolvers;
    #[wasm_bindgen(js_namespace = Promise, js_name = withResolvers)]
    pub fn promise_with_resolvers() -> Resolvers;
    #[wasm_bindgen(method, getter)]
    pub fn promise(this: &Resolvers) -> js_sys::Promise;
    #[wasm_bindgen(method, getter)]
    pub fn resolve(this: &Resolvers) -> js_sys::Function;

    #[wasm_bindgen(js_name = queueMicrotask)]
    pub fn queue_microtask(callback: &Callback);
}

/// `callback` with `key` bound in as its first arguments: a bound function is a plain JS object,
/// where a wasm-bindgen closure per request is an allocation on both sides plus a
/// `FinalizationRegistry` entry.
pub fn bound(callback: &Callback, key: Key) -> Callback {
    callback.bind_key(&JsValue::NULL, key.index, key.generation)
}

pub fn global_scope() -> web_sys::WorkerGlobalScope {
    js_sys::global().unchecked_into()
}

/// A plain object of string fields (WebCrypto's parameters, a JWK).
pub fn object(pairs: &[(&str, &str)]) -> Object {
    let o = Object::new();
    for (k, v) in pairs {
        let _ = Reflect::set(&o, &JsValue::from_str(k), &JsValue::from_str(v));
    }
    o
}

/// What a JS error says, for a log line or an error's details.
pub fn js_err(e: JsValue) -> String {
    e.as_string()
        .or_else(|| js_sys::JSON::stringify(&e).ok().and_then(|s| s.as_string()))
        .unwrap_or_default()
}
