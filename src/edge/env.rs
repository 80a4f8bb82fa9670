//! The Worker's vars and secrets, read once per isolate into the [`Router`].

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::Reflect;
use wasm_bindgen::JsValue;
use worker::Env;

use super::runtime::JsRuntime;
use super::webcrypto::WebCryptoVerifier;
use crate::config::{Config, VarSource};
use crate::error::RouterError;
use crate::pipeline::Router;

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

thread_local! {
    /// Parsed once per isolate: vars and secrets do not change under a running isolate.
    static ROUTER: RefCell<Option<Result<Rc<Router>, RouterError>>> = const { RefCell::new(None) };
}

pub fn router(env: &Env) -> Result<Rc<Router>, RouterError> {
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
