//! Futures driven by JS promises and timers, without wasm-bindgen-futures' per-await closures and
//! per-task promise executor: [`Awaited`] (a promise as a future), [`Sleep`] (a timer as one) and
//! [`spawn`] (a request whose phases wait, run to completion). Their state sits in slot tables and
//! the runtime gets functions made once per isolate, bound to a slot key: a bound function is a
//! plain JS object, where a wasm-bindgen closure is an allocation on both sides plus a
//! `FinalizationRegistry` entry.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll, Wake, Waker};

use futures::future::LocalBoxFuture;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};

use super::{bound, global_scope, Callback, Thenable};
use crate::slots::{Key, Slots};

/// A promise (or timer) awaited by Rust code: its outcome, once settled, and the task to wake.
#[derive(Default)]
struct AwaitSlot {
    outcome: Option<Result<JsValue, JsValue>>,
    waker: Option<Waker>,
}

thread_local! {
    static AWAITING: RefCell<Slots<AwaitSlot>> = RefCell::new(Slots::default());
    /// `(index, generation, value) => ..` for fulfilment and for rejection, made once per isolate.
    static ON_AWAITED: (Callback, Callback) = (
        Closure::<dyn FnMut(u32, u32, JsValue) -> JsValue>::new(|index, generation, value| {
            awaited(Key { index, generation }, Ok(value))
        })
        .into_js_value()
        .unchecked_into(),
        Closure::<dyn FnMut(u32, u32, JsValue) -> JsValue>::new(|index, generation, error| {
            awaited(Key { index, generation }, Err(error))
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
    key: Key,
}

impl Awaited {
    /// A slot nothing settles yet: `new` hands its callbacks to a promise, [`Sleep`] to a timer.
    fn parked() -> Self {
        Self {
            key: AWAITING.with(|slots| slots.borrow_mut().insert(AwaitSlot::default())),
        }
    }

    pub(super) fn new(promise: &js_sys::Promise) -> Self {
        let this = Self::parked();
        ON_AWAITED.with(|(on_ok, on_err)| {
            // Both outcomes are handled, so the promise `then` returns never rejects: not kept.
            let _ = promise
                .unchecked_ref::<Thenable>()
                .then_both(&bound(on_ok, this.key), &bound(on_err, this.key));
        });
        this
    }
}

impl Future for Awaited {
    type Output = Result<JsValue, JsValue>;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        AWAITING.with(|slots| {
            let mut slots = slots.borrow_mut();
            let Some(slot) = slots.get_mut(self.key) else {
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
    /// A future dropped before its promise settled frees its slot; the late callback's key is
    /// then stale and finds nothing.
    fn drop(&mut self) {
        AWAITING.with(|slots| slots.borrow_mut().take(self.key));
    }
}

/// The awaited promise under `key` settled: keep the outcome and wake its task.
fn awaited(key: Key, outcome: Result<JsValue, JsValue>) -> JsValue {
    let waker = AWAITING.with(|slots| {
        let mut slots = slots.borrow_mut();
        let slot = slots.get_mut(key)?;
        slot.outcome = Some(outcome);
        slot.waker.take()
    });
    // Woken after the table is released: the wake may poll the future, which borrows it.
    if let Some(w) = waker {
        w.wake();
    }
    JsValue::UNDEFINED
}

/// A timer as a future: `setTimeout` calls the fulfil callback bound to an [`Awaited`] slot. It
/// wakes whichever task polled it last; `worker::Delay` keeps the waker of its first poll only,
/// and the fetch handler's first poll uses a no-op waker, so a request waiting on a `Delay` started
/// there was never woken again (workerd cancelled it as hung).
pub(super) struct Sleep {
    awaited: Awaited,
    timer: Option<i32>,
}

impl Sleep {
    pub(super) fn new(ms: u64) -> Self {
        let awaited = Awaited::parked();
        let timer = ON_AWAITED.with(|(on_ok, _)| {
            global_scope()
                .set_timeout_with_callback_and_timeout_and_arguments_0(
                    bound(on_ok, awaited.key).unchecked_ref(),
                    i32::try_from(ms).unwrap_or(i32::MAX),
                )
                .ok()
        });
        Self { awaited, timer }
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<()> {
        // No timer means no wake-up: finish now rather than hang the request.
        if self.timer.is_none() {
            return Poll::Ready(());
        }
        Pin::new(&mut self.awaited).poll(cx).map(|_| ())
    }
}

impl Drop for Sleep {
    /// Clearing a timer that already fired does nothing, so no need to know whether it did.
    fn drop(&mut self) {
        if let Some(id) = self.timer {
            global_scope().clear_timeout_with_handle(id);
        }
    }
}

/// A request whose phases wait: its future, parked while it waits, and how to answer workerd.
struct Task {
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
    /// True while Rust code runs a task or the fetch handler: a wake then is deferred to a microtask
    /// rather than polling a task from inside another poll.
    static IN_RUST: Cell<bool> = const { Cell::new(false) };
    /// `(index, generation) => ..`: polls the task, for `queueMicrotask`.
    static RUN_TASK: Callback =
        Closure::<dyn FnMut(u32, u32) -> JsValue>::new(|index, generation| {
            run(Key { index, generation });
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

struct TaskWaker(Key);

impl Wake for TaskWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    /// Woken from a promise callback or a timer (no Rust on the stack), the task is polled right
    /// away: no trip through the task queue. Woken from Rust, it runs in a microtask.
    fn wake_by_ref(self: &Arc<Self>) {
        if IN_RUST.get() {
            RUN_TASK.with(|run| queue_microtask(&bound(run, self.0)));
        } else {
            run(self.0);
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
    let key = TASKS.with(|tasks| {
        let mut tasks = tasks.borrow_mut();
        if tasks.len() >= TASK_SWEEP_AT {
            // Dropping a future drops what it awaits, freeing their slots too.
            tasks.remove_where(|t| now - t.started_ms > TASK_ABANDONED_AFTER_MS);
        }
        tasks.insert(Task {
            future: Some(future),
            resolve: resolvers.resolve(),
            started_ms: now,
        })
    });
    run(key);
    resolvers.promise()
}

/// Polls the task under `key` once, if it is still there and not already being polled.
fn run(key: Key) {
    let Some(mut future) = TASKS.with(|tasks| tasks.borrow_mut().get_mut(key)?.future.take())
    else {
        return;
    };
    let _rust = InRust::enter();
    let waker = Waker::from(Arc::new(TaskWaker(key)));
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
