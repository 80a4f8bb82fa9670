//! What the client gets: the core's own reply or the upstream's response (relayed as the core
//! says), built as the runtime's `Response`; and [`finish`], the one place a request's outcome is
//! known (its log line and its metrics data point are written there).

use js_sys::Uint8Array;
use wasm_bindgen::{JsCast, JsValue};

use super::headers;
use super::js::js_err;
use crate::error::RouterError;
use crate::pipeline::{Relay, RequestCtx, Router, UpstreamHead};
use crate::reply::Reply;

/// How a request ended: the core's own reply, or the upstream's answer (or why none came).
pub enum Answer {
    Reply(Reply),
    Upstream(Result<web_sys::Response, RouterError>),
}

/// The response for `answer`, and the request's outcome reported. Every error is a reply by here;
/// only the runtime refusing to build a response object is left, and that is logged and answered.
pub fn finish(router: &Router, ctx: &mut RequestCtx, answer: Answer, head_only: bool) -> JsValue {
    let (status, built) = match answer {
        Answer::Reply(r) => (r.status, reply(r, head_only)),
        Answer::Upstream(Ok(resp)) => (resp.status(), relay(router, ctx, resp)),
        Answer::Upstream(Err(e)) => {
            let r = router.error_reply(ctx, &e);
            (r.status, reply(r, head_only))
        }
    };
    // The request's outcome: tenant, route, status, directory cache, token kind, elapsed time.
    let outcome = router.outcome(ctx, status);
    web_sys::console::log_1(&JsValue::from_str(&outcome.log_line()));
    super::metrics_sink::write(&outcome);
    built.map(JsValue::from).unwrap_or_else(runtime_failure)
}

/// An error before any router exists (bad configuration, an unparseable request): no context,
/// no log line of its own.
pub fn early(e: &RouterError, path: &str, head_only: bool) -> js_sys::Promise {
    js_sys::Promise::resolve(
        &reply(e.reply(path, false, None), head_only)
            .map(JsValue::from)
            .unwrap_or_else(runtime_failure),
    )
}

/// One JSON error line for operators, beside the per-request log line.
pub fn log_error(e: &RouterError, message: &str) {
    worker::console_error!(
        "{}",
        serde_json::json!({"level": "error", "error": e.code(), "message": message})
    );
}

fn null_body_status(status: u16) -> bool {
    matches!(status, 101 | 204 | 205 | 304)
}

fn reply(r: Reply, head_only: bool) -> Result<web_sys::Response, JsValue> {
    let body = if head_only || null_body_status(r.status) {
        None
    } else {
        Some(JsValue::from(Uint8Array::from(r.body.as_slice())))
    };
    build(r.status, None, &r.headers, body.as_ref(), false)
}

/// The upstream's head as the core reads it.
struct Head<'a>(&'a web_sys::Response, web_sys::Headers);

impl UpstreamHead for Head<'_> {
    fn status(&self) -> u16 {
        self.0.status()
    }
    fn header(&self, name: &str) -> Option<String> {
        self.1.get(name).ok().flatten()
    }
    fn has(&self, name: &str) -> bool {
        self.1.has(name).unwrap_or(true)
    }
    fn headers(&self) -> Vec<(String, String)> {
        headers::pairs(&self.1)
    }
}

/// The upstream response, rebuilt only when the core rewrote a header: most go back as they came.
fn relay(
    router: &Router,
    ctx: &RequestCtx,
    resp: web_sys::Response,
) -> Result<web_sys::Response, JsValue> {
    let rewritten = match router.relay(ctx, &Head(&resp, resp.headers())) {
        Relay::AsIs => return Ok(resp),
        Relay::Rewritten(h) => h,
    };
    let status = resp.status();
    let body = if null_body_status(status) {
        None
    } else {
        resp.body().map(JsValue::from)
    };
    build(
        status,
        Some(&resp.status_text()),
        &rewritten,
        body.as_ref(),
        true,
    )
}

/// A response with `headers`, falling back to header-by-header when the runtime refuses the list.
fn build(
    status: u16,
    status_text: Option<&str>,
    list: &[(String, String)],
    body: Option<&JsValue>,
    from_stream: bool,
) -> Result<web_sys::Response, JsValue> {
    let attempt = |h: &JsValue| {
        let init = web_sys::ResponseInit::new();
        init.set_status(status);
        if let Some(t) = status_text {
            init.set_status_text(t);
        }
        init.set_headers(h);
        if from_stream {
            web_sys::Response::new_with_opt_readable_stream_and_init(
                body.map(|b| b.unchecked_ref()),
                &init,
            )
        } else {
            web_sys::Response::new_with_opt_buffer_source_and_init(
                body.map(|b| b.unchecked_ref()),
                &init,
            )
        }
    };
    attempt(&headers::list(list)).or_else(|_| attempt(&headers::one_by_one(list)))
}

/// The runtime refused to build a response object (`e` says why): logged, and answered with the
/// error's reply built through the plainest constructor, a string body.
fn runtime_failure(e: JsValue) -> JsValue {
    let err = RouterError::ResponseBuildFailed;
    log_error(&err, &js_err(e));
    let r = err.reply("/", false, None);
    let init = web_sys::ResponseInit::new();
    init.set_status(r.status);
    init.set_headers(&headers::list(&r.headers));
    web_sys::Response::new_with_opt_str_and_init(Some(&String::from_utf8_lossy(&r.body)), &init)
        .map(JsValue::from)
        .unwrap_or(JsValue::UNDEFINED)
}
