//! The edge half of per-request metrics: hands the core's data point ([`crate::metrics`]) to the
//! `METRICS` Workers Analytics Engine binding. `writeDataPoint` is fire-and-forget in the runtime
//! (no subrequest, nothing to await); a binding that throws is caught and logged, so metrics never
//! fail a request. Without the binding nothing is built or written.

use std::cell::OnceCell;

use js_sys::{Function, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use worker::Env;

use crate::metrics::data_point;
use crate::pipeline::Outcome;

/// The binding's name in wrangler.toml (`[[analytics_engine_datasets]] binding = "METRICS"`).
const BINDING_NAME: &str = "METRICS";

thread_local! {
    /// The binding and its `writeDataPoint`, looked up once per isolate like the router's config.
    static BINDING: OnceCell<Option<(JsValue, Function)>> = const { OnceCell::new() };
}

/// Looks the binding up in `env` (once per isolate).
pub fn bind(env: &Env) {
    BINDING.with(|cell| {
        cell.get_or_init(|| {
            let binding = Reflect::get(env, &JsValue::from_str(BINDING_NAME))
                .ok()
                .filter(JsValue::is_object)?;
            let write = Reflect::get(&binding, &JsValue::from_str("writeDataPoint"))
                .ok()?
                .dyn_into::<Function>()
                .ok()?;
            Some((binding, write))
        });
    });
}

/// Writes the data point for `outcome`, if it gets one and there is a binding to take it (the
/// point is made only then).
pub fn write(outcome: &Outcome) {
    BINDING.with(|cell| {
        let Some(Some((binding, write))) = cell.get() else {
            return;
        };
        let Some(point) = data_point(outcome) else {
            return;
        };
        // One crossing: `JSON.parse` builds the `{indexes, blobs, doubles}` object natively.
        let written = js_sys::JSON::parse(&point.to_json())
            .and_then(|arg| write.call1(binding, &arg));
        if let Err(e) = written {
            // An `Error` serialises to `{}`: its `message` says what went wrong.
            let message = Reflect::get(&e, &JsValue::from_str("message"))
                .ok()
                .and_then(|m| m.as_string())
                .unwrap_or_else(|| super::js::js_err(e));
            worker::console_error!(
                "{}",
                serde_json::json!({"level": "error", "error": "metrics_write_failed", "message": message})
            );
        }
    });
}
