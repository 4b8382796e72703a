//! Range, If-Range and the conditional header fields through the RFC 9110 evaluator.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| tgmux_fuzz::http_range(data));
