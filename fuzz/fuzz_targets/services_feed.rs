//! An Open Referral UK feed (version 1 or 3), item by item.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| signpost::fuzz::services_feed(data));
