//! The streaming transformer the HTTP server uses: Matroska/WebM bytes in (as they arrive from
//! the downloader, in order, no seeking), fragmented MP4 bytes out, plus a seek index of
//! keyframe times → input byte offsets.
//!
//! Sans-IO like the rest of `remux`: [`MkvToFmp4::push`] input, [`MkvToFmp4::take_output`]
//! what is ready (the init segment once every track has shown its first packet, then one
//! moof+mdat per fragment), [`MkvToFmp4::finish`] at the end of input. Memory is bounded by one
//! fragment (see [`crate::mp4::MAX_FRAGMENT_BYTES`]) plus the parser's
//! one-element buffer.

use crate::mkv::{MkvEvent, MkvParser};
use crate::mp4::{FragmentOptions, FragmentedMuxer};
use crate::track_map::{drop_warning, map_tracks, output_of, with_dropped, TrackMap};
use crate::{RemuxError, TrackKind};

/// One entry of the seek index.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SeekPoint {
    /// Presentation time of the fragment's first video key frame, seconds from the output's
    /// time origin.
    pub time: f64,
    /// Input byte offset of the Matroska Cluster holding that key frame: a new transformer
    /// fed from there (after the header bytes) resumes at this key frame.
    pub input_offset: u64,
}

/// Matroska/WebM stream → fragmented MP4 stream.
pub struct MkvToFmp4 {
    parser: MkvParser,
    opts: FragmentOptions,
    mux: Option<FragmentedMuxer>,
    /// Where each Matroska track goes.
    map: Vec<TrackMap>,
    /// The Matroska tracks dropped, as `track N (CODEC)`.
    dropped: Vec<String>,
    out: Vec<u8>,
    warnings: Vec<String>,
    finished: bool,
}

impl std::fmt::Debug for MkvToFmp4 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MkvToFmp4")
            .field("pending_output", &self.out.len())
            .finish()
    }
}

impl MkvToFmp4 {
    /// A transformer writing fragments per `opts`.
    pub fn new(opts: FragmentOptions) -> MkvToFmp4 {
        MkvToFmp4 {
            parser: MkvParser::new(),
            opts,
            mux: None,
            map: Vec::new(),
            dropped: Vec::new(),
            out: Vec::new(),
            warnings: Vec::new(),
            finished: false,
        }
    }

    /// Feed the next input bytes and process everything they complete.
    pub fn push(&mut self, data: &[u8]) -> Result<(), RemuxError> {
        self.parser.push(data);
        self.drain()
    }

    /// The input has ended: flush the last fragment. Errors if the input was cut short.
    pub fn finish(&mut self) -> Result<(), RemuxError> {
        self.parser.finish();
        self.drain()?;
        if !self.finished {
            return Err(RemuxError::Truncated {
                at: self.parser.position(),
            });
        }
        Ok(())
    }

    /// Move the MP4 bytes produced so far to the end of `out`.
    pub fn take_output(&mut self, out: &mut Vec<u8>) {
        out.append(&mut self.out);
    }

    /// One-line warnings (dropped tracks) since the last call.
    pub fn take_warnings(&mut self) -> Vec<String> {
        if let Some(m) = self.mux.as_mut() {
            self.warnings.extend(m.take_warnings());
        }
        std::mem::take(&mut self.warnings)
    }

    /// Keyframe times → input offsets for the fragments written so far.
    pub fn index(&self) -> Vec<SeekPoint> {
        self.mux.as_ref().map_or_else(Vec::new, |m| {
            m.index()
                .iter()
                .map(|&(time, input_offset)| SeekPoint { time, input_offset })
                .collect()
        })
    }

    fn drain(&mut self) -> Result<(), RemuxError> {
        while let Some(ev) = self.parser.poll()? {
            match ev {
                MkvEvent::Tracks(tracks) => {
                    if self.mux.is_some() {
                        continue;
                    }
                    let mut kept = Vec::new();
                    self.map = map_tracks(&tracks, &mut kept, &mut self.dropped);
                    let warnings = self.dropped.iter().map(|d| drop_warning(d));
                    self.warnings.extend(warnings);
                    if !kept.iter().any(|t| t.kind != TrackKind::Subtitle) {
                        return Err(RemuxError::NoTracks {
                            dropped: self.dropped.clone(),
                        });
                    }
                    self.mux = Some(FragmentedMuxer::new(kept, self.opts));
                }
                MkvEvent::Packet(mut p) => {
                    let Some(mux) = self.mux.as_mut() else {
                        return Err(RemuxError::Malformed {
                            at: p.input_offset,
                            what: "block before Tracks".into(),
                        });
                    };
                    if let Some(idx) = output_of(&self.map, p.track) {
                        p.track = idx as u64 + 1;
                        mux.push(idx, p, &mut self.out)
                            .map_err(|e| with_dropped(e, &self.dropped))?;
                    }
                }
                MkvEvent::End => {
                    if !self.finished {
                        let mux = self.mux.as_mut().ok_or(RemuxError::Malformed {
                            at: self.parser.position(),
                            what: "no Tracks element".into(),
                        })?;
                        mux.finish(&mut self.out)
                            .map_err(|e| with_dropped(e, &self.dropped))?;
                        self.finished = true;
                    }
                    break;
                }
            }
        }
        Ok(())
    }
}
