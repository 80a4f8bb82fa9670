//! The Worker's global allocator: talc in place of the standard library's dlmalloc. A request
//! allocates a few dozen small blocks (header strings, the claims of a new token, the log line),
//! and dlmalloc's `malloc` and `free` were the wasm's costliest functions in the profile.
//! workerd runs an isolate's wasm on one thread, which is what `new_global` requires.

#[global_allocator]
// SAFETY: the module runs single-threaded in its isolate; memory grows only through this allocator.
static ALLOCATOR: talc::TalckWasm = unsafe { talc::TalckWasm::new_global() };
