//! From input files to one MP4: format detection by magic, opening every input, dropping the
//! tracks MP4 cannot carry (with a one-line warning each), renumbering the rest in input order,
//! merging the packets of all inputs by time, and driving the faststart (two passes) or
//! fragmented (one streaming pass) muxer.

use std::fs::File;
use std::io::{ErrorKind, Read, Write};
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};

use bytes::Bytes;

use crate::files::{BlockWriter, InputFile};
use crate::mkv::MkvDemuxer;
use crate::mp4::demux::Mp4Demuxer;
use crate::mp4::track::time_lt;
use crate::mp4::{
    EntryOptions, FaststartHeader, FaststartPlan, FaststartWriter, FragmentOptions, FragmentOut,
    FragmentedMuxer,
};
use crate::output::{Named, OutputFile};
use crate::track_map::{drop_warning, map_tracks, output_of, with_dropped, TrackMap};
use crate::{
    detect, Demuxer, Extent, FileAction, FileNeed, Format, Packet, RemuxError, SourceReader, Track,
    TrackKind,
};

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
    /// Its name (`-`: standard input), for errors.
    path: PathBuf,
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
            match self
                .demux
                .next_packet()
                .map_err(|e| read_error(e, &self.path))?
            {
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
    /// The input tracks dropped, as `track N (CODEC)`.
    dropped: Vec<String>,
}

/// Open one input. `-` is standard input. Matroska is read as a stream (pipes work), or
/// index-only from a regular file for [`Reading::Index`]; MP4/MOV needs a regular file because
/// its index may sit at the end. I/O errors name the file.
fn open_one(path: &Path, reading: Reading) -> Result<Box<dyn Demuxer>, RemuxError> {
    let name = if path.as_os_str() == "-" {
        Path::new("/dev/stdin")
    } else {
        path
    };
    let mut file = File::open(name).map_err(FileAction::Open.on(path))?;
    let regular = file.metadata().map(|m| m.is_file()).unwrap_or(false);
    let mut head = vec![0u8; 16];
    let mut n = 0;
    while n < head.len() {
        let got = file
            .read(&mut head[n..])
            .map_err(FileAction::Read.on(path))?;
        if got == 0 {
            break;
        }
        n += got;
    }
    head.truncate(n);
    let demux: Box<dyn Demuxer> = match detect(&head) {
        Some(Format::Mp4) => {
            if !regular {
                return Err(RemuxError::NeedsFile {
                    path: path.to_path_buf(),
                    why: FileNeed::Mp4Index,
                });
            }
            let mut d = Mp4Demuxer::open(file).map_err(|e| read_error(e, path))?;
            if let Reading::Index { min } = reading {
                d.omit_payloads(min);
            }
            Box::new(d)
        }
        Some(Format::Matroska) => match reading {
            Reading::Index { min } if regular => {
                let file = SourceReader::new(file);
                Box::new(MkvDemuxer::index_only(file, min).map_err(|e| read_error(e, path))?)
            }
            // The bytes used for detection go first, then the rest: no reopening, no seeking.
            _ => {
                let stream = std::io::Cursor::new(head).chain(file);
                Box::new(MkvDemuxer::open(stream).map_err(|e| read_error(e, path))?)
            }
        },
        None => return Err(RemuxError::UnknownFormat),
    };
    Ok(demux)
}

/// An I/O error of a demuxer reading `path`, named.
fn read_error(e: RemuxError, path: &Path) -> RemuxError {
    match e {
        RemuxError::Io(io) => FileAction::Read.on(path)(io),
        other => other,
    }
}

/// Checks every input before anything is read or written: it exists and is not a directory,
/// and, if `need` says so, it is a regular file (not `-`, a pipe or a device).
fn check_inputs(paths: &[PathBuf], need: Option<FileNeed>) -> Result<(), RemuxError> {
    for path in paths {
        let regular = if path.as_os_str() == "-" {
            false
        } else {
            let m = std::fs::metadata(path).map_err(FileAction::Open.on(path))?;
            if m.is_dir() {
                return Err(FileAction::Open.on(path)(ErrorKind::IsADirectory.into()));
            }
            m.is_file()
        };
        if let (Some(why), false) = (need, regular) {
            return Err(RemuxError::NeedsFile {
                path: path.clone(),
                why,
            });
        }
    }
    Ok(())
}

/// True when `path` is a regular file (not `-`).
fn is_regular_file(path: &Path) -> bool {
    path.as_os_str() != "-" && std::fs::metadata(path).is_ok_and(|m| m.is_file())
}

impl Inputs {
    /// Open every input, read as `reading` says, and plan the output tracks.
    fn open(paths: &[PathBuf], reading: Reading) -> Result<Inputs, RemuxError> {
        let mut inputs = Vec::new();
        let mut tracks = Vec::new();
        let mut dropped = Vec::new();
        for path in paths {
            let demux = open_one(path, reading)?;
            let map = map_tracks(demux.tracks(), &mut tracks, &mut dropped);
            inputs.push(Input {
                path: path.clone(),
                demux,
                map,
                lookahead: None,
                done: false,
            });
        }
        if !tracks.iter().any(|t| t.kind != TrackKind::Subtitle) {
            return Err(RemuxError::NoTracks { dropped });
        }
        Ok(Inputs {
            inputs,
            tracks,
            warnings: dropped.iter().map(|d| drop_warning(d)).collect(),
            dropped,
        })
    }

