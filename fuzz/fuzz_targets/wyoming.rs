//! A stream of Wyoming events.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| signpost::fuzz::wyoming(data));
