//! What the router and the admin service both speak, written once: the routing record the
//! directory serves, the platform's reserved labels and slug rules, the plans, the PostgREST error
//! shape, the HS256 provider and the runtime-independent half of every token check (`jwt`), and the
//! signed return (the router signs, the admin reads). Nothing here knows of workerd.

pub mod hs256;
pub mod html;
pub mod jwt;
pub mod metrics;
pub mod pg_error;
pub mod plan;
pub mod reserved;
pub mod signed_return;
pub mod slug;
pub mod tenant;
pub mod time;
