//! Test-only exports (cargo feature `machinery`, built into `build-machinery/`, never deployed):
//! probes of the executor and the parking table for tests/worker/executor.test.mjs, through the
//! same `spawn`, `Awaited` and `Sleep` the router's requests use, and of the upstream header edits.

use std::cell::Cell;
use std::rc::Rc;

use js_sys::{Object, Reflect};
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::JsValue;

use super::executor::spawn;
use super::parking;
use super::promises::{Awaited, Sleep};

fn report(pairs: &[(&str, JsValue)]) -> JsValue {
    let o = Object::new();
    for (k, v) in pairs {
        let _ = Reflect::set(&o, &JsValue::from_str(k), v);
    }
    o.into()
}

fn settled(outcome: Result<JsValue, JsValue>) -> JsValue {
    match outcome {
        Ok(v) => report(&[("value", v)]),
        Err(e) => report(&[("error", e)]),
    }
}

/// A task that awaits `promise`: resolves with `{value}` or `{error}`.
#[wasm_bindgen(js_name = machineryAwait)]
pub fn await_promise(promise: js_sys::Promise) -> js_sys::Promise {
    spawn(Box::pin(
        async move { settled(Awaited::new(&promise).await) },
    ))
}

/// A task that sleeps `ms` on the runtime's timer, then resolves with `"slept"`.
#[wasm_bindgen(js_name = machinerySleep)]
pub fn sleep(ms: u32) -> js_sys::Promise {
    spawn(Box::pin(async move {
        Sleep::new(ms.into()).await;
        JsValue::from_str("slept")
    }))
}

/// Task A waits on a channel; task B, while it is being polled (Rust on the stack), sends on it.
/// A must then be woken from Rust and run later, not polled inside B's poll: it resolves with
/// `{deferred}`, true when B had finished before A ran again.
#[wasm_bindgen(js_name = machineryWakeFromRust)]
pub fn wake_from_rust() -> js_sys::Promise {
    let (tx, rx) = futures::channel::oneshot::channel::<()>();
    let b_done = Rc::new(Cell::new(false));
    let seen = b_done.clone();
    let a = spawn(Box::pin(async move {
        let got = rx.await.is_ok();
        report(&[
            ("received", JsValue::from_bool(got)),
            ("deferred", JsValue::from_bool(seen.get())),
        ])
    }));
    let _ = spawn(Box::pin(async move {
        let _ = tx.send(());
        b_done.set(true);
        JsValue::UNDEFINED
    }));
    a
}

/// An awaited `stale` is dropped before it settles, and a task then awaits `fresh`, whose entry
/// reuses the stale one's. Resolves with `{reused, value}` (the task's outcome) once `fresh`
/// settles; `stale` settling first must not reach it.
#[wasm_bindgen(js_name = machineryStaleKey)]
pub fn stale_key(stale: js_sys::Promise, fresh: js_sys::Promise) -> js_sys::Promise {
    let dropped = Awaited::new(&stale);
    let old = dropped.index();
    drop(dropped);
    let awaited = Awaited::new(&fresh);
    let reused = awaited.index() == old;
    spawn(Box::pin(async move {
        let outcome = settled(awaited.await);
        let _ = Reflect::set(&outcome, &"reused".into(), &JsValue::from_bool(reused));
        outcome
    }))
}

/// What waits in the parking table now: `{promises, tasks}`.
#[wasm_bindgen(js_name = machineryParked)]
pub fn parked() -> JsValue {
    let (promises, tasks) = parking::counts();
    report(&[
        ("promises", JsValue::from(promises as u32)),
        ("tasks", JsValue::from(tasks as u32)),
    ])
}

/// The sweep, run as if `after_ms` had passed: how many tasks it freed as abandoned.
#[wasm_bindgen(js_name = machinerySweep)]
pub fn sweep(after_ms: f64) -> u32 {
    parking::sweep(js_sys::Date::now() + after_ms) as u32
}

/// `headers` with `edits` (a JSON list of `[op, name, value]`, op `-`, `=` or `+`) applied as the
/// upstream fetch applies them: `{headers}` (the result, `[name, value]` pairs) or `{error}`.
#[wasm_bindgen(js_name = machineryEditHeaders)]
pub fn edit_headers(headers: web_sys::Headers, edits: &str) -> JsValue {
    use crate::proxy::headers::HeaderEdit;
    let Ok(list) = serde_json::from_str::<Vec<(String, String, String)>>(edits) else {
        return report(&[(
            "error",
            JsValue::from_str("edits: not a JSON list of [op, name, value]"),
        )]);
    };
    let edits: Vec<HeaderEdit> = list
        .iter()
        .map(|(op, name, value)| match op.as_str() {
            "-" => HeaderEdit::Remove(name.into()),
            "=" => HeaderEdit::Set(name.into(), value),
            _ => HeaderEdit::Append(name.into(), value),
        })
        .collect();
    match super::headers::edited(&headers, &edits) {
        Ok(out) => report(&[(
            "headers",
            super::headers::list(&super::headers::pairs(&out)),
        )]),
        Err(e) => report(&[("error", JsValue::from_str(&e))]),
    }
}
