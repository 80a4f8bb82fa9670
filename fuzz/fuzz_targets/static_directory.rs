#![no_main]
// The property is defined once, in src/properties/static_directory.rs, and also runs under proptest.
libfuzzer_sys::fuzz_target!(|data: &[u8]| tenant_router::properties::static_directory::check(data));
