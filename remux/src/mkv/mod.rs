//! Streaming Matroska/WebM demuxer: reads any byte stream in order, never seeks.
//!
//! Two layers. [`MkvParser`] is sans-IO: [`MkvParser::push`] input bytes as they arrive,
//! [`MkvParser::poll`] events out ([`MkvEvent::Tracks`] once, then [`MkvEvent::Packet`]s, then
//! [`MkvEvent::End`]); `Ok(None)` means "need more bytes". [`MkvParser::finish`] marks the end
//! of input. [`MkvDemuxer`] drives it from any `std::io::Read` and is the
//! [`Demuxer`](crate::Demuxer) the file pipeline uses.
//!
//! Index-only reading ([`MkvParser::index_only`], [`MkvDemuxer::index_only`]) is for a caller
//! that needs sizes and times, or copies payloads itself: plain SimpleBlock payloads are not
//! buffered but reported as input extents, and the parser tells the caller how far it may
//! jump ahead ([`MkvParser::skip_ahead`]); over a seekable file the demuxer then seeks
//! instead of reading.
//!
//! What it reads:
//! - the EBML header (DocType `matroska` or `webm`), variable-length ids and sizes;
//! - Segment and Cluster of unknown size (live files): an unknown-size Cluster ends where a
//!   Segment-level element starts, an unknown-size Segment at the end of input;
//! - Info (TimestampScale, Duration), Tracks (see `codec.rs` for the mapping to the model),
//!   Cues (kept as a seek index, [`MkvParser::cues`]); SeekHead, Tags, Chapters,
//!   Attachments, Void, CRC-32 and unknown elements are skipped without being buffered;
//! - SimpleBlock and BlockGroup (Block, BlockDuration, ReferenceBlock: a BlockGroup without
//!   ReferenceBlock is a keyframe), Xiph/EBML/fixed lacing, ContentEncoding zlib and header
//!   stripping.
//!
//! Times: see `time.rs` (one exact timescale per file, 1000 ticks/s for the default
//! TimestampScale). Packets carry `pts` only (`dts: None`). A track's CodecDelay (Opus
//! pre-skip), rounded to ticks and also given as `Track::codec_delay`, is subtracted from its
//! packets' times, as ffmpeg does: the first Opus packet has pts `-codec_delay`, and the
//! decoded sample at time 0 is the first one to present. Laced frames get
//! `block time + floor(span * i / n)` where `span` is the BlockDuration, else
//! `floor(DefaultDuration * n / TimestampScale)`; without either, every frame of the lace
//! has the block's timestamp and no duration. A packet's `duration` is the BlockDuration
//! (or its share of the lace), else `None`; `Track::default_duration` carries
//! DefaultDuration rounded to ticks. `Packet::input_offset` is the offset of the Cluster
//! holding the block, a point a new demuxer can resume from given the Tracks.
//!
//! Memory: the parser buffers one element at a time (a block up to
//! `limits::MAX_BLOCK`, or Info/Tracks/Cues), never a whole Cluster. Bad input gives
//! `UnknownFormat` (not EBML/Matroska), `Malformed`, `TooLarge` (beyond `limits.rs`) or
//! `Truncated` (input ended inside an element), never a panic.

mod block;
mod codec;
mod cues;
mod demuxer;
mod ebml;
mod encoding;
mod ids;
mod index;
mod limits;
mod parser;
mod time;
mod tracks;

pub use cues::CuePoint;
pub use demuxer::MkvDemuxer;
pub(crate) use index::cluster_index;
pub use parser::{MkvEvent, MkvParser};
