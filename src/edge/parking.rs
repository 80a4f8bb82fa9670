//! The one place a request's state waits while the runtime works for it: a task's future between
//! polls, and the outcome of each promise or timer a task awaits. One table, one key type per kind
//! of entry, one sweep.
//!
//! The runtime gets functions made once per isolate with a key bound in ([`super::js::bound`]);
//! a key carries its entry's generation, so a callback that comes late, after its entry was freed
//! and reused, finds nothing ([`crate::slots`]).
//!
//! The borrow rule ("never hold the table across a wake, a poll or a drop of a future") is kept by
//! this module's shape rather than by its callers: the table is private, every function here
//! borrows it for its own body only, and whatever leaves the table — a waker to wake, a future to
//! poll, swept tasks to drop (whose futures free their own promise entries) — is handed back and
//! used after the borrow ends.

use std::cell::RefCell;
use std::task::{Poll, Waker};

use futures::future::LocalBoxFuture;
use wasm_bindgen::JsValue;

use crate::slots::{Key, Slots};

/// What a settled promise gave: its value, or its rejection.
pub type Settled = Result<JsValue, JsValue>;

/// A request's future, run by [`super::executor`].
pub type TaskFuture = LocalBoxFuture<'static, JsValue>;

/// Where a task is parked. Only the executor makes one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskKey(pub(super) Key);

/// Where an awaited promise's outcome will land. Only [`super::promises`] makes one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PromiseKey(pub(super) Key);

enum Parked {
    Promise {
        outcome: Option<Settled>,
        waker: Option<Waker>,
    },
    Task {
        /// `None` while the task is being polled.
        future: Option<TaskFuture>,
        /// Resolves the promise workerd holds; `None` until the first poll returns pending.
        resolve: Option<js_sys::Function>,
        parked_ms: f64,
    },
}

/// From this many parked entries on, parking a task first frees abandoned ones.
const SWEEP_AT: usize = 1024;
/// A task parked this long belongs to a request workerd tore down (its client went away, or the
/// runtime cancelled it): every wait of a live request is bounded far below this (the directory
/// lookup, the JWKS, the upstream's deadline for its headers).
pub const ABANDONED_AFTER_MS: f64 = 10.0 * 60.0 * 1000.0;

thread_local! {
    static TABLE: RefCell<Slots<Parked>> = RefCell::new(Slots::default());
}

fn with<R>(f: impl FnOnce(&mut Slots<Parked>) -> R) -> R {
    TABLE.with(|t| f(&mut t.borrow_mut()))
}

/// An entry for one awaited promise, nothing settled yet.
pub fn park_promise() -> PromiseKey {
    PromiseKey(with(|t| {
        t.insert(Parked::Promise {
            outcome: None,
            waker: None,
        })
    }))
}

/// The promise under `key` settled: its outcome is kept, and the task that awaits it is returned
/// to be woken by the caller. A stale key (its future was dropped) finds nothing.
#[must_use = "the waker must be woken"]
pub fn settle(key: PromiseKey, settled: Settled) -> Option<Waker> {
    with(|t| match t.get_mut(key.0) {
        Some(Parked::Promise { outcome, waker }) => {
            *outcome = Some(settled);
            waker.take()
        }
        _ => None,
    })
}

/// The outcome, once (its entry is freed), or `Pending` with `waker` kept for the settlement.
/// `None` when the entry is gone: swept, or a key that was never this kind.
pub fn poll_promise(key: PromiseKey, waker: &Waker) -> Option<Poll<Settled>> {
    let (poll, old_waker) = with(|t| {
        let Some(Parked::Promise { outcome, waker: w }) = t.get_mut(key.0) else {
            return (None, None);
        };
        match outcome.take() {
            Some(o) => {
                let freed = t.take(key.0);
                (Some(Poll::Ready(o)), freed.and_then(Parked::into_waker))
            }
            None => (Some(Poll::Pending), w.replace(waker.clone())),
        }
    });
    drop(old_waker);
    poll
}

/// The awaiting future is gone: its entry is freed, and a late settlement finds nothing.
pub fn forget_promise(key: PromiseKey) {
    let freed = with(|t| match t.get_mut(key.0) {
        Some(Parked::Promise { .. }) => t.take(key.0),
        _ => None,
    });
    drop(freed);
}

/// A new task's entry, before its first poll (which needs the key for its waker).
pub fn park_task(now_ms: f64) -> TaskKey {
    let swept = with(|t| {
        let swept = if t.len() >= SWEEP_AT {
            take_abandoned(t, now_ms)
        } else {
            Vec::new()
        };
        let key = t.insert(Parked::Task {
            future: None,
            resolve: None,
            parked_ms: now_ms,
        });
        (key, swept)
    });
    // Dropped here, after the borrow: a swept future frees its own promise entries.
    let (key, swept) = swept;
    drop(swept);
    TaskKey(key)
}

/// The task's future, to be polled; `None` when it is being polled already or is gone.
pub fn take_future(key: TaskKey) -> Option<TaskFuture> {
    with(|t| match t.get_mut(key.0) {
        Some(Parked::Task { future, .. }) => future.take(),
        _ => None,
    })
}

/// The task polled pending: its future waits here. `resolve` is set on the first pending poll.
/// Returns the future back when the entry is gone (swept while polled), for the caller to drop.
#[must_use = "a future handed back must be dropped outside the table"]
pub fn keep_future(
    key: TaskKey,
    f: TaskFuture,
    resolve_with: Option<js_sys::Function>,
) -> Option<TaskFuture> {
    with(|t| match t.get_mut(key.0) {
        Some(Parked::Task {
            future, resolve, ..
        }) => {
            *future = Some(f);
            if resolve_with.is_some() {
                *resolve = resolve_with;
            }
            None
        }
        _ => Some(f),
    })
}

/// The task finished: its entry is freed; the function resolving workerd's promise, if any.
pub fn end_task(key: TaskKey) -> Option<js_sys::Function> {
    with(|t| match t.get_mut(key.0) {
        Some(Parked::Task { .. }) => match t.take(key.0) {
            Some(Parked::Task { resolve, .. }) => resolve,
            _ => None,
        },
        _ => None,
    })
}

#[cfg(feature = "machinery")]
/// Frees every task parked longer than [`ABANDONED_AFTER_MS`] before `now_ms`, and the promise
/// entries their futures held; returns how many tasks.
pub fn sweep(now_ms: f64) -> usize {
    let swept = with(|t| take_abandoned(t, now_ms));
    let n = swept.len();
    drop(swept);
    n
}

fn take_abandoned(t: &mut Slots<Parked>, now_ms: f64) -> Vec<Parked> {
    t.take_where(
        |p| matches!(p, Parked::Task { parked_ms, .. } if now_ms - parked_ms > ABANDONED_AFTER_MS),
    )
}

#[cfg(feature = "machinery")]
/// Parked promises and tasks: what the machinery tests read.
pub fn counts() -> (usize, usize) {
    with(|t| {
        t.values().fold((0, 0), |(p, k), v| match v {
            Parked::Promise { .. } => (p + 1, k),
            Parked::Task { .. } => (p, k + 1),
        })
    })
}

impl Parked {
    fn into_waker(self) -> Option<Waker> {
        match self {
            Parked::Promise { waker, .. } => waker,
            Parked::Task { .. } => None,
        }
    }
}
