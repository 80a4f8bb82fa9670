#![no_main]
// The property is defined once, in src/properties/header_rewrite.rs, and also runs under proptest.
libfuzzer_sys::fuzz_target!(|data: &[u8]| tenant_router::properties::header_rewrite::check(data));
