//! The thin edge: converts workerd's request into the core's [`Incoming`], performs the fetch the
//! core decided on, and converts the answer back. No routing rule lives here.

use std::cell::{OnceCell, RefCell};
use std::collections::HashMap;
use std::future::Future;
use std::rc::Rc;
use std::task::{Context as TaskContext, Poll};

use futures::future::LocalBoxFuture;
use futures::StreamExt;
use js_sys::{Object, Reflect, Uint8Array};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};
use worker::{ByteStream, Context, Env};

use crate::auth::crypto::SignatureVerifier;
use crate::auth::jwks::Jwk;
use crate::config::{Config, JwtAlg, VarSource};
use crate::error::RouterError;
use crate::pipeline::{
    Action, BodyError, BodySource, Forward, Handled, Incoming, Reply, RequestCtx, RequestUrl,
    Router, UpstreamBody,
};
use crate::proxy::headers::{header_edits, HeaderEdit};
use crate::runtime::{HttpRequest, HttpResponse, Runtime};
use crate::slots::{Key, Slots};

mod metrics_sink;
mod tasks;
use tasks::Awaited;

struct JsRuntime;

impl Runtime for JsRuntime {
    fn now_ms(&self) -> u64 {
        js_sys::Date::now() as u64
    }
    fn sleep(&self, ms: u64) -> LocalBoxFuture<'static, ()> {
        Box::pin(tasks::Sleep::new(ms))
    }
    fn fetch(&self, req: HttpRequest) -> LocalBoxFuture<'static, Result<HttpResponse, String>> {
        Box::pin(async move {
            let init = web_sys::RequestInit::new();
            init.set_method(req.method);
            init.set_headers(&header_list(&req.headers));
            if let Some(body) = &req.body {
                init.set_body(&JsValue::from_str(body));
            }
            let promise = global_scope().fetch_with_str_and_init(&req.url, &init);
            let resp: web_sys::Response = Awaited::new(&promise)
                .await
                .map_err(js_err)?
                .unchecked_into();
            let body = Awaited::new(&resp.array_buffer().map_err(js_err)?)
                .await
                .map_err(js_err)?;
            Ok(HttpResponse {
                status: resp.status(),
                body: Uint8Array::new(&body).to_vec(),
            })
        })
    }
}

/// Vars and secrets; a `[vars]` array or object (e.g. `TENANT_DIRECTORY`) arrives as JSON text.
struct EnvVars<'a>(&'a Env);

impl VarSource for EnvVars<'_> {
    fn var(&self, name: &str) -> Option<String> {
        let v = Reflect::get(self.0, &JsValue::from_str(name)).ok()?;
        if v.is_undefined() || v.is_null() {
            return None;
        }
        if let Some(s) = v.as_string() {
            return Some(s);
        }
        js_sys::JSON::stringify(&v).ok().and_then(|s| s.as_string())
    }
}

/// ES256/RS256 through the runtime's WebCrypto. Keys are imported once per isolate; the
/// `SubtleCrypto` handle and the algorithm parameter objects are made once too, since every
/// object handed across the boundary costs more than the map lookup that finds it.
#[derive(Default)]
struct WebCryptoVerifier {
    keys: RefCell<HashMap<String, web_sys::CryptoKey>>,
    subtle: OnceCell<web_sys::SubtleCrypto>,
    ecdsa_sha256: OnceCell<Object>,
    rsa_pkcs1: OnceCell<Object>,
}

fn object(pairs: &[(&str, &str)]) -> Object {
    let o = Object::new();
    for (k, v) in pairs {
        let _ = Reflect::set(&o, &JsValue::from_str(k), &JsValue::from_str(v));
    }
    o
}

fn js_err(e: JsValue) -> String {
    e.as_string()
        .or_else(|| js_sys::JSON::stringify(&e).ok().and_then(|s| s.as_string()))
        .unwrap_or_default()
}

impl WebCryptoVerifier {
    fn subtle(&self) -> Result<&web_sys::SubtleCrypto, String> {
        if let Some(s) = self.subtle.get() {
            return Ok(s);
        }
        let crypto = Reflect::get(&js_sys::global(), &JsValue::from_str("crypto"))
            .map_err(|_| "no crypto global")?;
        if crypto.is_undefined() {
            return Err("no crypto global".into());
        }
        Ok(self
            .subtle
            .get_or_init(|| crypto.unchecked_into::<web_sys::Crypto>().subtle()))
    }

