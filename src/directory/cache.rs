//! The in-isolate directory cache: positive and negative entries with their own TTLs, a bounded
//! size, stale-while-refresh, and one lookup in flight per host (single-flight).
//!
//! A Worker isolate serves many requests concurrently on one thread, so state is `Rc`/`RefCell`
//! and never held across an `.await`.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use futures::future::{FutureExt, LocalBoxFuture};

use super::{DirectoryError, LookupResult, TenantSource};
use crate::flight::SingleFlight;
use crate::host::HostKind;
use crate::runtime::{timeout, Runtime};
use crate::tenant::TenantRecord;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheStatus {
    Hit,
    Miss,
    Stale,
    Static,
}

impl CacheStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Hit => "hit",
            Self::Miss => "miss",
            Self::Stale => "stale",
            Self::Static => "static",
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct CachePolicy {
    pub ttl_ms: u64,
    pub negative_ttl_ms: u64,
    pub stale_ms: u64,
    pub max_entries: usize,
    pub lookup_timeout_ms: u64,
}

#[derive(Debug, Clone)]
struct Entry {
    record: Option<TenantRecord>,
    fetched_ms: u64,
}

pub struct Lookup {
    pub record: Option<TenantRecord>,
    pub status: CacheStatus,
    /// Work to hand to `ctx.wait_until`: a refresh of the stale entry just served.
    pub refresh: Option<LocalBoxFuture<'static, ()>>,
}

pub struct DirectoryCache<S> {
    source: S,
    rt: Rc<dyn Runtime>,
    policy: CachePolicy,
    /// Keyed by the whole [`HostKind`]: a slug and a custom domain spelled alike never meet.
    entries: RefCell<HashMap<HostKind, Entry>>,
    flights: SingleFlight<LookupResult, HostKind>,
}

