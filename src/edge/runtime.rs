//! The core's [`Runtime`] in workerd: `Date.now`, `setTimeout` and `fetch` for the router's own
//! requests (the directory RPC, the JWKS).

use futures::future::LocalBoxFuture;
use js_sys::Uint8Array;
use wasm_bindgen::{JsCast, JsValue};

use super::headers;
use super::js::{global_scope, js_err};
use super::promises::{Awaited, Sleep};
use crate::runtime::{HttpRequest, HttpResponse, Runtime};

pub struct JsRuntime;

impl Runtime for JsRuntime {
    fn now_ms(&self) -> u64 {
        js_sys::Date::now() as u64
    }
    fn sleep(&self, ms: u64) -> LocalBoxFuture<'static, ()> {
        Box::pin(Sleep::new(ms))
    }
    fn fetch(&self, req: HttpRequest) -> LocalBoxFuture<'static, Result<HttpResponse, String>> {
        Box::pin(async move {
            let init = web_sys::RequestInit::new();
            init.set_method(req.method);
            init.set_headers(&headers::list(&req.headers));
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
