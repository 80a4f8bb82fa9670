//! Futures driven by JS promises, without wasm-bindgen-futures' per-await closures and per-task
//! promise executor: [`Awaited`] (a promise as a future) and [`spawn`] (a request whose phases
//! wait, run to completion). Both keep their state in slot tables and hand the runtime functions
//! made once per isolate, bound to a slot key: a bound function is a plain JS object, where a
//! wasm-bindgen closure is an allocation on both sides plus a `FinalizationRegistry` entry.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll, Wake, Waker};

use futures::future::LocalBoxFuture;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};

use super::{Callback, Thenable};
use crate::slots::Slots;

fn next_generation(counter: &'static std::thread::LocalKey<Cell<u32>>) -> u32 {
    counter.with(|g| {
        let next = g.get().wrapping_add(1);
        g.set(next);
        next
    })
}

/// A promise awaited by Rust code: its outcome, once settled, and the task to wake.
struct AwaitSlot {
    /// Told apart from a later slot under the same key, should this one be dropped unsettled.
    generation: u32,
    outcome: Option<Result<JsValue, JsValue>>,
    waker: Option<Waker>,
}

thread_local! {
    static AWAITING: RefCell<Slots<AwaitSlot>> = RefCell::new(Slots::default());
    static AWAIT_GENERATION: Cell<u32> = const { Cell::new(0) };
    /// `(key, generation, value) => ..` for fulfilment and for rejection, made once per isolate.
    static ON_AWAITED: (Callback, Callback) = (
        Closure::<dyn FnMut(u32, u32, JsValue) -> JsValue>::new(|key, generation, value| {
            awaited(key, generation, Ok(value))
        })
        .into_js_value()
        .unchecked_into(),
        Closure::<dyn FnMut(u32, u32, JsValue) -> JsValue>::new(|key, generation, error| {
            awaited(key, generation, Err(error))
        })
        .into_js_value()
        .unchecked_into(),
    );
}

/// A promise as a future, settled through the per-isolate callbacks above bound to a slot key.
/// `JsFuture` makes two wasm-bindgen closures per await, each registered with a
/// `FinalizationRegistry`; on the ES256 path (two awaits per new token) that was most of the cost
/// of the Rust side of a verification.
pub(super) struct Awaited {
    key: u32,
    generation: u32,
}

impl Awaited {
    pub(super) fn new(promise: &js_sys::Promise) -> Self {
        let generation = next_generation(&AWAIT_GENERATION);
        let key = AWAITING.with(|slots| {
            slots.borrow_mut().insert(AwaitSlot {
                generation,
                outcome: None,
                waker: None,
            })
        });
        ON_AWAITED.with(|(on_ok, on_err)| {
            // Both outcomes are handled, so the promise `then` returns never rejects: not kept.
            let _ = promise.unchecked_ref::<Thenable>().then_both(
                &on_ok.bind_key_generation(&JsValue::NULL, key, generation),
                &on_err.bind_key_generation(&JsValue::NULL, key, generation),
            );
        });
        Self { key, generation }
    }
}

impl Future for Awaited {
    type Output = Result<JsValue, JsValue>;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        AWAITING.with(|slots| {
            let mut slots = slots.borrow_mut();
            let Some(slot) = slots
                .get_mut(self.key)
                .filter(|s| s.generation == self.generation)
            else {
                return Poll::Ready(Err(JsValue::from_str("awaited promise lost")));
            };
            match slot.outcome.take() {
                Some(outcome) => {
                    slots.take(self.key);
                    Poll::Ready(outcome)
                }
                None => {
                    slot.waker = Some(cx.waker().clone());
                    Poll::Pending
                }
            }
        })
    }
}

impl Drop for Awaited {
    /// A future dropped before its promise settled frees its slot; the late callback then finds
    /// another generation (or nothing) under the key and does nothing.
    fn drop(&mut self) {
        AWAITING.with(|slots| {
            let mut slots = slots.borrow_mut();
            if slots
                .get_mut(self.key)
                .is_some_and(|s| s.generation == self.generation)
            {
                slots.take(self.key);
            }
        });
    }
}

/// The awaited promise under `key` settled: keep the outcome and wake its task.
fn awaited(key: u32, generation: u32, outcome: Result<JsValue, JsValue>) -> JsValue {
    let waker = AWAITING.with(|slots| {
        let mut slots = slots.borrow_mut();
        let slot = slots.get_mut(key).filter(|s| s.generation == generation)?;
        slot.outcome = Some(outcome);
        slot.waker.take()
    });
    // Woken after the table is released: the wake may poll the future, which borrows it.
    if let Some(w) = waker {
        w.wake();
    }
    JsValue::UNDEFINED
}

