//! The rules of a cached JWKS, without the fetching: a key is selected by `kid` (or, without one,
//! only when it is the sole key of its algorithm); an unknown `kid` sends the caller to the project
//! again at most once per `min_refresh_ms`; the set is re-read after [`MAX_AGE_MS`] even when every
//! `kid` is known, so a revoked key stops verifying without waiting for a new isolate. The router
//! and the admin each fetch with their own HTTP client and keep a [`KeySet`] per isolate.

use super::jwk::Jwk;
use super::JwtAlg;

pub const MAX_AGE_MS: u64 = 10 * 60 * 1000;
/// `JWKS_MIN_REFRESH_S` when unset, and its largest value.
pub const DEFAULT_MIN_REFRESH_S: u64 = 60;
pub const MAX_MIN_REFRESH_S: u64 = 86_400;

#[derive(Debug, Default)]
pub struct KeySet {
    keys: Vec<Jwk>,
    fetched_ms: Option<u64>,
    last_attempt_ms: Option<u64>,
}

/// What to do for a `(alg, kid)` before any fetch.
#[derive(Debug, PartialEq, Eq)]
pub enum Plan {
    Use(Jwk),
    /// No such key, and it is too soon to ask the project again.
    Unknown,
    /// Fetch the set (call [`KeySet::attempted`], then [`KeySet::store`] on success), then
    /// [`KeySet::after_fetch`].
    Fetch,
}

#[derive(Debug, PartialEq, Eq)]
pub enum KeyLookup {
    Found(Jwk),
    /// No such key, and it is too soon to ask the project again.
    Unknown,
    /// The JWKS could not be fetched and nothing is cached.
    Unavailable(String),
}

impl KeySet {
    pub fn select(&self, alg: JwtAlg, kid: Option<&str>) -> Option<Jwk> {
        let mut of_alg = self.keys.iter().filter(|k| k.alg() == alg);
        match kid {
            Some(kid) => of_alg.find(|k| k.kid() == Some(kid)).cloned(),
            None => {
                let first = of_alg.next().cloned();
                if of_alg.next().is_some() {
                    None
                } else {
                    first
                }
            }
        }
    }

    pub fn plan(&self, alg: JwtAlg, kid: Option<&str>, now_ms: u64, min_refresh_ms: u64) -> Plan {
        let too_old = self
            .fetched_ms
            .is_none_or(|f| now_ms.saturating_sub(f) >= MAX_AGE_MS);
        let may_refetch = self
            .last_attempt_ms
            .is_none_or(|a| now_ms.saturating_sub(a) >= min_refresh_ms);
        if !too_old {
            if let Some(k) = self.select(alg, kid) {
                return Plan::Use(k);
            }
            if !may_refetch {
                return Plan::Unknown;
            }
        } else if self.fetched_ms.is_some() && !may_refetch {
            // Old but refetching is rate-limited: keep trusting what we have.
            return self.select(alg, kid).map_or(Plan::Unknown, Plan::Use);
        }
        Plan::Fetch
    }

    /// A fetch starts now: the rate limit counts attempts, failed ones included.
    pub fn attempted(&mut self, now_ms: u64) {
        self.last_attempt_ms = Some(now_ms);
    }

    pub fn store(&mut self, keys: Vec<Jwk>, now_ms: u64) {
        self.keys = keys;
        self.fetched_ms = Some(now_ms);
    }

    /// The answer once a fetch is over; `fetched` is its outcome.
    pub fn after_fetch(
        &self,
        alg: JwtAlg,
        kid: Option<&str>,
        fetched: Result<(), String>,
    ) -> KeyLookup {
        match (self.select(alg, kid), fetched) {
            (Some(k), _) => KeyLookup::Found(k),
            (None, Err(e)) if self.fetched_ms.is_none() => KeyLookup::Unavailable(e),
            (None, _) => KeyLookup::Unknown,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ec(kid: &str) -> Jwk {
        Jwk::Ec {
            kid: Some(kid.into()),
            x: "x".into(),
            y: kid.into(),
        }
    }

    #[test]
    fn an_unknown_kid_is_fetched_for_at_most_once_per_min_refresh() {
        let mut s = KeySet::default();
        assert_eq!(s.plan(JwtAlg::Es256, Some("a"), 0, 60_000), Plan::Fetch);
        s.attempted(0);
        s.store(vec![ec("a")], 0);
        assert_eq!(
            s.plan(JwtAlg::Es256, Some("a"), 1, 60_000),
            Plan::Use(ec("a"))
        );
        assert_eq!(s.plan(JwtAlg::Rs256, Some("a"), 1, 60_000), Plan::Unknown);
        assert_eq!(
            s.plan(JwtAlg::Es256, Some("b"), 59_999, 60_000),
            Plan::Unknown
        );
        assert_eq!(
            s.plan(JwtAlg::Es256, Some("b"), 60_000, 60_000),
            Plan::Fetch
        );
        assert_eq!(
            s.plan(JwtAlg::Es256, Some("a"), MAX_AGE_MS, 60_000),
            Plan::Fetch
        );
        assert_eq!(
            s.after_fetch(JwtAlg::Es256, Some("b"), Err("down".into())),
            KeyLookup::Unknown
        );
        assert_eq!(
            KeySet::default().after_fetch(JwtAlg::Es256, None, Err("down".into())),
            KeyLookup::Unavailable("down".into())
        );
    }

    #[test]
    fn without_a_kid_only_a_sole_key_is_chosen() {
        let mut s = KeySet::default();
        s.store(vec![ec("a")], 0);
        assert_eq!(s.select(JwtAlg::Es256, None), Some(ec("a")));
        s.store(vec![ec("a"), ec("b")], 0);
        assert_eq!(s.select(JwtAlg::Es256, None), None);
    }
}
