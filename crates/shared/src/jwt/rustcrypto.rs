//! ES256/RS256 signatures checked in pure Rust (RustCrypto's `p256` and `rsa`), behind the
//! `rustcrypto` feature. The router uses it natively only (in workerd it asks WebCrypto, which keeps
//! this out of its size-gated bundle); the admin service uses it natively and in its wasm, where a
//! synchronous check is simpler than a WebCrypto bridge and the admin's 1 MiB gate has the room.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;

use super::jwk::Jwk;
use super::JwtAlg;

/// `Ok(false)`: the signature does not match; `Err`: the key could not be used (or does not fit
/// the algorithm: an RSA key never checks an ES256 token, nor the reverse).
pub fn verify(alg: JwtAlg, key: &Jwk, message: &[u8], signature: &[u8]) -> Result<bool, String> {
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
