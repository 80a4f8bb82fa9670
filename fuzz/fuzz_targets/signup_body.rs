#![no_main]
// The property is defined once, in src/properties/signup_body.rs, and also runs under proptest.
libfuzzer_sys::fuzz_target!(|data: &[u8]| tenant_router::properties::signup_body::check(data));
