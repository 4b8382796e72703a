//! One output track's state while muxing: identity, sample entry, text conversion, timing.

use super::buf::BoxBuf;
use super::stsd::{self, EntryOptions};
use super::text::TextConv;
use super::timing::Timing;
use crate::{Codec, Track, TrackKind};

/// A track on its way into the MP4.
#[derive(Debug)]
pub(crate) struct OutTrack {
    /// The input's description (timescale, codec, private data).
    pub(crate) track: Track,
    /// track_ID in the output (1-based, in input order).
    pub(crate) out_id: u32,
    /// Text events to tx3g samples.
    pub(crate) text: TextConv,
    /// Decode times and durations.
    pub(crate) timing: Timing,
    /// The encoded sample entry, once the first sample is known.
    pub(crate) entry: Option<Vec<u8>>,
    /// Dropped (its sample entry could not be built); its packets are ignored.
    pub(crate) dropped: bool,
    /// Samples written so far.
    pub(crate) samples: u64,
}

impl OutTrack {
    /// A new output track with id `out_id`.
    pub(crate) fn new(track: Track, out_id: u32) -> OutTrack {
        let timing = Timing::new(track.kind == TrackKind::Video, track.default_duration);
        OutTrack {
            text: TextConv::new(&track.codec),
            timing,
            track,
            out_id,
            entry: None,
            dropped: false,
            samples: 0,
        }
    }

    /// Build the sample entry from the first sample; `Err` is the reason to drop the track.
    pub(crate) fn ensure_entry(&mut self, first: &[u8], opts: EntryOptions) -> Result<(), String> {
        if self.entry.is_some() {
            return Ok(());
        }
        let mut b = BoxBuf::new();
        stsd::write_entry(&mut b, &self.track, self.out_id, first, opts)?;
        self.entry = Some(b.bytes);
        Ok(())
    }

    /// Presentation delay expressed by the edit list's media_time: the codec delay of audio
    /// (e.g. AAC priming from an MP4 edit list). Opus keeps its pre-skip in dOps only, as
    /// ffmpeg does, so the decoder (not the edit list) drops it.
    pub(crate) fn edit_delay(&self) -> i64 {
        if self.track.kind == TrackKind::Audio && self.track.codec != Codec::Opus {
            self.track.codec_delay.min(i64::MAX as u64) as i64
        } else {
            0
        }
    }

    /// The one-line warning for dropping this track.
    pub(crate) fn drop_warning(&self, why: &str) -> String {
        format!("dropping {}: {why}", describe(&self.track))
    }
}

/// A track in messages: `track N (CODEC)`.
pub(crate) fn describe(track: &Track) -> String {
    format!("track {} ({})", track.id, codec_name(&track.codec))
}

/// The names of the tracks of `tracks` that were dropped, for
/// [`crate::RemuxError::NoTracks`].
pub(crate) fn dropped(tracks: &[OutTrack]) -> Vec<String> {
    tracks
        .iter()
        .filter(|t| t.dropped)
        .map(|t| describe(&t.track))
        .collect()
}

/// A short name for a codec in messages.
fn codec_name(codec: &Codec) -> String {
    match codec {
        Codec::Unsupported(name) => name.clone(),
        Codec::Text(f) => format!("text {f:?}"),
        other => format!("{other:?}"),
    }
}

/// Compare two times given in different timescales: a/ta < b/tb.
pub(crate) fn time_lt(a: i64, ta: u32, b: i64, tb: u32) -> bool {
    i128::from(a) * i128::from(tb) < i128::from(b) * i128::from(ta)
}

/// Convert `t` ticks of `from` to ticks of `to`, rounding to nearest.
pub(crate) fn rescale(t: i64, from: u32, to: u32) -> i64 {
    let num = i128::from(t) * i128::from(to);
    let den = i128::from(from.max(1));
    let q = if num >= 0 {
        (num + den / 2) / den
    } else {
        (num - den / 2) / den
    };
    q.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
}