    fn verify_params(&self, alg: JwtAlg) -> &Object {
        match alg {
            JwtAlg::Es256 => self
                .ecdsa_sha256
                .get_or_init(|| object(&[("name", "ECDSA"), ("hash", "SHA-256")])),
            _ => self
                .rsa_pkcs1
                .get_or_init(|| object(&[("name", "RSASSA-PKCS1-v1_5")])),
        }
    }

    async fn import(&self, alg: JwtAlg, key: &Jwk) -> Result<web_sys::CryptoKey, String> {
        if key.alg() != alg {
            return Err("key type does not match the algorithm".into());
        }
        let fp = key.fingerprint();
        if let Some(k) = self.keys.borrow().get(&fp) {
            return Ok(k.clone());
        }
        let (jwk, params) = match key {
            Jwk::Ec { x, y, .. } => (
                object(&[("kty", "EC"), ("crv", "P-256"), ("x", x), ("y", y)]),
                object(&[("name", "ECDSA"), ("namedCurve", "P-256")]),
            ),
            Jwk::Rsa { n, e, .. } => (
                object(&[("kty", "RSA"), ("n", n), ("e", e)]),
                object(&[("name", "RSASSA-PKCS1-v1_5"), ("hash", "SHA-256")]),
            ),
        };
        let usages = js_sys::Array::of1(&JsValue::from_str("verify"));
        let promise = self
            .subtle()?
            .import_key_with_object("jwk", &jwk, &params, false, &usages)
            .map_err(js_err)?;
        let imported: web_sys::CryptoKey = Awaited::new(&promise)
            .await
            .map_err(js_err)?
            .unchecked_into();
        self.keys.borrow_mut().insert(fp, imported.clone());
        Ok(imported)
    }
}

impl SignatureVerifier for WebCryptoVerifier {
    fn verify<'a>(
        &'a self,
        alg: JwtAlg,
        key: &'a Jwk,
        message: &'a [u8],
        signature: &'a [u8],
    ) -> LocalBoxFuture<'a, Result<bool, String>> {
        Box::pin(async move {
            let crypto_key = self.import(alg, key).await?;
            let promise = self
                .subtle()?
                .verify_with_object_and_u8_array_and_u8_array(
                    self.verify_params(alg),
                    &crypto_key,
                    signature,
                    message,
                )
                .map_err(js_err)?;
            Ok(Awaited::new(&promise)
                .await
                .map_err(js_err)?
                .as_bool()
                .unwrap_or(false))
        })
    }
}

thread_local! {
    /// Parsed once per isolate: vars and secrets do not change under a running isolate.
    static ROUTER: RefCell<Option<Result<Rc<Router>, RouterError>>> = const { RefCell::new(None) };
}

fn router(env: &Env) -> Result<Rc<Router>, RouterError> {
    ROUTER.with(|cell| {
        cell.borrow_mut()
            .get_or_insert_with(|| {
                Config::from_vars(&EnvVars(env)).map(|config| {
                    Rc::new(Router::new(
                        config,
                        Rc::new(JsRuntime),
                        Rc::new(WebCryptoVerifier::default()),
                    ))
                })
            })
            .clone()
    })
}

/// Reads at most `limit` bytes of the client's body, refusing more without buffering it.
struct RequestBody<'a>(&'a web_sys::Request);

impl BodySource for RequestBody<'_> {
    fn read_limited(&mut self, limit: usize) -> LocalBoxFuture<'_, Result<Vec<u8>, BodyError>> {
        Box::pin(async move {
            let declared = self
                .0
                .headers()
                .get("content-length")
                .ok()
                .flatten()
                .and_then(|v| v.trim().parse::<u64>().ok());
            if declared.is_some_and(|n| n > limit as u64) {
                return Err(BodyError::TooLarge);
            }
            let Some(body) = self.0.body() else {
                return Ok(Vec::new());
            };
            let mut stream = ByteStream::from(body);
            let mut out = Vec::new();
            while let Some(chunk) = stream.next().await {
                let chunk = chunk.map_err(|e| BodyError::Read(e.to_string()))?;
                if out.len() + chunk.len() > limit {
                    return Err(BodyError::TooLarge);
                }
                out.extend_from_slice(&chunk);
            }
            Ok(out)
        })
    }
}

