//! tenant-admin: the admin service. Provisioning is a journal in the database (sql/019): the API
//! records it and answers 202, the [`runner`] executes its steps after the answer and the
//! reconciler (Cron Trigger) finishes whatever was cut off. Everything but `edge` knows nothing of
//! workerd and runs natively (tests, and later the `tenantctl` CLI).

pub mod api;
pub mod authz;
pub mod backend;
pub mod config;
pub mod console_api;
pub mod domain_change;
pub mod email_hook;
pub mod email_templates;
pub mod error;
pub mod hook_config;
pub mod hook_error;
pub mod jwks;
pub mod lifecycle;
pub mod mailer;
pub mod metrics;
pub mod probe;
pub mod request;
pub mod runner;
pub mod steps;
pub mod webhook;

#[cfg(target_arch = "wasm32")]
mod edge;
#[cfg(target_arch = "wasm32")]
mod edge_mailer;
