//! The signed return lives in the shared crate (`tenant_shared::signed_return`), so the admin
//! service's Send Email hook verifies the very tokens the router signs; re-exported here so the
//! router's paths stay as they were.

pub use tenant_shared::signed_return::*;
