//! Runs a request as a task: polled once right away, in the fetch handler's own call (with the
//! tenant and the token cached, nothing before the upstream fetch waits), then again each time
//! something it awaits settles. Its future waits in [`super::parking`] between polls.
//!
//! A wake from a promise callback or a timer (no Rust on the stack) polls the task at once: no
//! trip through the task queue. A wake from Rust code (one request's lookup finishing another's
//! wait) is deferred to a microtask, so a task is never polled from inside another poll.

#[cfg(not(feature = "std-futures"))]
pub use hand_written::spawn;

#[cfg(not(feature = "std-futures"))]
mod hand_written {
    use std::cell::Cell;
    use std::sync::Arc;
    use std::task::{Context, Poll, Wake, Waker};

    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::{JsCast, JsValue};

    use super::super::js::{bound, promise_with_resolvers, queue_microtask, Callback};
    use super::super::parking::{self, TaskFuture, TaskKey};
    use crate::slots::Key;

    thread_local! {
        /// True while Rust code runs (a poll, the fetch handler): see [`InRust`].
        static IN_RUST: Cell<bool> = const { Cell::new(false) };
        /// `(index, generation) => ..`: polls the task, for `queueMicrotask`.
        static RUN_TASK: Callback = Closure::<dyn FnMut(u32, u32)>::new(|index, generation| {
            run(TaskKey(Key { index, generation }))
        })
        .into_js_value()
        .unchecked_into();
    }

    /// Marks Rust code as running for as long as it lives, restoring the previous state after: the
    /// only way [`IN_RUST`] changes, so it cannot be left set by an early return.
    struct InRust(bool);

    impl InRust {
        fn enter() -> Self {
            Self(IN_RUST.replace(true))
        }
    }

    impl Drop for InRust {
        fn drop(&mut self) {
            IN_RUST.set(self.0);
        }
    }

    struct TaskWaker(TaskKey);

    impl Wake for TaskWaker {
        fn wake(self: Arc<Self>) {
            self.wake_by_ref();
        }

        fn wake_by_ref(self: &Arc<Self>) {
            if IN_RUST.get() {
                RUN_TASK.with(|run| queue_microtask(&bound(run, self.0 .0)));
            } else {
                run(self.0);
            }
        }
    }

    /// Runs `future` to completion; the promise resolves with its output. Finished in its first poll,
    /// it costs no resolvers: the promise is made already resolved.
    pub fn spawn(mut future: TaskFuture) -> js_sys::Promise {
        let _rust = InRust::enter();
        let key = parking::park_task(js_sys::Date::now());
        let waker = Waker::from(Arc::new(TaskWaker(key)));
        match future.as_mut().poll(&mut Context::from_waker(&waker)) {
            Poll::Ready(value) => {
                let _ = parking::end_task(key);
                js_sys::Promise::resolve(&value)
            }
            Poll::Pending => {
                let resolvers = promise_with_resolvers();
                drop(parking::keep_future(key, future, Some(resolvers.resolve())));
                resolvers.promise()
            }
        }
    }

    /// Polls the task under `key` once, if it is still there and not already being polled.
    fn run(key: TaskKey) {
        let Some(mut future) = parking::take_future(key) else {
            return;
        };
        let _rust = InRust::enter();
        let waker = Waker::from(Arc::new(TaskWaker(key)));
        match future.as_mut().poll(&mut Context::from_waker(&waker)) {
            Poll::Pending => drop(parking::keep_future(key, future, None)),
            Poll::Ready(value) => {
                drop(future);
                if let Some(resolve) = parking::end_task(key) {
                    let _ = resolve.call1(&JsValue::UNDEFINED, &value);
                }
            }
        }
    }
}

#[cfg(feature = "std-futures")]
pub use standard::spawn;

#[cfg(feature = "std-futures")]
mod standard {
    use super::super::parking::TaskFuture;

    /// The standard path (feature `std-futures`): wasm-bindgen-futures' executor, which first polls
    /// the task in a microtask rather than in the fetch handler's own call.
    pub fn spawn(future: TaskFuture) -> js_sys::Promise {
        wasm_bindgen_futures::future_to_promise(async move { Ok(future.await) })
    }
}
