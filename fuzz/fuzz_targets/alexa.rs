//! An Alexa request: the certificate URL and the body checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| signpost::fuzz::alexa(data));
