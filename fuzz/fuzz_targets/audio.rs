//! A recording, as /api/transcribe decodes it.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| signpost::fuzz::audio(data));
