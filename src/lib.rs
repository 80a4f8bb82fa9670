//! tenant-router: an edge tenant router for multi-tenant SaaS on Supabase.
//!
//! The core (everything but `edge`) knows nothing of workerd and is tested natively. The request
//! pipeline lives in [`pipeline`], one method per phase; `edge` carries it out in workerd.

pub mod auth;
pub mod config;
pub mod cors;
pub mod directory;
pub mod error;
pub mod flight;
pub mod host;
pub mod log;
pub mod metrics;
pub mod pipeline;
#[cfg(all(not(target_arch = "wasm32"), any(test, feature = "fuzzing")))]
pub mod properties;
pub mod proxy;
pub mod reply;
pub mod request;
pub mod route;
pub mod runtime;
pub mod signed_return;
pub mod slots;
pub mod tenant;

#[cfg(target_arch = "wasm32")]
mod edge;
