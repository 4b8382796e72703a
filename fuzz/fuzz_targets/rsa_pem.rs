//! Arbitrary bytes as a PEM RSA private key (PKCS#1 or PKCS#8) and as its DER body.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| tgmux_fuzz::rsa_pem(data));
