//! The runtime-independent half of JWT verification, one implementation for the router and the
//! admin service: the algorithm policy, the header (with `crit` refused), the JWKS and its refresh
//! rules, the time and audience checks. Signatures are checked by each Worker (the router with
//! WebCrypto in workerd, the admin with RustCrypto), because that half depends on the runtime.

pub mod alg;
pub mod claims;
pub mod header;
pub mod jwk;
pub mod key_set;
#[cfg(feature = "rustcrypto")]
pub mod rustcrypto;

pub use alg::JwtAlg;
