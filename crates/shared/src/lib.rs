//! What the router and the admin service both speak, written once: the routing record the
//! directory serves, the platform's reserved labels and slug rules, the plans, the PostgREST error
//! shape, and the HS256 provider behind every token check, and the signed return (router signs, admin reads). Nothing here knows of workerd.

pub mod hs256;
pub mod pg_error;
pub mod plan;
pub mod reserved;
pub mod signed_return;
pub mod slug;
pub mod tenant;
