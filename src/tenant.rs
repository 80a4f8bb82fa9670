//! The routing record lives in the shared crate (the admin service writes what the router reads).
pub use tenant_shared::tenant::*;
