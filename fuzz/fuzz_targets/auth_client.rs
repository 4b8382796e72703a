//! Hostile handshake answers into the client side of the auth-key exchange.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| tgmux_fuzz::auth_client(data));
