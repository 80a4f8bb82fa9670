//! One lookup in flight per key, shared by every request that wants the same answer.
//!
//! A plain `Shared` future does not work inside workerd: whichever request polls it drives the
//! leader's fetch, and workerd forbids touching one request's I/O from another ("Cannot perform
//! I/O on behalf of a different request"), or cancels a waiter that has no I/O of its own ("code
//! had hung"). So only the leader runs the work; waiters poll a result slot on their own timer.

use std::cell::RefCell;
use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::rc::Rc;

use crate::runtime::Runtime;

const WAIT_TICK_MS: u64 = 5;

type Slot<V> = Rc<RefCell<Option<V>>>;

/// Keyed by `K`: callers that must never share an answer must never share a key, so the key is
/// the whole question (the directory's [`crate::host::HostKind`], not the text inside it).
pub struct SingleFlight<V, K = String> {
    slots: RefCell<HashMap<K, Slot<V>>>,
}

impl<V, K> Default for SingleFlight<V, K> {
    fn default() -> Self {
        Self {
            slots: RefCell::new(HashMap::new()),
        }
    }
}

/// Fills the slot with `abandoned` if the leader is dropped before finishing (its request was
/// cancelled), so waiters are not left waiting for an answer that will never come.
struct LeaderGuard<'a, V: Clone, K: Hash + Eq> {
    flight: &'a SingleFlight<V, K>,
    key: &'a K,
    slot: Slot<V>,
    abandoned: Option<V>,
}

impl<V: Clone, K: Hash + Eq> Drop for LeaderGuard<'_, V, K> {
    fn drop(&mut self) {
        if let Some(v) = self.abandoned.take() {
            self.slot.borrow_mut().get_or_insert(v);
            self.flight.slots.borrow_mut().remove(self.key);
        }
    }
}

impl<V: Clone, K: Hash + Eq + Clone> SingleFlight<V, K> {
    pub fn in_flight(&self, key: &K) -> bool {
        self.slots.borrow().contains_key(key)
    }

    /// Run `work` unless the same key is already in flight, in which case wait (at most
    /// `wait_limit_ms`, then `abandoned`) for the leader's result.
    pub async fn run<F, W>(
        &self,
        rt: &dyn Runtime,
        key: &K,
        wait_limit_ms: u64,
        abandoned: V,
        work: W,
    ) -> V
    where
        W: FnOnce() -> F,
        F: Future<Output = V>,
    {
        let existing = self.slots.borrow().get(key).cloned();
        if let Some(slot) = existing {
            let deadline = rt.now_ms() + wait_limit_ms;
            loop {
                if let Some(v) = slot.borrow().clone() {
                    return v;
                }
                if rt.now_ms() >= deadline {
                    return abandoned;
                }
                rt.sleep(WAIT_TICK_MS).await;
            }
        }
        let slot: Slot<V> = Rc::new(RefCell::new(None));
        self.slots.borrow_mut().insert(key.clone(), slot.clone());
        let mut guard = LeaderGuard {
            flight: self,
            key,
            slot: slot.clone(),
            abandoned: Some(abandoned),
        };
        let v = work().await;
        *slot.borrow_mut() = Some(v.clone());
        self.slots.borrow_mut().remove(key);
        guard.abandoned = None;
        v
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use std::cell::Cell;

    use super::*;
    use crate::runtime::testing::RealClock;

    #[tokio::test]
    async fn concurrent_callers_share_one_run() {
        let rt = RealClock;
        let flight = SingleFlight::<u32>::default();
        let k = "k".to_string();
        let runs = Cell::new(0);
        let call = || {
            flight.run(&rt, &k, 1_000, 0, || async {
                runs.set(runs.get() + 1);
                tokio::time::sleep(std::time::Duration::from_millis(30)).await;
                7
            })
        };
        let out = futures::future::join_all((0..10).map(|_| call())).await;
        assert!(out.iter().all(|v| *v == 7));
        assert_eq!(runs.get(), 1);
        assert!(!flight.in_flight(&k));
    }

    #[tokio::test]
    async fn waiters_get_the_abandoned_value_when_the_leader_is_dropped() {
        let rt = RealClock;
        let flight = SingleFlight::<u32>::default();
        let k = "k".to_string();
        let leader = flight.run(&rt, &k, 1_000, 99, || async {
            tokio::time::sleep(std::time::Duration::from_secs(10)).await;
            1
        });
        let mut leader = Box::pin(leader);
        assert!(
            futures::poll!(&mut leader).is_pending(),
            "the leader registers the key"
        );
        let mut waiter = Box::pin(flight.run(&rt, &k, 1_000, 98, || async { 2 }));
        assert!(
            futures::poll!(&mut waiter).is_pending(),
            "the second caller waits"
        );
        drop(leader);
        assert_eq!(waiter.await, 99, "the waiter sees the leader's abandonment");
        assert!(!flight.in_flight(&k));
    }

    #[tokio::test]
    async fn waiters_give_up_after_their_limit() {
        let rt = RealClock;
        let flight = SingleFlight::<u32>::default();
        let k = "k".to_string();
        let leader = flight.run(&rt, &k, 50, 0, || async {
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
            1
        });
        let waiter = flight.run(&rt, &k, 50, 5, || async { 2 });
        let (l, w) = futures::future::join(leader, waiter).await;
        assert_eq!((l, w), (1, 5));
    }
}
