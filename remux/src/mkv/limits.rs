//! Every cap the Matroska demuxer enforces, in one place.
//!
//! The demuxer buffers whole elements only for small metadata (EBML header, Info, Tracks, Cues)
//! and for one block at a time, so these caps bound its memory. Anything beyond them is a
//! [`RemuxError::TooLarge`](crate::RemuxError::TooLarge), never an allocation.

/// Longest element id in bytes (EBMLMaxIDLength for Matroska).
pub(crate) const MAX_ID_LEN: usize = 4;
/// Longest element size field in bytes (EBMLMaxSizeLength).
pub(crate) const MAX_SIZE_LEN: usize = 8;
/// The EBML header element (DocType etc.).
pub(crate) const MAX_EBML_HEADER: u64 = 64 * 1024;
/// The segment Info element.
pub(crate) const MAX_INFO: u64 = 1024 * 1024;
/// The Tracks element (all TrackEntries with their CodecPrivate).
pub(crate) const MAX_TRACKS_ELEMENT: u64 = 16 * 1024 * 1024;
/// A SeekHead larger than this is skipped instead of parsed.
pub(crate) const MAX_SEEK_HEAD: u64 = 64 * 1024;
/// Cues larger than this are skipped instead of parsed (the seek index stays empty).
pub(crate) const MAX_CUES: u64 = 32 * 1024 * 1024;
/// Number of cue points kept for the seek index.
pub(crate) const MAX_CUE_POINTS: usize = 1_000_000;
/// One SimpleBlock or BlockGroup: the largest unit the demuxer buffers while streaming.
pub(crate) const MAX_BLOCK: u64 = 64 * 1024 * 1024;
/// One frame after ContentEncoding (zlib, header stripping) is undone.
pub(crate) const MAX_FRAME: usize = 64 * 1024 * 1024;
/// CodecPrivate after decoding.
pub(crate) const MAX_CODEC_PRIVATE: usize = 8 * 1024 * 1024;
/// Tracks in one file.
pub(crate) const MAX_TRACKS: usize = 256;
/// Frames in one laced block (the lace count byte allows 256).
pub(crate) const MAX_LACED_FRAMES: usize = 256;
/// ContentEncoding entries per track.
pub(crate) const MAX_CONTENT_ENCODINGS: usize = 8;
/// Largest integer element (Timestamp, TrackNumber, ...): EBML unsigned integers are 0..=8 bytes.
pub(crate) const MAX_INT: u64 = 8;
/// Longest text element kept (CodecID, Language, Name...); longer ones are truncated.
pub(crate) const MAX_TEXT: usize = 4096;
