//! The crypto behind JWT checks.
//!
//! jsonwebtoken's own providers pull in ring or the whole RustCrypto stack (~250 KB gzipped in
//! wasm). Ours only does HMAC-SHA256 in Rust, which is fast in wasm; ES256/RS256 go through an
//! asynchronous [`SignatureVerifier`]: WebCrypto inside workerd, RustCrypto natively.

use futures::future::LocalBoxFuture;

use super::jwks::Jwk;
use tenant_shared::jwt::JwtAlg;

/// Install the shared HS256 provider (crates/shared) as jsonwebtoken's process default.
pub fn install() {
    tenant_shared::hs256::install();
}

/// Checks an asymmetric JWS signature. Async because WebCrypto is.
pub trait SignatureVerifier {
    /// `Ok(false)`: the signature does not match; `Err`: the key could not be used.
    fn verify<'a>(
        &'a self,
        alg: JwtAlg,
        key: &'a Jwk,
        message: &'a [u8],
        signature: &'a [u8],
    ) -> LocalBoxFuture<'a, Result<bool, String>>;
}

#[cfg(not(target_arch = "wasm32"))]
pub mod native {
    //! RustCrypto verification for native builds and tests: the shared check (crates/shared).

    use super::*;

    #[derive(Default)]
    pub struct RustCryptoVerifier;

    fn check(alg: JwtAlg, key: &Jwk, message: &[u8], signature: &[u8]) -> Result<bool, String> {
        tenant_shared::jwt::rustcrypto::verify(alg, key, message, signature)
    }

    impl SignatureVerifier for RustCryptoVerifier {
        fn verify<'a>(
            &'a self,
            alg: JwtAlg,
            key: &'a Jwk,
            message: &'a [u8],
            signature: &'a [u8],
        ) -> LocalBoxFuture<'a, Result<bool, String>> {
            Box::pin(async move { check(alg, key, message, signature) })
        }
    }
}
