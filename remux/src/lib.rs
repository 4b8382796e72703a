//! Stream-copy remuxing: MKV/WebM and MOV/MP4 demuxers feed one MP4 muxer.
//!
//! Demuxers turn input bytes into [`Track`]s and [`Packet`]s (the model in [`model`]); the MP4
//! muxer writes them out, faststart or fragmented. No packet payload is re-encoded or
//! re-derived: codec private data is copied where the container allows. No tokio, no hyper.

pub mod mkv;
pub mod model;
pub mod mp4;

pub use model::{Codec, Extent, Packet, RemuxError, TextFormat, Track, TrackKind};
pub mod files;
pub mod mkv_input;
pub mod pipeline;
pub mod transformer;
