//! The crypto behind JWT checks.
//!
//! jsonwebtoken's own providers pull in ring or the whole RustCrypto stack (~250 KB gzipped in
//! wasm). Ours only does HMAC-SHA256 in Rust, which is fast in wasm; ES256/RS256 go through an
//! asynchronous [`SignatureVerifier`]: WebCrypto inside workerd, RustCrypto natively.

use futures::future::LocalBoxFuture;

use super::jwks::Jwk;
use crate::config::JwtAlg;

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
    //! RustCrypto verification for native builds and tests.

    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
    use base64::Engine;

    #[derive(Default)]
    pub struct RustCryptoVerifier;

    fn check(alg: JwtAlg, key: &Jwk, message: &[u8], signature: &[u8]) -> Result<bool, String> {
        match (alg, key) {
            (JwtAlg::Es256, Jwk::Ec { x, y, .. }) => {
                use p256::ecdsa::signature::Verifier as _;
                let x = B64.decode(x).map_err(|e| e.to_string())?;
                let y = B64.decode(y).map_err(|e| e.to_string())?;
                let mut sec1 = vec![4u8];
                sec1.extend_from_slice(&x);
                sec1.extend_from_slice(&y);
                let vk =
                    p256::ecdsa::VerifyingKey::from_sec1_bytes(&sec1).map_err(|e| e.to_string())?;
                let Ok(sig) = p256::ecdsa::Signature::from_slice(signature) else {
                    return Ok(false);
                };
                Ok(vk.verify(message, &sig).is_ok())
            }
            (JwtAlg::Rs256, Jwk::Rsa { n, e, .. }) => {
                use rsa::signature::Verifier as _;
                let n = rsa::BigUint::from_bytes_be(&B64.decode(n).map_err(|e| e.to_string())?);
                let e = rsa::BigUint::from_bytes_be(&B64.decode(e).map_err(|e| e.to_string())?);
                let pk = rsa::RsaPublicKey::new(n, e).map_err(|e| e.to_string())?;
                let vk = rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new(pk);
                let Ok(sig) = rsa::pkcs1v15::Signature::try_from(signature) else {
                    return Ok(false);
                };
                Ok(vk.verify(message, &sig).is_ok())
            }
            _ => Err("key type does not match the algorithm".into()),
        }
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
