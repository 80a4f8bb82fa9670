//! JS promises and timers as futures, settled through two functions made once per isolate with
//! the awaiting entry's key bound in ([`super::parking`]). `wasm_bindgen_futures::JsFuture` makes
//! two wasm-bindgen closures per await, each registered with a `FinalizationRegistry`: on the
//! ES256 path (two awaits per new token) that was most of the Rust side's cost of a verification.

#[cfg(not(feature = "std-futures"))]
pub use hand_written::{Awaited, Sleep};
#[cfg(feature = "std-futures")]
pub use standard::{Awaited, Sleep};

#[cfg(not(feature = "std-futures"))]
mod hand_written {
    use std::future::Future;
    use std::pin::Pin;
    use std::task::{Context, Poll};

    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::{JsCast, JsValue};

    use super::super::js::{bound, global_scope, Callback, Thenable};
    use super::super::parking::{self, PromiseKey, Settled};
    use crate::slots::Key;

    thread_local! {
        /// `(index, generation, value) => ..` for fulfilment and for rejection.
        static ON_SETTLED: (Callback, Callback) = (
            Closure::<dyn FnMut(u32, u32, JsValue)>::new(|index, generation, value| {
                settled(PromiseKey(Key { index, generation }), Ok(value))
            })
            .into_js_value()
            .unchecked_into(),
            Closure::<dyn FnMut(u32, u32, JsValue)>::new(|index, generation, error| {
                settled(PromiseKey(Key { index, generation }), Err(error))
            })
            .into_js_value()
            .unchecked_into(),
        );
    }

    /// Woken after the table is released ([`parking::settle`] hands the waker out): the wake may poll
    /// the task, which reaches for the table again.
    fn settled(key: PromiseKey, outcome: Settled) {
        if let Some(w) = parking::settle(key, outcome) {
            w.wake();
        }
    }

    /// A promise as a future.
    pub struct Awaited {
        key: PromiseKey,
    }

    impl Awaited {
        pub fn new(promise: &js_sys::Promise) -> Self {
            let key = parking::park_promise();
            ON_SETTLED.with(|(on_ok, on_err)| {
                // Both outcomes are handled, so the promise `then` returns never rejects: not kept.
                let _ = promise
                    .unchecked_ref::<Thenable>()
                    .then_both(&bound(on_ok, key.0), &bound(on_err, key.0));
            });
            Self { key }
        }

        /// Its entry's index in the parking table, for the test that a stale key finds nothing.
        #[cfg(feature = "machinery")]
        pub fn index(&self) -> u32 {
            self.key.0.index
        }
    }

    impl Future for Awaited {
        type Output = Settled;

        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Settled> {
            parking::poll_promise(self.key, cx.waker())
                .unwrap_or_else(|| Poll::Ready(Err(JsValue::from_str("awaited promise lost"))))
        }
    }

    impl Drop for Awaited {
        /// A future dropped before its promise settled frees its entry; the late callback's key is
        /// then stale and finds nothing.
        fn drop(&mut self) {
            parking::forget_promise(self.key);
        }
    }

    /// A timer as a future: `setTimeout` calls the fulfilment function bound to its own entry. It
    /// wakes whichever task polled it last (`worker::Delay` kept the waker of its first poll only).
    pub struct Sleep {
        key: PromiseKey,
        timer: Option<i32>,
    }

    impl Sleep {
        pub fn new(ms: u64) -> Self {
            let key = parking::park_promise();
            let timer = ON_SETTLED.with(|(on_ok, _)| {
                global_scope()
                    .set_timeout_with_callback_and_timeout_and_arguments_0(
                        bound(on_ok, key.0).unchecked_ref(),
                        i32::try_from(ms).unwrap_or(i32::MAX),
                    )
                    .ok()
            });
            Self { key, timer }
        }
    }

    impl Future for Sleep {
        type Output = ();

        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            // No timer means no wake-up: finish now rather than hang the request.
            if self.timer.is_none() {
                return Poll::Ready(());
            }
            parking::poll_promise(self.key, cx.waker())
                .unwrap_or(Poll::Ready(Ok(JsValue::UNDEFINED)))
                .map(|_| ())
        }
    }

    impl Drop for Sleep {
        /// Clearing a timer that already fired does nothing, so no need to know whether it did.
        fn drop(&mut self) {
            if let Some(id) = self.timer {
                global_scope().clear_timeout_with_handle(id);
            }
            parking::forget_promise(self.key);
        }
    }
}

/// The standard path (feature `std-futures`): wasm-bindgen-futures' `JsFuture`, two closures per
/// await; a timer as a `JsFuture` over a promise `setTimeout` resolves.
#[cfg(feature = "std-futures")]
mod standard {
    use std::future::Future;
    use std::pin::Pin;
    use std::task::{Context, Poll};

    use wasm_bindgen::{JsCast, JsValue};
    use wasm_bindgen_futures::JsFuture;

    use super::super::js::global_scope;

    pub struct Awaited(JsFuture);

    impl Awaited {
        pub fn new(promise: &js_sys::Promise) -> Self {
            Self(JsFuture::from(promise.clone()))
        }
    }

    impl Future for Awaited {
        type Output = Result<JsValue, JsValue>;

        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
            Pin::new(&mut self.0).poll(cx)
        }
    }

    pub struct Sleep {
        fired: JsFuture,
        timer: Option<i32>,
    }

    impl Sleep {
        pub fn new(ms: u64) -> Self {
            let mut timer = None;
            let promise = js_sys::Promise::new(&mut |resolve, _| {
                timer = global_scope()
                    .set_timeout_with_callback_and_timeout_and_arguments_0(
                        resolve.unchecked_ref(),
                        i32::try_from(ms).unwrap_or(i32::MAX),
                    )
                    .ok();
            });
            Self {
                fired: JsFuture::from(promise),
                timer,
            }
        }
    }

    impl Future for Sleep {
        type Output = ();

        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            if self.timer.is_none() {
                return Poll::Ready(());
            }
            Pin::new(&mut self.fired).poll(cx).map(|_| ())
        }
    }

    impl Drop for Sleep {
        fn drop(&mut self) {
            if let Some(id) = self.timer {
                global_scope().clear_timeout_with_handle(id);
            }
        }
    }
}
