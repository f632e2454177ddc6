//! A council's web page through the import's HTML extraction.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| signpost::fuzz::html(data));
