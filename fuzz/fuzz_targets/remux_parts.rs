//! Arbitrary bytes as a file read by parts: the media summary, the segment index and every
//! segment made from its own byte range, and WebVTT of every text track must give a result
//! or an error, never panic or loop; every segment's range lies inside the file.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tgmux::remux::mp4::FragmentOptions;
use tgmux::remux::segments::SegmentIndex;
use tgmux::remux::{info, webvtt};

fuzz_target!(|data: &[u8]| {
    if let Ok(summary) = info::probe(data) {
        for t in summary.text_subtitles() {
            let _ = webvtt::extract(data, t.id);
        }
    }
    let Ok(index) = SegmentIndex::open(data, FragmentOptions::default()) else {
        return;
    };
    for (k, s) in index.segments().iter().enumerate().take(64) {
        assert!(s.range.start <= s.range.end && s.range.end <= data.len() as u64, "{s:?}");
        let _ = index.segment(k, &data[s.range.start as usize..s.range.end as usize]);
    }
});
