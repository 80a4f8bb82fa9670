//! ES256/RS256 signatures checked by the runtime's WebCrypto. Keys are imported once per isolate;
//! the `SubtleCrypto` handle and the algorithm parameter objects are made once too, since every
//! object handed across the boundary costs more than the map lookup that finds it.

use std::cell::{OnceCell, RefCell};
use std::collections::HashMap;

use futures::future::LocalBoxFuture;
use js_sys::{Object, Reflect};
use tenant_shared::jwt::JwtAlg;
use wasm_bindgen::{JsCast, JsValue};

use super::js::{js_err, object};
use super::promises::Awaited;
use crate::auth::crypto::SignatureVerifier;
use crate::auth::jwks::Jwk;

#[derive(Default)]
pub struct WebCryptoVerifier {
    keys: RefCell<HashMap<String, web_sys::CryptoKey>>,
    subtle: OnceCell<web_sys::SubtleCrypto>,
    ecdsa_sha256: OnceCell<Object>,
    rsa_pkcs1: OnceCell<Object>,
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
