//! From input files to one MP4: format detection by magic, opening every input, dropping the
//! tracks MP4 cannot carry (with a one-line warning each), renumbering the rest in input order,
//! merging the packets of all inputs by time, and driving the faststart (two passes) or
//! fragmented (one streaming pass) muxer.

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};

use bytes::Bytes;

use crate::files::{BlockWriter, PosFile};
use crate::mkv::MkvDemuxer;
use crate::mp4::demux::Mp4Demuxer;
use crate::mp4::track::time_lt;
use crate::mp4::{
    EntryOptions, FaststartHeader, FaststartPlan, FaststartWriter, FragmentOptions, FragmentOut,
    FragmentedMuxer,
};
use crate::track_map::{map_tracks, output_of, TrackMap};
use crate::{detect, Demuxer, Extent, Format, Packet, RemuxError, Track, TrackKind};

/// What `tgmux remux` was asked for.
#[derive(Debug, Clone, Default)]
pub struct RemuxOptions {
    /// Fragmented output instead of faststart.
    pub fragmented: bool,
    /// Minimum fragment duration in seconds.
    pub fragment_duration: Option<f64>,
    /// HEVC as hev1.
    pub hev1: bool,
    /// Payloads of at least this many bytes are copied from the input file to the output
    /// file by the block writer rather than read by the demuxer (`None`: all of them). The
    /// output is the same for every value; tests use 0 and `usize::MAX` to take either path
    /// everywhere.
    pub copy_min: Option<usize>,
}

/// How the inputs are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reading {
    /// Every payload, in order (pipes work).
    Full,
    /// Payloads of at least `min` bytes left unread where the format allows it (Matroska
    /// and MP4 files; not pipes): packets may have `omitted` payloads.
    Index {
        /// Smallest payload to leave unread.
        min: usize,
    },
}

/// Faststart's second pass (and fragmented output to a file) leaves payloads of at least this
/// many bytes unread by the demuxer; the [`BlockWriter`] reads them from the input file
/// straight into its output buffer, runs of neighbouring payloads with one `pread`.
const COPY_MIN: usize = 0;

/// One open input of a remux, with the next packet it will give.
struct Input {
    demux: Box<dyn Demuxer>,
    /// Where each of its tracks goes.
    map: Vec<TrackMap>,
    /// Its next packet of a track that is kept.
    lookahead: Option<Packet>,
    done: bool,
}

impl Input {
    fn fill(&mut self) -> Result<(), RemuxError> {
        while self.lookahead.is_none() && !self.done {
            match self.demux.next_packet()? {
                None => self.done = true,
                Some(p) => {
                    if output_of(&self.map, p.track).is_some() {
                        self.lookahead = Some(p);
                    }
                }
            }
        }
        Ok(())
    }

    /// The merge key of the lookahead packet: its decode (else presentation) time and
    /// timescale.
    fn time(&self) -> Option<(i64, u32)> {
        let p = self.lookahead.as_ref()?;
        let ts = self
            .map
            .iter()
            .find(|m| m.input_id == p.track)
            .map_or(1000, |m| m.timescale);
        Some((p.dts.unwrap_or(p.pts), ts))
    }
}

/// All inputs of one remux, merged.
struct Inputs {
    inputs: Vec<Input>,
    /// The output tracks (ids renumbered 1..), in input order.
    tracks: Vec<Track>,
    /// One-line warnings about dropped tracks.
    warnings: Vec<String>,
}

/// Open one input. `-` is standard input. Matroska is read as a stream (pipes work), or
/// index-only from a regular file for [`Reading::Index`]; MP4/MOV needs a regular file because
/// its index may sit at the end.
fn open_one(path: &Path, reading: Reading) -> Result<Box<dyn Demuxer>, RemuxError> {
    let stdin = path.as_os_str() == "-";
    let mut file = if stdin {
        File::open("/dev/stdin")?
    } else {
        File::open(path)?
    };
    let regular = file.metadata().map(|m| m.is_file()).unwrap_or(false);
    let mut head = vec![0u8; 16];
    let mut n = 0;
    while n < head.len() {
        let got = file.read(&mut head[n..])?;
        if got == 0 {
            break;
        }
        n += got;
    }
    head.truncate(n);
    match detect(&head) {
        Some(Format::Mp4) => {
            if !regular {
                return Err(RemuxError::Unsupported(
                    "MP4/MOV input from a pipe (its index may be at the end): save it to a file first".into(),
                ));
            }
            let mut d = Mp4Demuxer::open(File::open(path)?)?;
            if let Reading::Index { min } = reading {
                d.omit_payloads(min);
            }
            Ok(Box::new(d))
        }
        Some(Format::Matroska) => match reading {
            Reading::Index { min } if regular => {
                Ok(Box::new(MkvDemuxer::index_only(PosFile::new(file)?, min)?))
            }
            // The bytes used for detection go first, then the rest: no reopening, no seeking.
            _ => Ok(Box::new(MkvDemuxer::open(
                std::io::Cursor::new(head).chain(file),
            )?)),
        },
        None => Err(RemuxError::UnknownFormat),
    }
}

