//! Arbitrary bytes as an embedded store file and as one store change record.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| tgmux_fuzz::store_file(data));
