//! What a demuxer produces and the muxer consumes.
//!
//! Times are integers in the track's own `timescale` (ticks per second). A demuxer reports
//! what its container says and nothing more: Matroska gives presentation times only
//! (`dts: None`), MP4/MOV give both. The muxer derives what the output needs.

use std::path::{Path, PathBuf};

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

/// Why remuxing failed. Every variant renders as one line, and none carries advice for a
/// command line (the CLI adds that when it prints).
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
    /// No audio or video track remains after dropping those MP4 cannot carry.
    NoTracks {
        /// The tracks dropped, each as `track N (CODEC)`.
        dropped: Vec<String>,
    },
    /// An input must be a regular file for this and is a pipe, a device or standard input.
    NeedsFile {
        /// The input (`-`: standard input).
        path: PathBuf,
        /// Why it must be a file.
        why: FileNeed,
    },
    /// The output is one of the inputs (the same file by any name or link).
    OutputIsInput {
        /// The input, as named.
        path: PathBuf,
    },
    /// The output cannot be written this way (e.g. faststart to standard output).
    Unsupported(String),
    /// An operation on a named file failed.
    File(FileError),
    /// Reading or writing failed where no file name is known (a caller's reader or writer).
    Io(std::io::Error),
}

/// Why an input must be a regular file; see [`RemuxError::NeedsFile`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileNeed {
    /// Faststart output reads every input twice.
    ReadTwice,
    /// MP4/MOV is read at the offsets its index gives, and the index may be at the end.
    Mp4Index,
}

/// What was being done with a file when it failed; see [`FileError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileAction {
    /// Opening an input.
    Open,
    /// Reading an input.
    Read,
    /// Creating the output (or the temporary file it is written to).
    Create,
    /// Writing the output.
    Write,
    /// Moving the finished output over the file it replaces.
    Replace,
}

/// A failed operation on a named file: `cannot ACTION PATH: REASON`.
#[derive(Debug)]
pub struct FileError {
    /// The file as the caller named it (`-`: standard input or output).
    pub path: PathBuf,
    /// What was being done.
    pub action: FileAction,
    /// Why it failed.
    pub source: std::io::Error,
}

impl FileAction {
    /// The conversion of an I/O error on `path` into a [`RemuxError::File`], for `map_err`.
    pub(crate) fn on(self, path: &Path) -> impl FnOnce(std::io::Error) -> RemuxError + '_ {
        move |source| {
            RemuxError::File(FileError {
                path: path.to_path_buf(),
                action: self,
                source,
            })
        }
    }

    /// The same as an `std::io::Error` that [`RemuxError`]'s `From` turns back into
    /// [`RemuxError::File`]: for errors that pass through `std::io::Write`.
    pub(crate) fn io_on(self, path: &Path, source: std::io::Error) -> std::io::Error {
        let kind = source.kind();
        let error = FileError {
            path: path.to_path_buf(),
            action: self,
            source,
        };
        std::io::Error::new(kind, error)
    }
}

impl std::fmt::Display for FileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (verb, output) = match self.action {
            FileAction::Open => ("open", false),
            FileAction::Read => ("read", false),
            FileAction::Create => ("create", true),
            FileAction::Write => ("write", true),
            FileAction::Replace => ("replace", true),
        };
        let path = self.path.display().to_string();
        let name = match (self.path.as_os_str() == "-", output) {
            (true, false) => "standard input",
            (true, true) => "standard output",
            (false, _) => &path,
        };
        write!(f, "cannot {verb} {name}: {}", self.source)
    }
}

impl std::error::Error for FileError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
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
            RemuxError::NoTracks { dropped } if dropped.is_empty() => {
                f.write_str("no audio or video track")
            }
            RemuxError::NoTracks { dropped } => write!(
                f,
                "no audio or video track that MP4 can carry (dropped {})",
                dropped.join(", ")
            ),
            RemuxError::NeedsFile { path, why } => {
                let why = match why {
                    FileNeed::ReadTwice => "faststart output reads its inputs twice",
                    FileNeed::Mp4Index => "MP4/MOV input is read where its index points",
                };
                if path.as_os_str() == "-" {
                    write!(f, "standard input is not a regular file, and {why}")
                } else {
                    write!(f, "{} is not a regular file, and {why}", path.display())
                }
            }
            RemuxError::OutputIsInput { path } => {
                write!(f, "the output is the input {}", path.display())
            }
            RemuxError::Unsupported(what) => write!(f, "unsupported: {what}"),
            RemuxError::File(e) => e.fmt(f),
            RemuxError::Io(e) => write!(f, "i/o error: {e}"),
        }
    }
}

impl std::error::Error for RemuxError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            RemuxError::File(e) => Some(&e.source),
            RemuxError::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<std::io::Error> for RemuxError {
    /// An error carrying a [`FileError`] (as the pipeline's writers make them) becomes the
    /// [`RemuxError::File`] it carries.
    fn from(e: std::io::Error) -> Self {
        if !e.get_ref().is_some_and(|inner| inner.is::<FileError>()) {
            return RemuxError::Io(e);
        }
        match e.into_inner().map(|inner| inner.downcast::<FileError>()) {
            Some(Ok(file)) => RemuxError::File(*file),
            // Checked above; kept total rather than unwrapped.
            Some(Err(other)) => RemuxError::Io(std::io::Error::other(other)),
            None => RemuxError::Io(std::io::Error::other("i/o error")),
        }
    }
}
