//! What a demuxer produces and the muxer consumes.
//!
//! Times are integers in the track's own `timescale` (ticks per second). A demuxer reports
//! what its container says and nothing more: Matroska gives presentation times only
//! (`dts: None`), MP4/MOV give both. The muxer derives what the output needs.

use bytes::Bytes;

/// Which kind of media a track carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrackKind {
    /// Pictures.
    Video,
    /// Sound.
    Audio,
    /// Subtitles (text or image) and other timed data.
    Subtitle,
}

/// Text subtitle formats that map to MP4 `tx3g` (mov_text).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextFormat {
    /// SubRip (Matroska `S_TEXT/UTF8`): packets are plain UTF-8 text.
    Srt,
    /// SSA/ASS (`S_TEXT/ASS`, `S_TEXT/SSA`): packets are event lines, header in codec private.
    Ass,
    /// WebVTT (`S_TEXT/WEBVTT`, `D_WEBVTT/SUBTITLES`).
    WebVtt,
    /// Already tx3g (from MP4/MOV input).
    Tx3g,
}

/// The codec of a track, with what the MP4 sample entry needs in [`Track::codec_private`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Codec {
    /// codec_private: AVCDecoderConfigurationRecord (avcC body).
    H264,
    /// codec_private: HEVCDecoderConfigurationRecord (hvcC body).
    Hevc,
    /// codec_private: AV1CodecConfigurationRecord (av1C body).
    Av1,
    /// codec_private: VPCodecConfigurationRecord (vpcC body, without the FullBox header) or empty.
    Vp9,
    /// codec_private: AudioSpecificConfig.
    Aac,
    /// codec_private: empty.
    Mp3,
    /// codec_private: OpusHead (as in Matroska's CodecPrivate / Ogg's ID header).
    Opus,
    /// codec_private: the FLAC metadata blocks ("fLaC" marker stripped or not; see the demuxer).
    Flac,
    /// codec_private: empty; dac3 is derived from the first frame's bitstream.
    Ac3,
    /// codec_private: empty; dec3 is derived from the first frame's bitstream.
    Eac3,
    /// Text subtitles; codec_private: the format's header (ASS [Script Info] etc.), may be empty.
    Text(TextFormat),
    /// A codec MP4 output does not carry (Vorbis, VP8, PCM in MKV, image subtitles...): the
    /// muxer drops the track with a one-line warning naming it.
    Unsupported(String),
}

/// One elementary stream of an input.
#[derive(Debug, Clone, PartialEq)]
pub struct Track {
    /// Identifier unique within one demuxer (Matroska TrackNumber, MP4 track_ID).
    pub id: u64,
    /// Video, audio or subtitles.
    pub kind: TrackKind,
    /// What the packets are coded with.
    pub codec: Codec,
    /// Codec configuration, see [`Codec`] for the layout per codec.
    pub codec_private: Vec<u8>,
    /// Ticks per second of every time of this track and its packets.
    pub timescale: u32,
    /// Nominal duration of one frame in ticks (Matroska DefaultDuration), if known.
    pub default_duration: Option<u64>,
    /// Samples to drop at the start (Matroska CodecDelay; Opus pre-skip), in ticks.
    pub codec_delay: u64,
    /// Video: width in pixels, 0 when unknown or not video.
    pub width: u32,
    /// Video: height in pixels, 0 when unknown or not video.
    pub height: u32,
    /// Audio: sample rate in Hz, 0 when unknown.
    pub sample_rate: u32,
    /// Audio: channel count, 0 when unknown.
    pub channels: u16,
    /// Audio: bits per sample, 0 when unknown.
    pub bits_per_sample: u16,
    /// ISO 639-2 language code (e.g. "eng"), if given.
    pub language: Option<String>,
    /// Human-readable track name, if given.
    pub name: Option<String>,
}

impl Track {
    /// A track with the given identity and everything else unknown.
    pub fn new(id: u64, kind: TrackKind, codec: Codec, timescale: u32) -> Track {
        Track {
            id,
            kind,
            codec,
            codec_private: Vec::new(),
            timescale,
            default_duration: None,
            codec_delay: 0,
            width: 0,
            height: 0,
            sample_rate: 0,
            channels: 0,
            bits_per_sample: 0,
            language: None,
            name: None,
        }
    }
}

/// One coded frame (or subtitle event), copied byte for byte from the input.
#[derive(Debug, Clone, PartialEq)]
pub struct Packet {
    /// [`Track::id`] of the track this packet belongs to.
    pub track: u64,
    /// Presentation time in track ticks; may be negative (signed Matroska block timestamps).
    pub pts: i64,
    /// Decode time in track ticks when the container stores it (MP4/MOV); `None` for Matroska.
    pub dts: Option<i64>,
    /// Duration in ticks when the container says (BlockDuration, stts); else `None`.
    pub duration: Option<u64>,
    /// A random access point (Matroska keyframe flag / no ReferenceBlock; MP4 stss).
    pub keyframe: bool,
    /// The coded bytes, a view into the demuxer's buffer where possible.
    pub data: Bytes,
    /// A payload a demuxer left unread (`data` is then empty): faststart needs only sizes in
    /// its first pass and copies large payloads file to file in its second.
    pub omitted: Option<Extent>,
    /// Byte offset in the input where this packet's container element (block/cluster) began,
    /// used to build the seek index (keyframe time -> input offset).
    pub input_offset: u64,
}

impl Packet {
    /// The payload size, read or not.
    pub fn size(&self) -> usize {
        self.data.len() + self.omitted.map_or(0, |e| e.len)
    }
}

/// Where a payload lies in its input file, verbatim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Extent {
    /// Input offset of its first byte.
    pub offset: u64,
    /// Its length.
    pub len: usize,
}

/// Why remuxing failed. Every variant renders as one line.
#[derive(Debug)]
#[non_exhaustive]
pub enum RemuxError {
    /// The input is not a container we read (or is garbage).
    UnknownFormat,
    /// The input breaks its container's rules; `at` is a byte offset in the input.
    Malformed {
        /// Input offset of the element or box at fault.
        at: u64,
        /// Which rule it breaks.
        what: String,
    },
    /// The input ended in the middle of an element, box or frame.
    Truncated {
        /// Input offset where the bytes ran out.
        at: u64,
    },
    /// A size, count or allocation beyond the limits in the demuxer's limits module.
    TooLarge {
        /// Input offset of the element or box at fault.
        at: u64,
        /// What is too large, and the limit.
        what: String,
    },
    /// No audio or video track remains after dropping unsupported ones.
    NoTracks,
    /// The output cannot be written this way (e.g. faststart to a pipe).
    Unsupported(String),
    /// Reading the input or writing the output failed.
    Io(std::io::Error),
}

impl std::fmt::Display for RemuxError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RemuxError::UnknownFormat => {
                f.write_str("unrecognised input format (expected Matroska/WebM or MP4/MOV)")
            }
            RemuxError::Malformed { at, what } => write!(f, "malformed input at byte {at}: {what}"),
            RemuxError::Truncated { at } => write!(f, "input truncated at byte {at}"),
            RemuxError::TooLarge { at, what } => {
                write!(f, "input exceeds limits at byte {at}: {what}")
            }
            RemuxError::NoTracks => f.write_str("no audio or video track that MP4 can carry"),
            RemuxError::Unsupported(what) => write!(f, "unsupported: {what}"),
            RemuxError::Io(e) => write!(f, "i/o error: {e}"),
        }
    }
}

impl std::error::Error for RemuxError {}

impl From<std::io::Error> for RemuxError {
    fn from(e: std::io::Error) -> Self {
        RemuxError::Io(e)
    }
}