impl<S: TenantSource + 'static> DirectoryCache<S> {
    pub fn new(source: S, rt: Rc<dyn Runtime>, policy: CachePolicy) -> Rc<Self> {
        Rc::new(Self {
            source,
            rt,
            policy,
            entries: RefCell::new(HashMap::new()),
            flights: SingleFlight::default(),
        })
    }

    fn fresh_for(&self, e: &Entry) -> u64 {
        if e.record.is_some() {
            self.policy.ttl_ms
        } else {
            self.policy.negative_ttl_ms
        }
    }

    /// Resolve a host. Errors only when the source fails and nothing usable is cached.
    pub async fn lookup(self: &Rc<Self>, key: &HostKind) -> Result<Lookup, DirectoryError> {
        if *key == HostKind::Platform {
            return Ok(Lookup {
                record: None,
                status: CacheStatus::Hit,
                refresh: None,
            });
        }
        let now = self.rt.now_ms();
        let cached = self.entries.borrow().get(key).cloned();
        if let Some(e) = &cached {
            let age = now.saturating_sub(e.fetched_ms);
            if age < self.fresh_for(e) {
                return Ok(Lookup {
                    record: e.record.clone(),
                    status: CacheStatus::Hit,
                    refresh: None,
                });
            }
            // Only positive entries are served while refreshing: a tenant created a moment ago
            // should not stay "not found" for a whole stale window.
            if e.record.is_some() && age < self.policy.ttl_ms + self.policy.stale_ms {
                let refresh = if self.flights.in_flight(key) {
                    None
                } else {
                    let this = Rc::clone(self);
                    let key = key.clone();
                    Some(
                        async move {
                            let _ = this.fetch(&key).await;
                        }
                        .boxed_local(),
                    )
                };
                return Ok(Lookup {
                    record: e.record.clone(),
                    status: CacheStatus::Stale,
                    refresh,
                });
            }
        }
        match self.fetch(key).await {
            Ok(record) => Ok(Lookup {
                record,
                status: CacheStatus::Miss,
                refresh: None,
            }),
            Err(err) => {
                // Directory down: an entry still inside its stale window beats a 503.
                let now = self.rt.now_ms();
                let usable = self.entries.borrow().get(key).cloned().filter(|e| {
                    now.saturating_sub(e.fetched_ms) < self.fresh_for(e) + self.policy.stale_ms
                });
                match usable {
                    Some(e) => Ok(Lookup {
                        record: e.record,
                        status: CacheStatus::Stale,
                        refresh: None,
                    }),
                    None => Err(err),
                }
            }
        }
    }

    /// Ask the source, once for all concurrent requests of the same host, and remember the answer.
    async fn fetch(&self, key: &HostKind) -> LookupResult {
        let wait_limit = self.policy.lookup_timeout_ms + 1_000;
        self.flights
            .run(
                &*self.rt,
                key,
                wait_limit,
                Err(DirectoryError::Timeout),
                || async {
                    let result = match timeout(
                        &*self.rt,
                        self.policy.lookup_timeout_ms,
                        self.source.lookup(key),
                    )
                    .await
                    {
                        Some(r) => r,
                        None => Err(DirectoryError::Timeout),
                    };
                    if let Ok(record) = &result {
                        self.store(key.clone(), record.clone());
                    }
                    result
                },
            )
            .await
    }

    fn store(&self, key: HostKind, record: Option<TenantRecord>) {
        let now = self.rt.now_ms();
        let mut entries = self.entries.borrow_mut();
        if entries.len() >= self.policy.max_entries && !entries.contains_key(&key) {
            let horizon =
                self.policy.ttl_ms.max(self.policy.negative_ttl_ms) + self.policy.stale_ms;
            entries.retain(|_, e| now.saturating_sub(e.fetched_ms) < horizon);
            if entries.len() >= self.policy.max_entries {
                if let Some(oldest) = entries
                    .iter()
                    .min_by_key(|(_, e)| e.fetched_ms)
                    .map(|(k, _)| k.clone())
                {
                    entries.remove(&oldest);
                }
            }
        }
        entries.insert(
            key,
            Entry {
                record,
                fetched_ms: now,
            },
        );
    }

    #[cfg(all(test, not(target_arch = "wasm32")))]
    fn len(&self) -> usize {
        self.entries.borrow().len()
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use std::cell::Cell;

    use super::*;
    use crate::runtime::testing::ManualClock;

    /// A source that counts calls, can be switched off, and can be made slow.
    struct FakeSource {
        calls: Rc<Cell<u32>>,
        down: Rc<Cell<bool>>,
        delay_ms: u64,
        known: Vec<&'static str>,
    }

    impl TenantSource for FakeSource {
        fn lookup(&self, key: &HostKind) -> LocalBoxFuture<'static, LookupResult> {
            self.calls.set(self.calls.get() + 1);
            let down = self.down.get();
            let delay = self.delay_ms;
            let name = match key {
                HostKind::Slug(s) | HostKind::CustomDomain(s) => Some(s.as_str()),
                HostKind::Platform => None,
            };
            let found = name.filter(|k| self.known.contains(k)).map(|k| {
                serde_json::from_value::<TenantRecord>(serde_json::json!({
                    "id": "11111111-1111-4111-8111-111111111111", "slug": k, "name": k,
                    "status": "active", "signup": "open"
                }))
                .unwrap()
            });
            Box::pin(async move {
                if delay > 0 {
                    tokio::time::sleep(std::time::Duration::from_millis(delay)).await;
                }
                if down {
                    Err(DirectoryError::Transport("down".into()))
                } else {
                    Ok(found)
                }
            })
        }
    }

    struct Harness {
        cache: Rc<DirectoryCache<FakeSource>>,
        clock: Rc<ManualClock>,
        calls: Rc<Cell<u32>>,
        down: Rc<Cell<bool>>,
    }

    fn harness(delay_ms: u64, max_entries: usize) -> Harness {
        let clock = ManualClock::at(1_000_000);
        let calls = Rc::new(Cell::new(0));
        let down = Rc::new(Cell::new(false));
        let source = FakeSource {
            calls: calls.clone(),
            down: down.clone(),
            delay_ms,
            known: vec!["acme", "globex"],
        };
        let policy = CachePolicy {
            ttl_ms: 60_000,
            negative_ttl_ms: 10_000,
            stale_ms: 300_000,
            max_entries,
            lookup_timeout_ms: 200,
        };
        let cache = DirectoryCache::new(source, clock.clone(), policy);
        Harness {
            cache,
            clock,
            calls,
            down,
        }
    }

    fn slug(s: &str) -> HostKind {
        HostKind::Slug(s.into())
    }

    #[tokio::test]
    async fn second_lookup_within_ttl_is_a_hit() {
        let h = harness(0, 100);
        assert_eq!(
            h.cache.lookup(&slug("acme")).await.unwrap().status,
            CacheStatus::Miss
        );
        h.clock.advance(59_000);
        let l = h.cache.lookup(&slug("acme")).await.unwrap();
        assert_eq!(l.status, CacheStatus::Hit);
        assert!(l.record.is_some());
        assert_eq!(h.calls.get(), 1);
    }

    #[tokio::test]
    async fn negative_entries_expire_on_their_own_ttl() {
        let h = harness(0, 100);
        assert!(h
            .cache
            .lookup(&slug("nobody"))
            .await
            .unwrap()
            .record
            .is_none());
        h.clock.advance(9_000);
        assert_eq!(
            h.cache.lookup(&slug("nobody")).await.unwrap().status,
            CacheStatus::Hit
        );
        h.clock.advance(2_000);
        assert_eq!(
            h.cache.lookup(&slug("nobody")).await.unwrap().status,
            CacheStatus::Miss
        );
        assert_eq!(h.calls.get(), 2);
    }

    #[tokio::test]
    async fn expired_entry_is_served_stale_and_refreshed_in_the_background() {
        let h = harness(0, 100);
        h.cache.lookup(&slug("acme")).await.unwrap();
        h.clock.advance(61_000);
        let l = h.cache.lookup(&slug("acme")).await.unwrap();
        assert_eq!(l.status, CacheStatus::Stale);
        assert!(l.record.is_some());
        l.refresh.expect("a refresh to run").await;
        assert_eq!(h.calls.get(), 2);
        assert_eq!(
            h.cache.lookup(&slug("acme")).await.unwrap().status,
            CacheStatus::Hit
        );
    }

    #[tokio::test]
    async fn directory_down_serves_stale_within_the_window_then_fails() {
        let h = harness(0, 100);
        h.cache.lookup(&slug("acme")).await.unwrap();
        h.down.set(true);
        h.clock.advance(61_000);
        let l = h.cache.lookup(&slug("acme")).await.unwrap();
        assert_eq!(l.status, CacheStatus::Stale);
        l.refresh.unwrap().await;
        h.clock.advance(300_000);
        assert!(
            h.cache.lookup(&slug("acme")).await.is_err(),
            "past TTL + stale window nothing is usable"
        );
    }

    #[tokio::test]
    async fn directory_down_with_nothing_cached_is_an_error() {
        let h = harness(0, 100);
        h.down.set(true);
        assert!(h.cache.lookup(&slug("acme")).await.is_err());
    }

    #[tokio::test]
    async fn concurrent_lookups_of_a_new_host_share_one_flight() {
        let h = harness(30, 100);
        let key = slug("acme");
        let lookups: Vec<_> = (0..50).map(|_| h.cache.lookup(&key)).collect();
        let results = futures::future::join_all(lookups).await;
        assert!(results
            .iter()
            .all(|r| r.as_ref().is_ok_and(|l| l.record.is_some())));
        assert_eq!(h.calls.get(), 1);
    }

    #[tokio::test]
    async fn a_slow_directory_times_out() {
        let h = harness(1_000, 100);
        assert_eq!(
            h.cache.lookup(&slug("acme")).await.err(),
            Some(DirectoryError::Timeout)
        );
    }

    /// The directory of the property below: each host kind has its own record, or none.
    struct KeyedSource {
        delay_ms: u64,
    }

    fn record(slug: &str, domain: Option<&str>) -> TenantRecord {
        serde_json::from_value(serde_json::json!({
            "id": "11111111-1111-4111-8111-111111111111", "slug": slug, "name": slug,
            "status": "active", "signup": "open", "custom_domain": domain
        }))
        .unwrap()
    }

    /// What the directory holds for `key`: slugs `acme` and `globex`, domain `crm.globex.test`.
    fn directory_record(key: &HostKind) -> Option<TenantRecord> {
        match key {
            HostKind::Slug(s) if s == "acme" => Some(record("acme", None)),
            HostKind::Slug(s) if s == "globex" => Some(record("globex", Some("crm.globex.test"))),
            HostKind::CustomDomain(d) if d == "crm.globex.test" => {
                Some(record("globex", Some("crm.globex.test")))
            }
            _ => None,
        }
    }

    impl TenantSource for KeyedSource {
        fn lookup(&self, key: &HostKind) -> LocalBoxFuture<'static, LookupResult> {
            let found = directory_record(key);
            let delay = self.delay_ms;
            Box::pin(async move {
                tokio::time::sleep(std::time::Duration::from_millis(delay)).await;
                Ok(found)
            })
        }
    }

    /// Hosts whose keys could collide: a bare slug is a custom-domain lookup of the same text.
    fn keys() -> Vec<HostKind> {
        vec![
            HostKind::Slug("acme".into()),
            HostKind::CustomDomain("acme".into()),
            HostKind::Slug("globex".into()),
            HostKind::CustomDomain("globex".into()),
            HostKind::CustomDomain("crm.globex.test".into()),
            HostKind::Slug("nobody".into()),
        ]
    }

    #[derive(Debug, Clone)]
    enum Op {
        Lookup(usize),
        /// Two lookups at once, so they may meet in flight.
        Concurrent(usize, usize),
        Advance(u64),
    }

    fn op() -> impl proptest::strategy::Strategy<Value = Op> {
        use proptest::prelude::*;
        let n = keys().len();
        prop_oneof![
            (0..n).prop_map(Op::Lookup),
            (0..n, 0..n).prop_map(|(a, b)| Op::Concurrent(a, b)),
            prop_oneof![Just(1_000u64), Just(11_000), Just(61_000), Just(400_000)]
                .prop_map(Op::Advance),
        ]
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig {
            failure_persistence: None,
            ..proptest::prelude::ProptestConfig::with_cases(48)
        })]
        /// For any sequence of requests, the answer for host Y is the directory's record for Y:
        /// no lookup of another host (hit, miss, stale, refresh or in flight) changes it.
        #[test]
        fn the_answer_for_a_host_depends_only_on_its_own_record(
            ops in proptest::collection::vec(op(), 1..24)
        ) {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .build()
                .unwrap();
            rt.block_on(async {
                let clock = ManualClock::at(1_000_000);
                let policy = CachePolicy {
                    ttl_ms: 60_000,
                    negative_ttl_ms: 10_000,
                    stale_ms: 300_000,
                    max_entries: 4,
                    lookup_timeout_ms: 1_000,
                };
                let cache = DirectoryCache::new(KeyedSource { delay_ms: 2 }, clock.clone(), policy);
                let keys = keys();
                // Checks the answer and hands back its background refresh, which `wait_until` would run.
                let check = |key: &HostKind, got: Result<Lookup, DirectoryError>| {
                    let got = got.map(|l| (l.record, l.refresh));
                    let (record, refresh) = match got {
                        Ok((record, refresh)) => (Ok(record), refresh),
                        Err(e) => (Err(e), None),
                    };
                    assert_eq!(record, Ok(directory_record(key)), "answer for {key:?}");
                    refresh
                };
                for op in ops {
                    match op {
                        Op::Lookup(i) => {
                            if let Some(refresh) = check(&keys[i], cache.lookup(&keys[i]).await) {
                                refresh.await;
                            }
                        }
                        Op::Concurrent(a, b) => {
                            let (la, lb) = futures::future::join(
                                cache.lookup(&keys[a]),
                                cache.lookup(&keys[b]),
                            )
                            .await;
                            let refreshes = [check(&keys[a], la), check(&keys[b], lb)];
                            futures::future::join_all(refreshes.into_iter().flatten()).await;
                        }
                        Op::Advance(ms) => clock.advance(ms),
                    }
                }
            });
        }
    }

    #[tokio::test]
    async fn cache_size_is_bounded() {
        let h = harness(0, 3);
        for s in ["a1", "a2", "a3", "a4", "a5"] {
            h.cache.lookup(&slug(s)).await.unwrap();
            h.clock.advance(1);
        }
        assert_eq!(h.cache.len(), 3);
    }
}
