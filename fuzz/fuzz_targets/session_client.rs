//! Hostile server packets into our client session (see `tgmux_fuzz::session_client`).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| tgmux_fuzz::session_client(data));
