//! The project's JSON Web Key Set: fetched once, selected by `kid`, fetched again for an unknown
//! `kid` at most once per `JWKS_MIN_REFRESH_S`, and refreshed when it grows old. Those rules and
//! the JWKS parsing are shared with the admin service (crates/shared, `jwt`); the fetch is ours.

use std::cell::RefCell;
use std::rc::Rc;

use tenant_shared::jwt::key_set::{KeySet, Plan};

use crate::flight::SingleFlight;
use crate::runtime::{timeout, HttpRequest, Runtime};
use tenant_shared::jwt::JwtAlg;

pub use tenant_shared::jwt::jwk::{parse_jwks, Jwk};
pub use tenant_shared::jwt::key_set::KeyLookup;

const FETCH_TIMEOUT_MS: u64 = 5_000;

pub struct JwksCache {
    url: String,
    rt: Rc<dyn Runtime>,
    min_refresh_ms: u64,
    state: RefCell<KeySet>,
    /// One key set per cache, so one flight: the key is `()`.
    flight: SingleFlight<Result<(), String>, ()>,
}

impl JwksCache {
    pub fn new(url: String, rt: Rc<dyn Runtime>, min_refresh_s: u64) -> Rc<Self> {
        Rc::new(Self {
            url,
            rt,
            min_refresh_ms: min_refresh_s * 1000,
            state: RefCell::new(KeySet::default()),
            flight: SingleFlight::default(),
        })
    }

    pub async fn key(self: &Rc<Self>, alg: JwtAlg, kid: Option<&str>) -> KeyLookup {
        let plan = self
            .state
            .borrow()
            .plan(alg, kid, self.rt.now_ms(), self.min_refresh_ms);
        match plan {
            Plan::Use(k) => KeyLookup::Found(k),
            Plan::Unknown => KeyLookup::Unknown,
            Plan::Fetch => {
                let fetched = self.fetch().await;
                self.state.borrow().after_fetch(alg, kid, fetched)
            }
        }
    }

    async fn fetch(&self) -> Result<(), String> {
        let abandoned = Err("JWKS fetch abandoned".to_string());
        self.flight
            .run(
                &*self.rt,
                &(),
                FETCH_TIMEOUT_MS + 1_000,
                abandoned,
                || async {
                    self.state.borrow_mut().attempted(self.rt.now_ms());
                    let get = get(&*self.rt, &self.url);
                    let keys = match timeout(&*self.rt, FETCH_TIMEOUT_MS, get).await {
                        Some(r) => r.and_then(|body| parse_jwks(&body))?,
                        None => return Err("JWKS fetch timed out".to_string()),
                    };
                    self.state.borrow_mut().store(keys, self.rt.now_ms());
                    Ok(())
                },
            )
            .await
    }

    #[cfg(all(test, not(target_arch = "wasm32")))]
    pub fn preload(&self, keys: Vec<Jwk>) {
        let mut s = self.state.borrow_mut();
        s.store(keys, self.rt.now_ms());
        s.attempted(self.rt.now_ms());
    }
}

async fn get(rt: &dyn Runtime, url: &str) -> Result<Vec<u8>, String> {
    let resp = rt
        .fetch(HttpRequest {
            method: "GET",
            url: url.to_string(),
            headers: Vec::new(),
            body: None,
        })
        .await
        .map_err(|e| format!("JWKS fetch failed: {e}"))?;
    if !(200..300).contains(&resp.status) {
        return Err(format!("JWKS fetch answered HTTP {}", resp.status));
    }
    Ok(resp.body)
}
