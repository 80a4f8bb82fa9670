//! The thin edge: converts workerd's request into the core's [`Incoming`], performs the fetch the
//! core decided on, and converts the answer back. No routing rule lives here.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::time::Duration;

use futures::future::{select, Either, LocalBoxFuture};
use futures::StreamExt;
use js_sys::{Object, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use worker::{event, AbortController, Context, Delay, Env, Fetch, Request, Response};

use crate::auth::crypto::SignatureVerifier;
use crate::auth::jwks::Jwk;
use crate::config::{Config, JwtAlg, VarSource};
use crate::error::RouterError;
use crate::pipeline::{
    Action, BodyError, BodySource, Forward, Incoming, Reply, RequestCtx, Router, UpstreamBody,
};
use crate::runtime::Runtime;

struct JsRuntime;

impl Runtime for JsRuntime {
    fn now_ms(&self) -> u64 {
        js_sys::Date::now() as u64
    }
    fn sleep(&self, ms: u64) -> LocalBoxFuture<'static, ()> {
        Box::pin(Delay::from(Duration::from_millis(ms)))
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

/// ES256/RS256 through the runtime's WebCrypto; keys are imported once per isolate.
#[derive(Default)]
struct WebCryptoVerifier {
    keys: RefCell<HashMap<String, web_sys::CryptoKey>>,
}

fn subtle() -> Result<web_sys::SubtleCrypto, String> {
    let crypto = Reflect::get(&js_sys::global(), &JsValue::from_str("crypto"))
        .map_err(|_| "no crypto global")?;
    Ok(crypto.unchecked_into::<web_sys::Crypto>().subtle())
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
    async fn import(&self, alg: JwtAlg, key: &Jwk) -> Result<web_sys::CryptoKey, String> {
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
        if key.alg() != alg {
            return Err("key type does not match the algorithm".into());
        }
        let usages = js_sys::Array::of1(&JsValue::from_str("verify"));
        let promise = subtle()?
            .import_key_with_object("jwk", &jwk, &params, false, &usages)
            .map_err(js_err)?;
        let imported: web_sys::CryptoKey = JsFuture::from(promise)
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
            let params = match alg {
                JwtAlg::Es256 => object(&[("name", "ECDSA"), ("hash", "SHA-256")]),
                _ => object(&[("name", "RSASSA-PKCS1-v1_5")]),
            };
            let promise = subtle()?
                .verify_with_object_and_u8_array_and_u8_array(
                    &params,
                    &crypto_key,
                    signature,
                    message,
                )
                .map_err(js_err)?;
            Ok(JsFuture::from(promise)
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
struct RequestBody<'a>(&'a mut Request);

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
            let mut stream = match self.0.stream() {
                Ok(s) => s,
                Err(_) => return Ok(Vec::new()),
            };
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

fn incoming(req: &Request) -> Result<Incoming, RouterError> {
    let url = req
        .url()
        .map_err(|_| RouterError::InvalidHost("unparseable request URL".into()))?;
    let headers: Vec<(String, String)> = req
        .headers()
        .entries()
        .map(|(k, v)| (k.to_ascii_lowercase(), v))
        .collect();
    let host = headers
        .iter()
        .find(|(k, _)| k == "host")
        .map(|(_, v)| v.clone())
        .unwrap_or_else(|| {
            let h = url.host_str().unwrap_or_default().to_string();
            url.port().map_or(h.clone(), |p| format!("{h}:{p}"))
        });
    Ok(Incoming {
        // worker::Method maps methods it does not know to GET; the raw request keeps the truth.
        method: req.inner().method().to_ascii_uppercase(),
        scheme: url.scheme().to_string(),
        host,
        path: url.path().to_string(),
        query: url.query().map(str::to_string),
        client_ip: headers
            .iter()
            .find(|(k, _)| k == "cf-connecting-ip")
            .map(|(_, v)| v.clone()),
        headers,
    })
}

fn js_headers(pairs: &[(String, String)]) -> web_sys::Headers {
    let h =
        web_sys::Headers::new().unwrap_or_else(|_| JsValue::from(Object::new()).unchecked_into());
    for (k, v) in pairs {
        // A value the runtime refuses is dropped rather than failing the whole request.
        let _ = h.append(k, v);
    }
    h
}

fn null_body_status(status: u16) -> bool {
    matches!(status, 101 | 204 | 205 | 304)
}

fn reply(r: Reply, head_only: bool) -> worker::Result<Response> {
    let init = web_sys::ResponseInit::new();
    init.set_status(r.status);
    init.set_headers(&js_headers(&r.headers));
    let body = if head_only || null_body_status(r.status) {
        None
    } else {
        Some(Uint8Array::from(r.body.as_slice()))
    };
    let resp = web_sys::Response::new_with_opt_buffer_source_and_init(
        body.as_ref().map(|b| b.as_ref()),
        &init,
    )
    .map_err(|e| worker::Error::JsError(js_err(e)))?;
    Ok(Response::from(resp))
}

async fn forward(req: &Request, f: &Forward) -> Result<Response, RouterError> {
    let init = web_sys::RequestInit::new();
    init.set_method(&f.method);
    init.set_headers(&js_headers(&f.headers));
    init.set_redirect(web_sys::RequestRedirect::Manual);
    match &f.body {
        UpstreamBody::Replaced(bytes) => init.set_body(&Uint8Array::from(bytes.as_slice())),
        // A body on GET/HEAD makes the runtime refuse to build the request; it means nothing anyway.
        UpstreamBody::Passthrough if matches!(f.method.as_str(), "GET" | "HEAD") => {}
        UpstreamBody::Passthrough => {
            if let Some(stream) = req.inner().body() {
                init.set_body(&stream);
            }
        }
    }
    let upstream = web_sys::Request::new_with_str_and_init(&f.url, &init).map_err(|e| {
        RouterError::UpstreamUnreachable(format!("cannot build upstream request: {}", js_err(e)))
    })?;
    let controller = AbortController::default();
    let signal = controller.signal();
    let fetch = Fetch::Request(Request::from(upstream));
    let sent = std::pin::pin!(fetch.send_with_signal(&signal));
    let deadline = Delay::from(Duration::from_millis(f.timeout_ms));
    match select(sent, deadline).await {
        Either::Left((Ok(resp), _)) => Ok(resp),
        Either::Left((Err(e), _)) => Err(RouterError::UpstreamUnreachable(e.to_string())),
        Either::Right(_) => {
            controller.abort();
            Err(RouterError::UpstreamTimeout(f.timeout_ms))
        }
    }
}

fn relay(router: &Router, ctx: &RequestCtx, resp: Response) -> worker::Result<Response> {
    let status = resp.status_code();
    // A 101 carries the WebSocket in the response object itself: hand it back untouched.
    if status == 101 || resp.websocket_ref_present() {
        return Ok(resp);
    }
    let headers: Vec<(String, String)> = resp.headers().entries().collect();
    let headers = router.relay_headers(ctx, headers);
    let raw: web_sys::Response = resp.into();
    let init = web_sys::ResponseInit::new();
    init.set_status(status);
    init.set_status_text(&raw.status_text());
    init.set_headers(&js_headers(&headers));
    let body = if null_body_status(status) {
        None
    } else {
        raw.body()
    };
    let out = web_sys::Response::new_with_opt_readable_stream_and_init(body.as_ref(), &init)
        .map_err(|e| worker::Error::JsError(js_err(e)))?;
    Ok(Response::from(out))
}

trait WebSocketProbe {
    fn websocket_ref_present(&self) -> bool;
}

impl WebSocketProbe for Response {
    fn websocket_ref_present(&self) -> bool {
        let raw: &web_sys::Response = &self.into();
        Reflect::get(raw, &JsValue::from_str("webSocket"))
            .is_ok_and(|w| !w.is_null() && !w.is_undefined())
    }
}

#[event(fetch)]
async fn fetch(mut req: Request, env: Env, wctx: Context) -> worker::Result<Response> {
    let head_only = req.inner().method().eq_ignore_ascii_case("HEAD");
    let incoming = match incoming(&req) {
        Ok(i) => i,
        Err(e) => return reply(Router::early_error_reply(&e, "/"), head_only),
    };
    let router = match router(&env) {
        Ok(r) => r,
        Err(e) => {
            worker::console_error!(
                "{}",
                serde_json::json!({"level": "error", "error": e.code(), "message": e.to_string()})
            );
            return reply(Router::early_error_reply(&e, &incoming.path), head_only);
        }
    };
    let handled = router.handle(&incoming, &mut RequestBody(&mut req)).await;
    if let Some(bg) = handled.background {
        wctx.wait_until(bg);
    }
    let mut ctx = handled.ctx;
    let (status, resp) = match handled.action {
        Action::Reply(r) => (r.status, reply(r, head_only)?),
        Action::Forward(f) => match forward(&req, &f).await {
            Ok(resp) => {
                let status = resp.status_code();
                (status, relay(&router, &ctx, resp)?)
            }
            Err(e) => {
                let r = router.error_reply(&mut ctx, &e);
                (r.status, reply(r, head_only)?)
            }
        },
    };
    worker::console_log!("{}", router.log_line(&ctx, status));
    Ok(resp)
}
