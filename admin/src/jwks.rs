//! The project's JWKS for operators' ES256/RS256 tokens, fetched through the admin's [`Backend`]
//! (`GET <SUPABASE_URL>/auth/v1/.well-known/jwks.json`) and kept per isolate. Which key, and when to
//! ask again, are the router's rules (crates/shared, `jwt::key_set`); only the fetch is ours.

use std::cell::RefCell;
use std::collections::HashMap;

use tenant_shared::jwt::jwk::parse_jwks;
use tenant_shared::jwt::key_set::{KeyLookup, KeySet, Plan};
use tenant_shared::jwt::JwtAlg;

use crate::backend::{call, Backend, Service};
use crate::config::AdminConfig;

pub const JWKS_PATH: &str = "/.well-known/jwks.json";

thread_local! {
    /// One key set per project URL; an isolate is one thread, so this is the isolate's cache.
    static KEY_SETS: RefCell<HashMap<String, KeySet>> = RefCell::new(HashMap::new());
}

fn with_set<T>(url: &str, f: impl FnOnce(&mut KeySet) -> T) -> T {
    KEY_SETS.with(|sets| f(sets.borrow_mut().entry(url.to_string()).or_default()))
}

fn now_ms(b: &dyn Backend) -> u64 {
    (b.now_s() * 1000.0).max(0.0) as u64
}

/// The key that may check a token of `alg` with `kid`.
pub async fn key(b: &dyn Backend, cfg: &AdminConfig, alg: JwtAlg, kid: Option<&str>) -> KeyLookup {
    let url = cfg.supabase_url.as_str();
    let min_refresh_ms = cfg.jwks_min_refresh_s.saturating_mul(1000);
    let now = now_ms(b);
    match with_set(url, |s| s.plan(alg, kid, now, min_refresh_ms)) {
        Plan::Use(k) => return KeyLookup::Found(k),
        Plan::Unknown => return KeyLookup::Unknown,
        Plan::Fetch => {}
    }
    with_set(url, |s| s.attempted(now));
    let fetched = match call(b, Service::Auth, "GET", JWKS_PATH, None).await {
        Ok(body) => serde_json::to_vec(&body)
            .map_err(|e| e.to_string())
            .and_then(|bytes| parse_jwks(&bytes)),
        Err(e) => Err(crate::backend::cause(&e)),
    };
    let done = now_ms(b);
    with_set(url, |s| {
        let outcome = fetched.map(|keys| s.store(keys, done));
        s.after_fetch(alg, kid, outcome)
    })
}
