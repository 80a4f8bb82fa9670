//! The fetch the core decided on, straight on the global `fetch` (wrapping it in worker's
//! `Request`/`Fetch` read the `cf` object on every request, which showed up in profiles for
//! nothing), with the runtime's own timer aborting it at the deadline.

use js_sys::{Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};

use super::js::{global_scope, js_err};
use super::promises::Awaited;
use crate::error::RouterError;
use crate::pipeline::{Forward, UpstreamBody};
use crate::proxy::headers::HeaderEdit;

thread_local! {
    /// `x => AbortController.prototype.abort.call(x)`, made once, for `setTimeout(.., ms, controller)`:
    /// the deadline needs no Rust closure and no second future per request.
    static ABORT_CALLER: Option<js_sys::Function> = abort_caller();
}

fn abort_caller() -> Option<js_sys::Function> {
    let probe = web_sys::AbortController::new().ok()?;
    let abort: js_sys::Function = Reflect::get(&probe, &JsValue::from_str("abort"))
        .ok()?
        .dyn_into()
        .ok()?;
    let call: js_sys::Function = Reflect::get(&abort, &JsValue::from_str("call"))
        .ok()?
        .dyn_into()
        .ok()?;
    Some(call.bind0(&abort))
}

/// The upstream's answer to `f`: its response (headers in; the body streams as long as it takes),
/// or why none came.
pub async fn forward(
    req: &web_sys::Request,
    client: &[(String, String)],
    f: &Forward,
) -> Result<web_sys::Response, RouterError> {
    let unreachable = |e: JsValue| RouterError::UpstreamUnreachable(js_err(e));
    let init = web_sys::RequestInit::new();
    init.set_method(&f.method);
    init.set_headers(&headers(req, &f.header_edits(client))?.into());
    init.set_redirect(web_sys::RequestRedirect::Manual);
    match &f.body {
        UpstreamBody::Replaced(bytes) => init.set_body(&Uint8Array::from(bytes.as_slice())),
        // A body on GET/HEAD makes the runtime refuse to build the request; it means nothing anyway.
        UpstreamBody::Passthrough if matches!(f.method.as_str(), "GET" | "HEAD") => {}
        UpstreamBody::Passthrough => {
            if let Some(stream) = req.body() {
                init.set_body(&stream);
            }
        }
    }
    let deadline = Deadline::arm(f.timeout_ms).map_err(unreachable)?;
    init.set_signal(Some(&deadline.controller.signal()));
    let answer = Awaited::new(&global_scope().fetch_with_str_and_init(&f.url, &init)).await;
    // Only the wait for headers is bounded: `deadline` is cleared as it drops, here.
    match answer {
        Ok(resp) => Ok(resp.unchecked_into()),
        Err(_) if deadline.controller.signal().aborted() => {
            Err(RouterError::UpstreamTimeout(f.timeout_ms))
        }
        Err(e) => Err(unreachable(e)),
    }
}

/// The client's request itself, to the zone's origin: method, headers, body and URL exactly as
/// they came (certificate validation).
pub async fn pass_through(req: &web_sys::Request) -> Result<web_sys::Response, RouterError> {
    Awaited::new(&global_scope().fetch_with_request(req))
        .await
        .map(JsCast::unchecked_into)
        .map_err(|e| RouterError::UpstreamUnreachable(js_err(e)))
}

/// The upstream headers: the runtime's own copy of the client's, with the core's edits applied.
/// An edit the runtime refuses stops the request: it must not leave without the router's headers.
fn headers(req: &web_sys::Request, edits: &[HeaderEdit]) -> Result<web_sys::Headers, RouterError> {
    super::headers::edited(&req.headers(), edits).map_err(RouterError::UpstreamUnreachable)
}

/// The abort controller and the timer that fires it; the timer is cleared when this drops (the
/// headers came, the fetch failed, or the request was abandoned and its task swept).
struct Deadline {
    controller: web_sys::AbortController,
    timer: i32,
}

impl Deadline {
    fn arm(timeout_ms: u64) -> Result<Self, JsValue> {
        let controller = web_sys::AbortController::new()?;
        let ms = i32::try_from(timeout_ms).unwrap_or(i32::MAX);
        let timer = ABORT_CALLER
            .with(|caller| {
                caller.as_ref().map(|abort| {
                    global_scope().set_timeout_with_callback_and_timeout_and_arguments_1(
                        abort,
                        ms,
                        &controller,
                    )
                })
            })
            .ok_or_else(|| JsValue::from_str("no timer for the upstream deadline"))??;
        Ok(Self { controller, timer })
    }
}

impl Drop for Deadline {
    fn drop(&mut self) {
        global_scope().clear_timeout_with_handle(self.timer);
    }
}
