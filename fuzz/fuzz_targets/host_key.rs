#![no_main]
// The property is defined once, in src/properties/host_key.rs, and also runs under proptest.
libfuzzer_sys::fuzz_target!(|data: &[u8]| tenant_router::properties::host_key::check(data));
