#![no_main]
// The property is defined once, in src/properties/request_paths.rs, and also runs under proptest.
libfuzzer_sys::fuzz_target!(|data: &[u8]| tenant_router::properties::request_paths::check(data));
