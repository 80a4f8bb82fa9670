//! The tenant directory: where a host's routing record comes from (SPEC §1.2, §3).
//!
//! Backends implement [`TenantSource`]; the Supabase one sits behind [`cache::DirectoryCache`],
//! the static one is already in memory and needs no cache.

pub mod cache;
pub mod static_map;
pub mod supabase;

use futures::future::LocalBoxFuture;
use thiserror::Error;

use crate::host::HostKind;
use crate::tenant::TenantRecord;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DirectoryError {
    #[error("directory request failed: {0}")]
    Transport(String),
    #[error("directory answered HTTP {0}")]
    Status(u16),
    #[error("directory answer malformed: {0}")]
    Malformed(String),
    #[error("directory lookup timed out")]
    Timeout,
}

pub type LookupResult = Result<Option<TenantRecord>, DirectoryError>;

pub trait TenantSource {
    /// `Ok(None)`: the source knows no tenant for this key.
    fn lookup(&self, key: &HostKind) -> LocalBoxFuture<'static, LookupResult>;
}

/// A record is only accepted for the key it was asked for, so a confused or compromised
/// directory cannot map one tenant's host onto another tenant. A custom domain is any of the
/// record's hostnames (`custom_domain` or `domains`): `resolve_tenant` matches every one of them.
pub fn record_matches(key: &HostKind, record: &TenantRecord) -> bool {
    match key {
        HostKind::Slug(s) => record.slug.eq_ignore_ascii_case(s),
        HostKind::CustomDomain(d) => record.custom_hosts().contains(d),
        HostKind::Platform => false,
    }
}
