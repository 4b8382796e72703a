//! Arbitrary bytes, pushed in arbitrary chunkings, into the Matroska demuxer, reading in full
//! or index-only (seeking over what it skips, as over a file): it must end with `End` or an
//! error after `finish()`, never panic, never ask for more bytes after the end of input, and
//! never loop.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tgmux::remux::mkv::{MkvEvent, MkvParser};

fuzz_target!(|input: &[u8]| {
    // The first byte picks the chunk sizes; the rest is the file.
    let Some((&seed, data)) = input.split_first() else { return };
    let sizes = [1usize, 2, 3, 7, 16, 100, 4096, usize::MAX];
    let index = seed & 0x80 != 0;
    let mut d = if index { MkvParser::index_only(0) } else { MkvParser::new() };
    let mut pos = 0;
    let mut k = seed as usize;
    let mut polls = 0usize;
    let budget = 64 + data.len() * 8;
    loop {
        polls += 1;
        assert!(polls < budget, "demuxer does not make progress");
        match d.poll() {
            Err(_) | Ok(Some(MkvEvent::End)) => break,
            Ok(Some(_)) => {}
            Ok(None) if pos < data.len() => {
                let skip = d.skip_ahead().min((data.len() - pos) as u64) as usize;
                if index && skip > 0 {
                    d.skipped(skip as u64);
                    pos += skip;
                    if pos == data.len() {
                        d.finish();
                    }
                    continue;
                }
                let n = sizes[k % sizes.len()].min(data.len() - pos);
                k = k.wrapping_mul(31).wrapping_add(7);
                d.push(&data[pos..pos + n]);
                pos += n;
                if pos == data.len() {
                    d.finish();
                }
            }
            Ok(None) => {
                if data.is_empty() {
                    d.finish();
                    continue;
                }
                panic!("asked for more bytes after finish()");
            }
        }
    }
});