/// True when every input can be read twice (faststart's two passes).
fn all_regular_files(paths: &[PathBuf]) -> bool {
    paths
        .iter()
        .all(|p| p.as_os_str() != "-" && std::fs::metadata(p).map(|m| m.is_file()).unwrap_or(true))
}

impl Inputs {
    /// Open every input, read as `reading` says, and plan the output tracks.
    fn open(paths: &[PathBuf], reading: Reading) -> Result<Inputs, RemuxError> {
        let mut inputs = Vec::new();
        let mut tracks = Vec::new();
        let mut warnings = Vec::new();
        for path in paths {
            let demux = open_one(path, reading).map_err(|e| with_path(e, path))?;
            let map = map_tracks(demux.tracks(), &mut tracks, &mut warnings);
            inputs.push(Input {
                demux,
                map,
                lookahead: None,
                done: false,
            });
        }
        if !tracks.iter().any(|t| t.kind != TrackKind::Subtitle) {
            return Err(RemuxError::NoTracks);
        }
        Ok(Inputs {
            inputs,
            tracks,
            warnings,
        })
    }

    /// Which input (index into the paths given to `open`) output track `idx` comes from.
    fn input_of(&self, idx: usize) -> Option<usize> {
        self.inputs
            .iter()
            .position(|i| i.map.iter().any(|m| m.output == Some(idx)))
    }

    /// The next packet of all inputs by decode (else presentation) time, with its output
    /// track index.
    fn next_packet(&mut self) -> Result<Option<(usize, Packet)>, RemuxError> {
        let mut best: Option<(usize, (i64, u32))> = None;
        for (i, input) in self.inputs.iter_mut().enumerate() {
            input.fill()?;
            if let Some(t) = input.time() {
                if best.is_none_or(|(_, b)| time_lt(t.0, t.1, b.0, b.1)) {
                    best = Some((i, t));
                }
            }
        }
        let Some((i, _)) = best else { return Ok(None) };
        let input = &mut self.inputs[i];
        let Some(mut p) = input.lookahead.take() else {
            return Ok(None);
        };
        let Some(idx) = output_of(&input.map, p.track) else {
            return Ok(None);
        };
        p.track = idx as u64 + 1;
        Ok(Some((idx, p)))
    }
}

fn with_path(e: RemuxError, path: &Path) -> RemuxError {
    match e {
        RemuxError::Io(io) => RemuxError::Io(std::io::Error::new(
            io.kind(),
            format!("{}: {io}", path.display()),
        )),
        other => other,
    }
}

/// Faststart's first pass: read every packet's size, times and flags and lay out the output
/// (ftyp + moov + mdat header). `warn` receives one line per track dropped on opening; those
/// dropped later are in the header's warnings. Both `reading`s give the same header.
pub fn plan_faststart(
    paths: &[PathBuf],
    entry: EntryOptions,
    reading: Reading,
    warn: &mut dyn FnMut(&str),
) -> Result<FaststartHeader, RemuxError> {
    let mut inputs = Inputs::open(paths, reading)?;
    for w in &inputs.warnings {
        warn(w);
    }
    let mut plan = FaststartPlan::new(inputs.tracks.clone(), entry);
    while let Some((idx, p)) = inputs.next_packet()? {
        plan.add(idx, p)?;
    }
    plan.finish()
}

/// Faststart's second pass: the packets again, written after `header` (from
/// [`plan_faststart`] over the same `paths`) to `out_path`. Payloads of at least `copy_min`
/// bytes are copied file to file where the input format allows it (the output is the same
/// for every `copy_min`).
pub fn write_faststart(
    paths: &[PathBuf],
    header: &FaststartHeader,
    out_path: &Path,
    copy_min: usize,
) -> Result<(), RemuxError> {
    let mut inputs = Inputs::open(paths, Reading::Index { min: copy_min })?;
    let sources = paths
        .iter()
        .map(File::open)
        .collect::<Result<Vec<File>, _>>()?;
    let mut writer = FaststartWriter::new(BlockWriter::new(File::create(out_path)?), header)?;
    while let Some((idx, p)) = inputs.next_packet()? {
        let src = inputs.input_of(idx).and_then(|i| sources.get(i));
        writer.write_from(idx, p, &mut |out, extent| match src {
            Some(src) => Ok(out.put_extent(src, extent)?),
            None => Err(RemuxError::Unsupported("packet of no input".into())),
        })?;
    }
    // Written to the kernel, as cp and ffmpeg do; no fsync.
    writer.finish()?.finish()?;
    Ok(())
}

fn output_path(output: &Output) -> Option<&Path> {
    match output {
        Output::File(p) => Some(p),
        Output::Stdout => None,
    }
}

/// Where the MP4 goes.
#[derive(Debug, Clone)]
pub enum Output {
    /// A file path (faststart or fragmented).
    File(PathBuf),
    /// Standard output (fragmented only).
    Stdout,
}

