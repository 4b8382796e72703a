#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| tgmux_fuzz::obfuscated(data));