/// Every header in one crossing of the JS boundary: `Array.from` and `JSON.stringify` run
/// natively, where iterating entry by entry costs several calls and string copies per header.
fn header_pairs(headers: &web_sys::Headers) -> Vec<(String, String)> {
    js_sys::JSON::stringify(&js_sys::Array::from(headers))
        .ok()
        .and_then(|s| s.as_string())
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or_default()
}

/// A header list for `RequestInit`/`ResponseInit` in one crossing (`JSON.parse` runs natively);
/// the runtime builds its own `Headers` from it, so making one here would copy the list twice.
fn header_list(pairs: &[(String, String)]) -> JsValue {
    serde_json::to_string(pairs)
        .ok()
        .and_then(|json| js_sys::JSON::parse(&json).ok())
        .unwrap_or_else(|| js_sys::Array::new().into())
}

/// Pair by pair, dropping only what the runtime refuses: the fallback when a whole list is refused.
fn headers_one_by_one(pairs: &[(String, String)]) -> JsValue {
    let h =
        web_sys::Headers::new().unwrap_or_else(|_| JsValue::from(Object::new()).unchecked_into());
    for (k, v) in pairs {
        let _ = h.append(k, v);
    }
    h.into()
}

/// A response with `headers`, falling back to header-by-header when the runtime refuses the list.
fn build_response(
    status: u16,
    status_text: Option<&str>,
    headers: &[(String, String)],
    body: Option<&JsValue>,
    from_stream: bool,
) -> Result<web_sys::Response, JsValue> {
    let attempt = |list: &JsValue| {
        let init = web_sys::ResponseInit::new();
        init.set_status(status);
        if let Some(t) = status_text {
            init.set_status_text(t);
        }
        init.set_headers(list);
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
    attempt(&header_list(headers)).or_else(|_| attempt(&headers_one_by_one(headers)))
}

fn incoming(req: &web_sys::Request) -> Result<Incoming, RouterError> {
    let raw_url = req.url();
    let url = RequestUrl::split(&raw_url)
        .ok_or_else(|| RouterError::InvalidHost("unparseable request URL".into()))?;
    let headers = header_pairs(&req.headers());
    let host = headers
        .iter()
        .find(|(k, _)| k == "host")
        .map_or(url.authority, |(_, v)| v.as_str())
        .to_string();
    Ok(Incoming {
        method: req.method().to_ascii_uppercase(),
        scheme: url.scheme.to_string(),
        host,
        path: url.path.to_string(),
        query: url.query.map(str::to_string),
        client_ip: headers
            .iter()
            .find(|(k, _)| k == "cf-connecting-ip")
            .map(|(_, v)| v.clone()),
        headers,
    })
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
    build_response(r.status, None, &r.headers, body.as_ref(), false)
}

/// The upstream headers: the runtime's own copy of the client's, with the core's edits applied.
/// An edit the runtime refuses stops the request: it must not leave without the router's headers.
fn upstream_headers(
    req: &web_sys::Request,
    client: &[(String, String)],
    upstream: &[(String, String)],
) -> Result<web_sys::Headers, RouterError> {
    let refused = |name: &str, e: JsValue| {
        RouterError::UpstreamUnreachable(format!("header {name} refused: {}", js_err(e)))
    };
    let headers =
        web_sys::Headers::new_with_headers(&req.headers()).map_err(|e| refused("(copy)", e))?;
    for edit in header_edits(client, upstream) {
        match &edit {
            HeaderEdit::Remove(k) => headers.delete(k).map_err(|e| refused(k, e))?,
            HeaderEdit::Set(k, v) => headers.set(k, v).map_err(|e| refused(k, e))?,
            HeaderEdit::Append(k, v) => headers.append(k, v).map_err(|e| refused(k, e))?,
        }
    }
    Ok(headers)
}

/// What settling an upstream fetch needs once the runtime answers.
struct InFlight {
    router: Rc<Router>,
    ctx: RequestCtx,
    controller: web_sys::AbortController,
    timer: i32,
    timeout_ms: u64,
    head_only: bool,
}

/// Starts the upstream fetch, straight on the global `fetch`: wrapping it in worker's
/// `Request`/`Fetch` reads the `cf` object on every request, which showed up in profiles for nothing.
/// Returns the runtime's promise, the abort controller and the deadline timer.
fn start_forward(
    req: &web_sys::Request,
    client: &[(String, String)],
    f: &Forward,
) -> Result<(js_sys::Promise, web_sys::AbortController, i32), RouterError> {
    let init = web_sys::RequestInit::new();
    init.set_method(&f.method);
    init.set_headers(&upstream_headers(req, client, &f.headers)?.into());
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
    let controller =
        web_sys::AbortController::new().map_err(|e| RouterError::UpstreamUnreachable(js_err(e)))?;
    init.set_signal(Some(&controller.signal()));
    let global = global_scope();
    // The runtime's own timer aborts the fetch: no Rust closure and no second future per request.
    let timeout_arg = i32::try_from(f.timeout_ms).unwrap_or(i32::MAX);
    let timer = ABORT_CALLER
        .with(|caller| {
            caller.as_ref().map(|abort| {
                global.set_timeout_with_callback_and_timeout_and_arguments_1(
                    abort,
                    timeout_arg,
                    &controller,
                )
            })
        })
        .transpose()
        .map_err(|e| RouterError::UpstreamUnreachable(js_err(e)))?
        .ok_or_else(|| {
            RouterError::UpstreamUnreachable("no timer for the upstream deadline".into())
        })?;
    Ok((
        global.fetch_with_str_and_init(&f.url, &init),
        controller,
        timer,
    ))
}

thread_local! {
    /// `x => AbortController.prototype.abort.call(x)`, made once, for `setTimeout(.., ms, controller)`.
    static ABORT_CALLER: Option<js_sys::Function> = abort_caller();
    /// Requests whose upstream fetch is in flight, keyed by the number bound into the callbacks.
    static IN_FLIGHT: RefCell<Slots<InFlight>> = RefCell::new(Slots::default());
    /// `(index, generation, responseOrError) => ..`, made once per isolate: each request binds its key to it and
    /// hands it to `then` for both outcomes, where a closure per request (what awaiting a `JsFuture`
    /// makes) costs two wasm-bindgen closures and a trip through the task queue. `fetch` fulfils
    /// with a `Response` and rejects with an error, never with a `Response`, so the value says which.
    static SETTLE: Callback =
        Closure::<dyn FnMut(u32, u32, JsValue) -> JsValue>::new(|index, generation, answer: JsValue| {
            settle(
                Key { index, generation },
                if answer.is_instance_of::<web_sys::Response>() {
                    Ok(answer)
                } else {
                    Err(answer)
                },
            )
        })
        .into_js_value()
        .unchecked_into();
}

#[wasm_bindgen]
extern "C" {
    /// A promise, for `then` with two plain functions (js-sys's `then` wants closures).
    #[wasm_bindgen(js_name = Promise)]
    type Thenable;
    #[wasm_bindgen(method, js_name = then)]
    fn then_both(this: &Thenable, on_ok: &Callback, on_err: &Callback) -> js_sys::Promise;
    /// `then` with a fulfilment handler only: a rejection passes through unchanged.
    #[wasm_bindgen(method, js_name = then)]
    fn then_ok(this: &Thenable, on_ok: &JsValue) -> js_sys::Promise;

    /// A callback made once per isolate, taking a slot key first: see [`bound`].
    #[wasm_bindgen(js_name = Function)]
    type Callback;
    #[wasm_bindgen(method, js_name = bind)]
    fn bind_key(this: &Callback, this_arg: &JsValue, index: u32, generation: u32) -> Callback;
}

/// `callback` with the slot `key` bound in as its first arguments.
fn bound(callback: &Callback, key: Key) -> Callback {
    callback.bind_key(&JsValue::NULL, key.index, key.generation)
}

fn global_scope() -> web_sys::WorkerGlobalScope {
    js_sys::global().unchecked_into()
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

/// The upstream response, rebuilt only when a header must change (a `Location` into the project,
/// CORS for the caller's origin): most responses go back as they came, headers unread.
fn relay(
    router: &Router,
    ctx: &RequestCtx,
    resp: web_sys::Response,
) -> Result<web_sys::Response, JsValue> {
    let status = resp.status();
    // A 101 carries the WebSocket in the response object itself: hand it back untouched.
    if status == 101 {
        return Ok(resp);
    }
    let upstream_headers = resp.headers();
    let location = upstream_headers.get("location").ok().flatten();
    let sets_cookie = upstream_headers.has("set-cookie").unwrap_or(true);
    if !router.relay_may_change(ctx, location.as_deref(), sets_cookie) {
        return Ok(resp);
    }
    let original = header_pairs(&upstream_headers);
    let headers = router.relay_headers(ctx, original.clone());
    if headers == original {
        return Ok(resp);
    }
    let body = if null_body_status(status) {
        None
    } else {
        resp.body().map(JsValue::from)
    };
    build_response(
        status,
        Some(&resp.status_text()),
        &headers,
        body.as_ref(),
        true,
    )
}

/// How a request ended: the core's own reply, or the upstream's answer (or failure).
enum Outcome {
    Reply(Reply),
    Upstream(Result<web_sys::Response, RouterError>),
}

/// The response for `outcome`, and the request's log line. Every error is already a reply here;
/// only the runtime refusing to build a response object is left, and that is logged and answered.
fn finish(router: &Router, ctx: &mut RequestCtx, outcome: Outcome, head_only: bool) -> JsValue {
    let built = match outcome {
        Outcome::Reply(r) => (r.status, reply(r, head_only)),
        Outcome::Upstream(Ok(resp)) => (resp.status(), relay(router, ctx, resp)),
        Outcome::Upstream(Err(e)) => {
            let r = router.error_reply(ctx, &e);
            (r.status, reply(r, head_only))
        }
    };
    worker::console_log!("{}", router.log_line(ctx, built.0));
    metrics_sink::write(crate::metrics::data_point(ctx, built.0, router.now_ms()));
    built.1.map(JsValue::from).unwrap_or_else(runtime_failure)
}

/// One JSON error line for operators, beside the per-request log line.
fn log_error(e: &RouterError, message: &str) {
    worker::console_error!(
        "{}",
        serde_json::json!({"level": "error", "error": e.code(), "message": message})
    );
}

/// The runtime refused to build a response object (`e` says why): logged, and answered with
/// error.rs's reply built through the plainest constructor, a string body.
fn runtime_failure(e: JsValue) -> JsValue {
    let err = RouterError::ResponseBuildFailed;
    log_error(&err, &js_err(e));
    let r = Router::early_error_reply(&err, "/");
    let init = web_sys::ResponseInit::new();
    init.set_status(r.status);
    init.set_headers(&header_list(&r.headers));
    web_sys::Response::new_with_opt_str_and_init(Some(&String::from_utf8_lossy(&r.body)), &init)
        .map(JsValue::from)
        .unwrap_or(JsValue::UNDEFINED)
}

/// From this many in-flight entries on, each insert first checks for abandoned ones.
const IN_FLIGHT_SWEEP_AT: usize = 1024;
/// How long past its deadline an entry must be before it counts as abandoned.
const ABANDONED_AFTER_MS: u64 = 60_000;

/// A request whose context workerd tore down (the client went away) never has its fetch settled,
/// so its entry would stay forever. Every live fetch settles by its deadline (the timer aborts it),
/// so an entry well past its deadline belongs to such a request and is dropped.
fn sweep_abandoned(slots: &mut Slots<InFlight>, now_ms: u64) {
    slots.remove_where(|f| {
        now_ms.saturating_sub(f.ctx.started_ms) > f.timeout_ms.saturating_add(ABANDONED_AFTER_MS)
    });
}

/// The promise callbacks' body: the request parked under `key` meets the runtime's answer.
fn settle(key: Key, answer: Result<JsValue, JsValue>) -> JsValue {
    let Some(mut f) = IN_FLIGHT.with(|slots| slots.borrow_mut().take(key)) else {
        return runtime_failure(JsValue::from_str("no request parked under this key"));
    };
    // Only the wait for headers is bounded: once they are in, the body streams as long as it takes.
    let global = global_scope();
    global.clear_timeout_with_handle(f.timer);
    let upstream = match answer {
        Ok(resp) => Ok(resp.unchecked_into::<web_sys::Response>()),
        Err(_) if f.controller.signal().aborted() => {
            Err(RouterError::UpstreamTimeout(f.timeout_ms))
        }
        Err(e) => Err(RouterError::UpstreamUnreachable(js_err(e))),
    };
    finish(
        &f.router,
        &mut f.ctx,
        Outcome::Upstream(upstream),
        f.head_only,
    )
}

/// What the core decided, carried out: a reply now, or the upstream fetch with its answer settled
/// by the per-isolate callbacks.
fn respond(
    router: Rc<Router>,
    req: &web_sys::Request,
    client: &[(String, String)],
    handled: Handled,
    wctx: &Context,
    head_only: bool,
) -> js_sys::Promise {
    if let Some(bg) = handled.background {
        wctx.wait_until(bg);
    }
    let mut ctx = handled.ctx;
    let outcome = match handled.action {
        Action::Reply(r) => Outcome::Reply(r),
        // The runtime's request object itself: method, headers, body and URL exactly as they came.
        // Rare (a CA's probe), so one closure for its log line costs nothing worth saving.
        Action::PassThrough => {
            let log = Closure::once_into_js(move |resp: JsValue| {
                let status = resp
                    .dyn_ref::<web_sys::Response>()
                    .map_or(0, |r| r.status());
                worker::console_log!("{}", router.log_line(&ctx, status));
                resp
            });
            return global_scope()
                .fetch_with_request(req)
                .unchecked_ref::<Thenable>()
                .then_ok(&log);
        }
        Action::Forward(forward) => match start_forward(req, client, &forward) {
            Ok((promise, controller, timer)) => {
                let key = IN_FLIGHT.with(|slots| {
                    let mut slots = slots.borrow_mut();
                    if slots.len() >= IN_FLIGHT_SWEEP_AT {
                        sweep_abandoned(&mut slots, router.now_ms());
                    }
                    slots.insert(InFlight {
                        router,
                        ctx,
                        controller,
                        timer,
                        timeout_ms: forward.timeout_ms,
                        head_only,
                    })
                });
                return SETTLE.with(|on_settle| {
                    let on_settle = bound(on_settle, key);
                    promise
                        .unchecked_ref::<Thenable>()
                        .then_both(&on_settle, &on_settle)
                });
            }
            Err(e) => Outcome::Upstream(Err(e)),
        },
    };
    js_sys::Promise::resolve(&finish(&router, &mut ctx, outcome, head_only))
}

/// The Worker's fetch handler (what `#[event(fetch)]` would generate, without its executor round
/// trips), called by `src/entry.mjs`. The core's phases are polled once right here: with the
/// tenant and the token already cached nothing in them waits, so the common request goes from
/// workerd to the upstream fetch in one synchronous call. Only when a phase does wait (a directory
/// lookup, the JWKS, WebCrypto, a sign-up body) does the request become a task ([`tasks::spawn`]).
#[wasm_bindgen(js_name = handleFetch)]
pub fn fetch(
    req: web_sys::Request,
    env: Env,
    wctx: worker::worker_sys::Context,
) -> js_sys::Promise {
    let _rust = tasks::InRust::enter();
    let head_only = req.method().eq_ignore_ascii_case("HEAD");
    let early = |e: &RouterError, path: &str| {
        js_sys::Promise::resolve(
            &reply(Router::early_error_reply(e, path), head_only)
                .map(JsValue::from)
                .unwrap_or_else(runtime_failure),
        )
    };
    let incoming = match incoming(&req) {
        Ok(i) => i,
        Err(e) => return early(&e, "/"),
    };
    let router = match router(&env) {
        Ok(r) => r,
        Err(e) => {
            log_error(&e, &e.to_string());
            return early(&e, &incoming.path);
        }
    };
    metrics_sink::bind(&env);
    let wctx = Context::new(wctx);
    let phases = {
        let router = router.clone();
        async move {
            let handled = router.handle(&incoming, &mut RequestBody(&req)).await;
            (handled, incoming, req)
        }
    };
    let mut phases = Box::pin(phases);
    // A future may be polled with one waker and later another: a phase that waits here registers
    // the no-op waker, and the task's first poll (right away, in `spawn`) replaces it.
    let mut cx = TaskContext::from_waker(futures::task::noop_waker_ref());
    match phases.as_mut().poll(&mut cx) {
        Poll::Ready((handled, incoming, req)) => {
            respond(router, &req, &incoming.headers, handled, &wctx, head_only)
        }
        Poll::Pending => tasks::spawn(Box::pin(async move {
            let (handled, incoming, req) = phases.await;
            respond(router, &req, &incoming.headers, handled, &wctx, head_only).into()
        })),
    }
}
