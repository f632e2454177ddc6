//! A question through the amount and situation parser and the calculators.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| signpost::fuzz::question(data));
