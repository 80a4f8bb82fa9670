//! The thin edge in workerd: the request in, the core's phases run as one task, the fetch the core
//! decided on, the response out. No routing rule lives here. One concept per room:
//!
//! | room | what |
//! | --- | --- |
//! | `allocator` | the global allocator (talc) |
//! | `js` | JS declarations web-sys lacks; `bound` (a key into a function made once) |
//! | `parking` | the one table where a request's state waits: tasks between polls, awaited promises |
//! | `promises` | a promise or a timer as a future, settled through `parking` |
//! | `executor` | a request as a task: polled at once, again on each wake |
//! | `env` | vars and secrets → the per-isolate `Router` |
//! | `runtime` | the core's `Runtime`: clock, timer, `fetch` for the router's own requests |
//! | `webcrypto` | ES256/RS256 through WebCrypto |
//! | `headers` | header lists across the boundary (`headers.js` is their JS half) |
//! | `request_in` | workerd's request → the core's `Incoming`, its body on demand |
//! | `upstream` | the upstream fetch: header edits, the deadline |
//! | `response_out` | the response, and the one place the request's outcome is known |
//!
//! Dependencies point down the table's order's reverse: `mod` uses all; nothing uses `mod`.

// The hand-written machinery (`executor`, `parking`, `promises`) or, with feature `std-futures`,
// wasm-bindgen-futures underneath the same names: the benchmark compares them (README).
#[cfg(all(feature = "machinery", feature = "std-futures"))]
compile_error!("the machinery probes test the hand-written executor: not with std-futures");

mod allocator;
mod env;
mod executor;
mod headers;
#[cfg_attr(feature = "std-futures", allow(dead_code))]
mod js;
#[cfg(feature = "machinery")]
mod machinery;
mod metrics_sink;
#[cfg_attr(feature = "std-futures", allow(dead_code, unused_imports))]
mod parking;
mod promises;
mod request_in;
mod response_out;
mod runtime;
mod upstream;
mod webcrypto;

use std::rc::Rc;

use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::JsValue;
use worker::{Context, Env};

use crate::pipeline::{Action, Router};
use crate::request::Incoming;
use request_in::RequestBody;
use response_out::Answer;

/// The Worker's fetch handler (what `#[event(fetch)]` would generate, without its executor round
/// trips), called by `src/entry.mjs`. The request runs as one task ([`executor::spawn`]), polled
/// once right here: with the tenant and the token cached nothing before the upstream fetch waits,
/// so the common request goes from workerd to the upstream fetch in this one synchronous call.
#[wasm_bindgen(js_name = handleFetch)]
pub fn fetch(
    req: web_sys::Request,
    env: Env,
    wctx: worker::worker_sys::Context,
) -> js_sys::Promise {
    let head_only = req.method().eq_ignore_ascii_case("HEAD");
    let incoming = match request_in::incoming(&req) {
        Ok(i) => i,
        Err(e) => return response_out::early(&e, "/", head_only),
    };
    let router = match env::router(&env) {
        Ok(r) => r,
        Err(e) => {
            response_out::log_error(&e, &e.to_string());
            return response_out::early(&e, &incoming.path, head_only);
        }
    };
    metrics_sink::bind(&env);
    let wctx = Context::new(wctx);
    executor::spawn(Box::pin(serve(router, req, incoming, wctx, head_only)))
}

/// One request, start to end: the core's phases, what they decided carried out, the response.
async fn serve(
    router: Rc<Router>,
    req: web_sys::Request,
    incoming: Incoming,
    wctx: Context,
    head_only: bool,
) -> JsValue {
    let handled = router.handle(&incoming, &mut RequestBody(&req)).await;
    if let Some(bg) = handled.background {
        wctx.wait_until(bg);
    }
    let mut ctx = handled.ctx;
    let answer = match handled.action {
        Action::Reply(r) => Answer::Reply(r),
        Action::PassThrough => Answer::Upstream(upstream::pass_through(&req).await),
        Action::Forward(f) => {
            Answer::Upstream(upstream::forward(&req, &incoming.headers, &f).await)
        }
    };
    response_out::finish(&router, &mut ctx, answer, head_only)
}
