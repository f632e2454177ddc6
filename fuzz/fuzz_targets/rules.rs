//! A council's rules.toml over the national figures.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| signpost::fuzz::rules(data));
