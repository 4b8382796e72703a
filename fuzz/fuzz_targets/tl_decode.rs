//! Arbitrary bytes through the generated layer-227 decoder and the service objects.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| tgmux_fuzz::tl_decode(data));
