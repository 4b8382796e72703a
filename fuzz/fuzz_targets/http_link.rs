//! Request paths, queries and credentials through the URL contract and the signed-link check.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| tgmux_fuzz::http_link(data));
