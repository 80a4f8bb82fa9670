#![no_main]
// The property is defined once, in src/properties/redirect_targets.rs, and also runs under proptest.
libfuzzer_sys::fuzz_target!(|data: &[u8]| tenant_router::properties::redirect_targets::check(data));
