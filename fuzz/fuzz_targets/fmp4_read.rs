//! Bytes through the fragmented-MP4 reader that cuts HLS segments and finds subtitle samples.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| tgmux_fuzz::fmp4_read(data));