/// A request whose phases wait: its future, parked while it waits, and how to answer workerd.
struct Task {
    generation: u32,
    /// `None` only while the task is being polled.
    future: Option<LocalBoxFuture<'static, JsValue>>,
    /// Resolves the promise `spawn` returned to workerd.
    resolve: js_sys::Function,
    started_ms: f64,
}

/// From this many parked tasks on, each spawn first drops abandoned ones.
const TASK_SWEEP_AT: usize = 1024;
/// A task this old belongs to a request workerd tore down (its waits are all bounded far below).
const TASK_ABANDONED_AFTER_MS: f64 = 10.0 * 60.0 * 1000.0;

thread_local! {
    static TASKS: RefCell<Slots<Task>> = RefCell::new(Slots::default());
    static TASK_GENERATION: Cell<u32> = const { Cell::new(0) };
    /// True while Rust code runs a task or the fetch handler: a wake then is deferred to a microtask
    /// rather than polling a task from inside another poll.
    static IN_RUST: Cell<bool> = const { Cell::new(false) };
    /// `(key, generation) => ..`: polls the task, for `queueMicrotask`.
    static RUN_TASK: Callback =
        Closure::<dyn FnMut(u32, u32) -> JsValue>::new(|key, generation| {
            run(key, generation);
            JsValue::UNDEFINED
        })
        .into_js_value()
        .unchecked_into();
}

#[wasm_bindgen]
extern "C" {
    type Resolvers;
    #[wasm_bindgen(js_namespace = Promise, js_name = withResolvers)]
    fn promise_with_resolvers() -> Resolvers;
    #[wasm_bindgen(method, getter)]
    fn promise(this: &Resolvers) -> js_sys::Promise;
    #[wasm_bindgen(method, getter)]
    fn resolve(this: &Resolvers) -> js_sys::Function;
    #[wasm_bindgen(js_name = queueMicrotask)]
    fn queue_microtask(callback: &Callback);
}

struct TaskWaker {
    key: u32,
    generation: u32,
}

impl Wake for TaskWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    /// Woken from a promise callback or a timer (no Rust on the stack), the task is polled right
    /// away: no trip through the task queue. Woken from Rust, it runs in a microtask.
    fn wake_by_ref(self: &Arc<Self>) {
        if IN_RUST.get() {
            RUN_TASK.with(|run| {
                queue_microtask(&run.bind_key_generation(&JsValue::NULL, self.key, self.generation))
            });
        } else {
            run(self.key, self.generation);
        }
    }
}

/// Marks Rust code as running for as long as it lives, restoring the previous state after.
pub(super) struct InRust(bool);

impl InRust {
    pub(super) fn enter() -> Self {
        Self(IN_RUST.replace(true))
    }
}

impl Drop for InRust {
    fn drop(&mut self) {
        IN_RUST.set(self.0);
    }
}

/// Runs `future` to completion; the promise resolves with its output. The caller has polled it
/// once already (with a no-op waker), so it is polled again at once with its task's own waker.
pub(super) fn spawn(future: LocalBoxFuture<'static, JsValue>) -> js_sys::Promise {
    let resolvers = promise_with_resolvers();
    let now = js_sys::Date::now();
    let generation = next_generation(&TASK_GENERATION);
    let key = TASKS.with(|tasks| {
        let mut tasks = tasks.borrow_mut();
        if tasks.len() >= TASK_SWEEP_AT {
            // Dropping a future drops what it awaits, freeing their slots too.
            tasks.remove_where(|t| now - t.started_ms > TASK_ABANDONED_AFTER_MS);
        }
        tasks.insert(Task {
            generation,
            future: Some(future),
            resolve: resolvers.resolve(),
            started_ms: now,
        })
    });
    run(key, generation);
    resolvers.promise()
}

/// Polls the task under `key` once, if it is still that task and not already being polled.
fn run(key: u32, generation: u32) {
    let Some(mut future) = TASKS.with(|tasks| {
        tasks
            .borrow_mut()
            .get_mut(key)
            .filter(|t| t.generation == generation)
            .and_then(|t| t.future.take())
    }) else {
        return;
    };
    let _rust = InRust::enter();
    let waker = Waker::from(Arc::new(TaskWaker { key, generation }));
    let poll = future.as_mut().poll(&mut TaskContext::from_waker(&waker));
    // The table is borrowed again only after the poll: the poll may spawn or wake other tasks.
    let finished = TASKS.with(|tasks| {
        let mut tasks = tasks.borrow_mut();
        match poll {
            Poll::Pending => {
                if let Some(t) = tasks.get_mut(key) {
                    t.future = Some(future);
                }
                None
            }
            Poll::Ready(value) => tasks.take(key).map(|t| (t.resolve, value)),
        }
    });
    if let Some((resolve, value)) = finished {
        let _ = resolve.call1(&JsValue::UNDEFINED, &value);
    }
}
