//! The t.me link parser: any text gives a link or a one-line error, never a panic, and a link
//! parsed back from its canonical URL is the same link.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tgmux::resolve::Link;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match Link::parse(text) {
        Ok(link) => assert_eq!(Link::parse(&link.to_url()), Ok(link)),
        Err(e) => assert!(!e.to_string().contains('\n')),
    }
});
