//! Hostile handshake messages into the server side of the auth-key exchange.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| tgmux_fuzz::auth_server(data));
