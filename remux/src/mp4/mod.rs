//! MP4 output (faststart and fragmented) and MP4/MOV input.
//!
//! Our own box writer, one box per file (see docs/remux.md for why not the `mp4`
//! crate). The muxer takes [`crate::Track`]s and [`crate::Packet`]s from any
//! demuxer: [`faststart`] writes moov before mdat in two passes over the packets,
//! [`fragmented`] streams init segment + moof/mdat pairs. [`demux`] reads MP4/MOV.

pub mod buf;
pub mod dac3;
pub mod demux;
pub mod dfla;
pub mod dops;
pub mod edts;
pub mod esds;
pub mod faststart;
pub mod fragmented;
pub mod ftyp;
pub mod hdlr;
pub mod mdhd;
pub mod minf;
pub mod mvhd;
pub mod stbl;
pub mod stsd;
pub mod text;
pub mod timing;
pub mod tkhd;
pub mod track;
pub mod trak;
pub mod tx3g;
pub mod vpcc;

pub use faststart::{FaststartHeader, FaststartPlan, FaststartWriter};
pub use fragmented::{FragmentOptions, FragmentedMuxer};
pub use stsd::EntryOptions;
