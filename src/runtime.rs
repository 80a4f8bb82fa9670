//! The little the core needs from its host runtime: a clock and a timer.
//!
//! workerd provides them through JS (`Date.now`, `setTimeout`), native tests through tokio; the
//! core stays free of both.

use std::future::Future;

use futures::future::{select, Either, LocalBoxFuture};

pub trait Runtime {
    /// Milliseconds since the Unix epoch.
    fn now_ms(&self) -> u64;
    fn sleep(&self, ms: u64) -> LocalBoxFuture<'static, ()>;
}

/// `None` when `ms` passed before `fut` finished.
pub async fn timeout<F: Future>(rt: &dyn Runtime, ms: u64, fut: F) -> Option<F::Output> {
    let fut = std::pin::pin!(fut);
    match select(fut, rt.sleep(ms)).await {
        Either::Left((out, _)) => Some(out),
        Either::Right(_) => None,
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
pub(crate) mod testing {
    use std::cell::Cell;
    use std::rc::Rc;

    use super::*;

    /// A clock the test moves by hand; sleeps are real tokio sleeps so timeouts can fire.
    #[derive(Default)]
    pub struct ManualClock {
        pub now: Cell<u64>,
    }

    impl ManualClock {
        pub fn at(ms: u64) -> Rc<Self> {
            Rc::new(Self { now: Cell::new(ms) })
        }
        pub fn advance(&self, ms: u64) {
            self.now.set(self.now.get() + ms);
        }
    }

    /// Wall-clock time, for tests where waiting is real.
    pub struct RealClock;

    impl Runtime for RealClock {
        fn now_ms(&self) -> u64 {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis() as u64)
                .unwrap_or(0)
        }
        fn sleep(&self, ms: u64) -> LocalBoxFuture<'static, ()> {
            Box::pin(tokio::time::sleep(std::time::Duration::from_millis(ms)))
        }
    }

    impl Runtime for ManualClock {
        fn now_ms(&self) -> u64 {
            self.now.get()
        }
        fn sleep(&self, ms: u64) -> LocalBoxFuture<'static, ()> {
            Box::pin(tokio::time::sleep(std::time::Duration::from_millis(ms)))
        }
    }
}
