//! Page files (front matter and Markdown) and services files.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| signpost::fuzz::kb_files(data));
