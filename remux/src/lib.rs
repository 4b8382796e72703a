//! Stream-copy remuxing: MKV/WebM and MOV/MP4 demuxers feed one MP4 muxer.
//!
//! Demuxers ([`Demuxer`]: [`mkv::MkvDemuxer`], [`mp4::demux::Mp4Demuxer`]) turn input bytes
//! into [`Track`]s and [`Packet`]s (the model in [`model`]); the MP4 muxer ([`mp4`]) writes
//! them out, faststart or fragmented. [`pipeline`] runs a whole remux from files,
//! [`transformer`] one from Matroska bytes as they arrive. Reading a file by parts through a
//! [`Source`]: [`info`] (its media summary), [`segments`] (key frames, init segment and HLS
//! segments made from their own byte ranges), [`webvtt`] (text subtitles). No packet payload
//! is re-encoded or re-derived: codec private data is copied where the container allows. No
//! tokio, no hyper.
#![warn(unreachable_pub, missing_docs)]

mod demux;
mod files;
pub mod info;
pub mod mkv;
pub mod model;
pub mod mp4;
mod output;
pub mod pipeline;
pub mod segments;
mod subtitle;
mod track_map;
pub mod transformer;
pub mod webvtt;

pub use demux::{detect, Demuxer, Format, Source, SourceReader};
pub use model::{
    Codec, Extent, FileAction, FileError, FileNeed, Packet, RemuxError, TextFormat, Track,
    TrackKind,
};
