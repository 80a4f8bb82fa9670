//! Tokens already verified, kept until their `exp` (PostgREST keeps such a cache for the same
//! reason): a browser sends the same access token on every request for up to an hour, and an
//! ES256 check costs far more than a map lookup.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use super::Claims;

pub struct TokenCache {
    max_entries: usize,
    entries: RefCell<HashMap<(String, String), Rc<Claims>>>,
}

impl TokenCache {
    pub fn new(max_entries: usize) -> Self {
        Self {
            max_entries,
            entries: RefCell::new(HashMap::new()),
        }
    }

    /// A hit only while the claims are still valid at `now_s`; expired entries are dropped.
    pub fn get(&self, project: &str, token: &str, now_s: f64) -> Option<Rc<Claims>> {
        let key = (project.to_string(), token.to_string());
        let hit = self.entries.borrow().get(&key).cloned()?;
        if hit.valid_at(now_s).is_ok() {
            Some(hit)
        } else {
            self.entries.borrow_mut().remove(&key);
            None
        }
    }

    pub fn put(&self, project: &str, token: &str, claims: Rc<Claims>, now_s: f64) {
        let mut entries = self.entries.borrow_mut();
        if entries.len() >= self.max_entries {
            entries.retain(|_, c| c.valid_at(now_s).is_ok());
            if entries.len() >= self.max_entries {
                // Still full of live tokens: forget the one expiring first.
                if let Some(k) = entries
                    .iter()
                    .min_by(|a, b| a.1.exp.unwrap_or(0.0).total_cmp(&b.1.exp.unwrap_or(0.0)))
                    .map(|(k, _)| k.clone())
                {
                    entries.remove(&k);
                }
            }
        }
        entries.insert((project.to_string(), token.to_string()), claims);
    }

    pub fn len(&self) -> usize {
        self.entries.borrow().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
