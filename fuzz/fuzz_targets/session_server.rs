//! Hostile client packets into our server session (see `tgmux_fuzz::session_server`).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| tgmux_fuzz::session_server(data));