/// The input that `out` is (the same file through any path or link), if any: writing the
/// output there would destroy the input before it is read.
pub fn input_at<'a>(paths: &'a [PathBuf], out: &Path) -> Option<&'a Path> {
    use std::os::unix::fs::MetadataExt;
    let id = |p: &Path| std::fs::metadata(p).ok().map(|m| (m.dev(), m.ino()));
    let out = id(out)?;
    paths
        .iter()
        .find(|p| p.as_os_str() != "-" && id(p) == Some(out))
        .map(PathBuf::as_path)
}

/// Remux `paths` into one MP4. `warn` receives one line per dropped track.
pub fn remux_files(
    paths: &[PathBuf],
    output: &Output,
    opts: &RemuxOptions,
    warn: &mut dyn FnMut(&str),
) -> Result<(), RemuxError> {
    let entry = EntryOptions { hev1: opts.hev1 };
    let copy_min = opts.copy_min.unwrap_or(COPY_MIN);
    if let Some(input) = input_at(paths, output_path(output).unwrap_or(Path::new(""))) {
        return Err(RemuxError::Unsupported(format!(
            "the output is the input {}: write to another file",
            input.display()
        )));
    }
    if !opts.fragmented {
        let Output::File(out_path) = output else {
            return Err(RemuxError::Unsupported(
                "faststart output needs a file; use --fragmented for stdout".into(),
            ));
        };
        if !all_regular_files(paths) {
            return Err(RemuxError::Unsupported(
                "faststart output reads its inputs twice and needs files, not pipes; use --fragmented".into(),
            ));
        }
        // Pass 1: sample tables only, seeking over payloads where it can.
        let header = plan_faststart(paths, entry, Reading::Index { min: 0 }, warn)?;
        for w in &header.warnings {
            warn(w);
        }
        return write_faststart(paths, &header, out_path, copy_min);
    }
    // One input file: payloads are read from it by the block writer, as in faststart. (From
    // a pipe, every payload goes through the demuxer and each fragment is written as soon as
    // it is complete, so a live stream's reader sees it.)
    let copy_from = if paths.len() == 1 && all_regular_files(paths) {
        Some(File::open(&paths[0])?)
    } else {
        None
    };
    let reading = match copy_from {
        Some(_) => Reading::Index { min: copy_min },
        None => Reading::Full,
    };
    let mut inputs = Inputs::open(paths, reading)?;
    for w in &inputs.warnings {
        warn(w);
    }
    let mut mux = FragmentedMuxer::new(
        inputs.tracks.clone(),
        FragmentOptions {
            entry,
            fragment_duration: opts.fragment_duration,
        },
    );
    match &copy_from {
        Some(src) => {
            let file = match output {
                Output::File(p) => File::create(p)?,
                // Our own descriptor for stdout: whole blocks, no line buffering.
                Output::Stdout => File::from(std::io::stdout().as_fd().try_clone_to_owned()?),
            };
            let mut out = CopyingOut {
                out: BlockWriter::new(file),
                src,
            };
            mux_fragments(&mut inputs, &mut mux, &mut out, warn, |_| Ok(()))?;
            out.out.finish()?;
        }
        None => {
            let mut sink: Box<dyn Write> = match output {
                Output::File(p) => Box::new(File::create(p)?),
                Output::Stdout => Box::new(std::io::stdout().lock()),
            };
            // Each fragment is written as soon as it is complete (a pipe reader sees it).
            let mut buf = Vec::with_capacity(1 << 20);
            mux_fragments(&mut inputs, &mut mux, &mut buf, warn, |buf| {
                if !buf.is_empty() {
                    sink.write_all(buf)?;
                    buf.clear();
                }
                Ok(())
            })?;
            sink.flush()?;
        }
    }
    Ok(())
}

/// Feeds every packet to `mux` and finishes it; `after` runs after each packet and at the end.
fn mux_fragments<O: FragmentOut>(
    inputs: &mut Inputs,
    mux: &mut FragmentedMuxer,
    out: &mut O,
    warn: &mut dyn FnMut(&str),
    mut after: impl FnMut(&mut O) -> Result<(), RemuxError>,
) -> Result<(), RemuxError> {
    while let Some((idx, p)) = inputs.next_packet()? {
        mux.push(idx, p, out)?;
        after(out)?;
        for w in mux.take_warnings() {
            warn(&w);
        }
    }
    mux.finish(out)?;
    for w in mux.take_warnings() {
        warn(&w);
    }
    after(out)
}

/// Fragmented output from one input file, the payloads the demuxer left unread read from it.
struct CopyingOut<'a> {
    out: BlockWriter<'a>,
    src: &'a File,
}

impl FragmentOut for CopyingOut<'_> {
    fn put(&mut self, bytes: &[u8]) -> Result<(), RemuxError> {
        Ok(self.out.write_all(bytes)?)
    }

    fn put_payload(&mut self, data: &Bytes, omitted: Option<Extent>) -> Result<(), RemuxError> {
        match omitted {
            Some(extent) => Ok(self.out.put_extent(self.src, extent)?),
            None => Ok(self.out.write_all(data)?),
        }
    }
}