    /// A muxer's error, naming the tracks dropped on opening too (see [`with_dropped`]).
    fn explain(&self, e: RemuxError) -> RemuxError {
        with_dropped(e, &self.dropped)
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
    plan.finish().map_err(|e| inputs.explain(e))
}

/// Faststart's second pass: the packets again, written after `header` (from
/// [`plan_faststart`] over the same `paths`) to `out_path`, which is replaced only when the
/// whole file is written. Payloads of at least `copy_min` bytes are copied file to file where
/// the input format allows it (the output is the same for every `copy_min`).
pub fn write_faststart(
    paths: &[PathBuf],
    header: &FaststartHeader,
    out_path: &Path,
    copy_min: usize,
) -> Result<(), RemuxError> {
    let mut inputs = Inputs::open(paths, Reading::Index { min: copy_min })?;
    let sources = paths
        .iter()
        .map(|p| InputFile::open(p))
        .collect::<Result<Vec<InputFile>, _>>()?;
    let (output, file) = OutputFile::create(out_path)?;
    let mut writer = FaststartWriter::new(BlockWriter::new(file), header)?;
    while let Some((idx, p)) = inputs.next_packet()? {
        let src = inputs.input_of(idx).and_then(|i| sources.get(i));
        writer.write_from(idx, p, &mut |out, extent| match src {
            Some(src) => Ok(out.put_extent(src, extent)?),
            None => Err(RemuxError::Unsupported("packet of no input".into())),
        })?;
    }
    // Written to the kernel, as cp and ffmpeg do; no fsync.
    writer.finish()?.finish()?;
    output.commit()
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
fn input_at<'a>(paths: &'a [PathBuf], out: &Path) -> Option<&'a Path> {
    use std::os::unix::fs::MetadataExt;
    let id = |p: &Path| std::fs::metadata(p).ok().map(|m| (m.dev(), m.ino()));
    let out = id(out)?;
    paths
        .iter()
        .find(|p| p.as_os_str() != "-" && id(p) == Some(out))
        .map(PathBuf::as_path)
}

/// Remux `paths` into one MP4. `warn` receives one line per dropped track.
///
/// Nothing is lost when it fails: every input is checked and opened before the output is
/// created, and a file output is written under a temporary name beside it and moved over it
/// only once complete (an existing FIFO or device is written in place and left there). An
/// output that is one of the inputs is refused.
pub fn remux_files(
    paths: &[PathBuf],
    output: &Output,
    opts: &RemuxOptions,
    warn: &mut dyn FnMut(&str),
) -> Result<(), RemuxError> {
    let entry = EntryOptions { hev1: opts.hev1 };
    let copy_min = opts.copy_min.unwrap_or(COPY_MIN);
    if let Output::File(out) = output {
        if let Some(input) = input_at(paths, out) {
            return Err(RemuxError::OutputIsInput {
                path: input.to_path_buf(),
            });
        }
    }
    if !opts.fragmented {
        let Output::File(out_path) = output else {
            return Err(RemuxError::Unsupported(
                "faststart output to standard output".into(),
            ));
        };
        check_inputs(paths, Some(FileNeed::ReadTwice))?;
        // Pass 1: sample tables only, seeking over payloads where it can.
        let header = plan_faststart(paths, entry, Reading::Index { min: 0 }, warn)?;
        for w in &header.warnings {
            warn(w);
        }
        return write_faststart(paths, &header, out_path, copy_min);
    }
    check_inputs(paths, None)?;
    // One input file: payloads are read from it by the block writer, as in faststart. (From
    // a pipe, every payload goes through the demuxer and each fragment is written as soon as
    // it is complete, so a live stream's reader sees it.)
    let copy_from = match paths {
        [path] if is_regular_file(path) => Some(InputFile::open(path)?),
        _ => None,
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
    let (output, out) = match output {
        Output::File(p) => {
            let (output, file) = OutputFile::create(p)?;
            (Some(output), file)
        }
        // Our own descriptor for stdout: whole blocks, no line buffering.
        Output::Stdout => {
            let stdout = std::io::stdout().as_fd().try_clone_to_owned();
            let stdout = stdout.map_err(FileAction::Write.on(Path::new("-")))?;
            (None, Named::new(File::from(stdout), Path::new("-")))
        }
    };
    match &copy_from {
        Some(src) => {
            let mut out = CopyingOut {
                out: BlockWriter::new(out),
                src,
            };
            mux_fragments(&mut inputs, &mut mux, &mut out, warn, |_| Ok(()))?;
            out.out.finish()?;
        }
        None => {
            let mut sink = out;
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
    output.map_or(Ok(()), OutputFile::commit)
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
        mux.push(idx, p, out).map_err(|e| inputs.explain(e))?;
        after(out)?;
        for w in mux.take_warnings() {
            warn(&w);
        }
    }
    mux.finish(out).map_err(|e| inputs.explain(e))?;
    for w in mux.take_warnings() {
        warn(&w);
    }
    after(out)
}

/// Fragmented output from one input file, the payloads the demuxer left unread read from it.
struct CopyingOut<'a> {
    out: BlockWriter<'a, Named<File>>,
    src: &'a InputFile,
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
