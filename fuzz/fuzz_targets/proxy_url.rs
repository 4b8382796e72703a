//! `--proxy`: any text gives an MTProxy, a SOCKS5/HTTP tunnel or a one-line error, never a
//! panic; what parses can be displayed.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tgmux::config::Proxy;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match Proxy::parse(text) {
        Ok(p) => assert!(!p.to_string().is_empty()),
        Err(e) => assert!(!e.to_string().contains('\n'), "{e}"),
    }
});
