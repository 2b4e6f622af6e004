#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| realnvp::fuzz::idx(data));
