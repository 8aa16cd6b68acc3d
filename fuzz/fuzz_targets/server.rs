#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| spectro_fuzz::server(data));
