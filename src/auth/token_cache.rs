//! Tokens already verified, kept until their `exp` (PostgREST keeps such a cache for the same
//! reason): a browser sends the same access token on every request for up to an hour, and an
//! ES256 check costs far more than a map lookup.
//!
//! Keyed by the exact token text (never a hash of it: a collision would hand one caller another's
//! claims). A lookup borrows the token, so a hit allocates nothing. When full, the oldest entry
//! goes first, in O(1): a stream of fresh tokens must not make every insert scan the whole cache.

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::rc::Rc;

use super::Claims;

struct Entry {
    project: Rc<str>,
    claims: Rc<Claims>,
    /// Insertion number: a queued key only evicts the entry it was queued for.
    seq: u64,
}

pub struct TokenCache {
    max_entries: usize,
    inner: RefCell<Inner>,
}

#[derive(Default)]
struct Inner {
    entries: HashMap<Rc<str>, Entry>,
    /// Insertion order. May hold keys of entries already dropped as expired, or since inserted
    /// again under a newer number; such keys are skipped when reached.
    order: VecDeque<(u64, Rc<str>)>,
    next_seq: u64,
}

impl TokenCache {
    pub fn new(max_entries: usize) -> Self {
        Self {
            max_entries: max_entries.max(1),
            inner: RefCell::new(Inner::default()),
        }
    }

    /// A hit only for the same project and while the claims are still valid at `now_s`;
    /// an expired entry is dropped.
    pub fn get(&self, project: &str, token: &str, now_s: f64) -> Option<Rc<Claims>> {
        let mut inner = self.inner.borrow_mut();
        let entry = inner.entries.get(token)?;
        if &*entry.project != project {
            return None;
        }
        if entry.claims.valid_at(now_s).is_ok() {
            return Some(entry.claims.clone());
        }
        inner.entries.remove(token);
        None
    }

    pub fn put(&self, project: &str, token: &str, claims: Rc<Claims>) {
        let mut inner = self.inner.borrow_mut();
        let inner = &mut *inner;
        if let Some(e) = inner.entries.get_mut(token) {
            e.project = project.into();
            e.claims = claims;
            return;
        }
        while inner.entries.len() >= self.max_entries {
            let Some((seq, oldest)) = inner.order.pop_front() else {
                break;
            };
            if inner.entries.get(&oldest).is_some_and(|e| e.seq == seq) {
                inner.entries.remove(&oldest);
            }
        }
        // Keys of entries that expired in place pile up in `order`; shed them before it grows
        // past twice the cache.
        if inner.order.len() >= 2 * self.max_entries {
            let entries = &inner.entries;
            inner
                .order
                .retain(|(seq, k)| entries.get(k).is_some_and(|e| e.seq == *seq));
        }
        let seq = inner.next_seq;
        inner.next_seq += 1;
        let key: Rc<str> = token.into();
        inner.order.push_back((seq, key.clone()));
        inner.entries.insert(
            key,
            Entry {
                project: project.into(),
                claims,
                seq,
            },
        );
    }

    pub fn len(&self) -> usize {
        self.inner.borrow().entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    fn claims(exp: f64) -> Rc<Claims> {
        Rc::new(Claims {
            exp: Some(exp),
            nbf: None,
            iss: None,
            aud: None,
            sub: Some("u".into()),
            role: Some("authenticated".into()),
            tenant_ids: None,
        })
    }

    #[test]
    fn a_token_verified_for_one_project_is_not_a_hit_for_another() {
        let c = TokenCache::new(8);
        c.put("main", "tok", claims(1000.0));
        assert!(c.get("main", "tok", 10.0).is_some());
        assert!(c.get("eu", "tok", 10.0).is_none());
    }

    #[test]
    fn an_expired_entry_is_a_miss_and_is_dropped() {
        let c = TokenCache::new(8);
        c.put("main", "tok", claims(100.0));
        assert!(c
            .get("main", "tok", 100.0 + crate::auth::LEEWAY_S + 1.0)
            .is_none());
        assert_eq!(c.len(), 0);
    }

    #[test]
    fn a_full_cache_forgets_its_oldest_token_first() {
        let c = TokenCache::new(3);
        for t in ["a", "b", "c", "d"] {
            c.put("main", t, claims(1000.0));
        }
        assert_eq!(c.len(), 3);
        assert!(c.get("main", "a", 10.0).is_none());
        for t in ["b", "c", "d"] {
            assert!(c.get("main", t, 10.0).is_some(), "{t} kept");
        }
    }

    #[test]
    fn a_token_cached_again_after_expiring_is_not_evicted_before_older_ones() {
        let c = TokenCache::new(3);
        c.put("main", "a", claims(100.0));
        assert!(c.get("main", "a", 1000.0).is_none());
        c.put("main", "b", claims(5000.0));
        c.put("main", "c", claims(5000.0));
        c.put("main", "a", claims(5000.0));
        c.put("main", "d", claims(5000.0));
        assert!(
            c.get("main", "b", 1000.0).is_none(),
            "b is the oldest live entry"
        );
        for t in ["a", "c", "d"] {
            assert!(c.get("main", t, 1000.0).is_some(), "{t} kept");
        }
    }

    #[test]
    fn keys_of_expired_entries_do_not_grow_the_order_queue_without_bound() {
        let c = TokenCache::new(4);
        for i in 0..1000 {
            let t = format!("t{i}");
            c.put("main", &t, claims(100.0));
            // Expire it in place, leaving its key behind in the order queue.
            assert!(c.get("main", &t, 1000.0).is_none());
        }
        assert!(c.inner.borrow().order.len() <= 8);
        assert_eq!(c.len(), 0);
    }

    #[test]
    fn many_fresh_tokens_keep_the_cache_at_its_bound() {
        let c = TokenCache::new(64);
        for i in 0..10_000 {
            c.put("main", &format!("t{i}"), claims(1000.0));
        }
        assert_eq!(c.len(), 64);
        assert!(c.inner.borrow().order.len() <= 128);
        assert!(c.get("main", "t9999", 10.0).is_some());
    }
}
