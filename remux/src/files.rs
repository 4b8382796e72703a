//! The block writer that copies payloads from input files to the output for faststart's
//! second pass and fragmented output to a file: it saves system calls and copies by reading
//! runs of payloads straight into its output buffer. (The index-only Matroska reader's
//! positional reads, its other half, are [`crate::SourceReader`].)

use std::fs::File;
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{channel, sync_channel, Receiver, SyncSender};
use std::thread::JoinHandle;

use crate::{Extent, FileAction, RemuxError};

/// An input file the [`BlockWriter`] copies payloads from, with its name: a failed read says
/// which file it was.
#[derive(Debug)]
pub(crate) struct InputFile {
    file: File,
    path: PathBuf,
}

impl InputFile {
    /// Opens `path` for reading.
    pub(crate) fn open(path: &Path) -> Result<InputFile, RemuxError> {
        let file = File::open(path).map_err(FileAction::Open.on(path))?;
        Ok(InputFile {
            file,
            path: path.to_path_buf(),
        })
    }

    /// Fills `buf` from `offset`. An error names the file; a file shorter than that is
    /// reported as having changed since it was indexed.
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
        self.file.read_exact_at(buf, offset).map_err(|e| {
            let e = match e.kind() {
                std::io::ErrorKind::UnexpectedEof => std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "input file shorter than when it was indexed (changed while remuxing?)",
                ),
                _ => e,
            };
            FileAction::Read.io_on(&self.path, e)
        })
    }
}

/// Size of [`BlockWriter`]'s blocks. The output is written in blocks of this size, so every
/// write starts on a page boundary of the output file. Blocks are kept small so that all
/// buffers together (`BLOCKS_IN_FLIGHT + 1` of this plus `GAP_ROOM`, 576 KiB) stay in a
/// core's 1 MiB L2 cache: each payload byte is copied into a block by `pread` and out of it by
/// `write` while still cached. On our 2-core VM, 256 KiB blocks (1 MiB in all) ran at the
/// speed of `cp` in some states of the machine and 2.5 to 3 times slower in others (after an
/// ffmpeg run, for one); 128 KiB blocks ran at `cp` speed in all of them. `dd` shows the same
/// cliff between `bs=512K` and `bs=1M`.
pub(crate) const BLOCK: usize = 128 << 10;

/// A block's buffer holds this much more than [`BLOCK`]: the gaps that one read covers
/// before they are cut out.
const GAP_ROOM: usize = 16 << 10;

fn new_buffer() -> Box<[u8]> {
    vec![0; BLOCK + GAP_ROOM].into_boxed_slice()
}

/// Two payloads at most this many bytes apart in the same input are read with one `pread`
/// and the bytes between them (Matroska block headers, MP4 chunk neighbours) cut out in the
/// buffer: copying a few KiB in cache is cheaper than a system call.
const MAX_GAP: u64 = 4 << 10;

/// An output file written in [`BLOCK`]-sized, page-aligned blocks. Bytes the muxer makes are
/// copied into the block being filled; payloads are read from their input file straight into
/// it (`pread`, no intermediate buffer), and runs of payloads that sit close together in the
/// input are read with one call. Full blocks go to a writing thread, so reading the next
/// block overlaps writing this one. This is how faststart's second pass and fragmented output
/// to a file copy payload bytes: one `pread` per run, one `write` per block, two cores busy.
///
/// Reads are deferred until the block must hold their bytes, so an error from a read (an
/// input shorter than its index said) surfaces at a later call or at [`BlockWriter::finish`];
/// an error from the output surfaces at the next block sent or at `finish`.
#[derive(Debug)]
pub(crate) struct BlockWriter<'a, W: Write + Send + 'static> {
    out: BlockThread<W>,
    buf: Box<[u8]>,
    /// Bytes of `buf` in use (read or copied in), excluding the pending read.
    len: usize,
    /// A read not done yet: it will fill `buf[at..at + len]`.
    pending: Option<PendingRead<'a>>,
    /// Ranges of the pending read's bytes that are not output (the gaps between payloads),
    /// as (position in `buf`, length), in order.
    cuts: Vec<(usize, usize)>,
}

#[derive(Debug)]
struct PendingRead<'a> {
    src: &'a InputFile,
    offset: u64,
    at: usize,
    len: usize,
    /// Bytes of gaps in it (see `cuts`): it adds `len - gaps` bytes of output.
    gaps: usize,
}

impl PendingRead<'_> {
    fn end(&self) -> u64 {
        self.offset + self.len as u64
    }
}

impl<'a, W: Write + Send + 'static> BlockWriter<'a, W> {
    /// Write to `out` (a file: from its current position).
    pub(crate) fn new(out: W) -> BlockWriter<'a, W> {
        BlockWriter {
            out: BlockThread::start(out),
            buf: new_buffer(),
            len: 0,
            pending: None,
            cuts: Vec::new(),
        }
    }

    /// Appends `extent` of `src`.
    pub(crate) fn put_extent(&mut self, src: &'a InputFile, extent: Extent) -> std::io::Result<()> {
        let (mut offset, mut left) = (extent.offset, extent.len);
        while left > 0 {
            if let Some(p) = &mut self.pending {
                let gap = offset.checked_sub(p.end()).filter(|g| *g <= MAX_GAP);
                if let Some(gap) = gap.filter(|_| std::ptr::eq(p.src, src)) {
                    // Extend the pending read over the gap and as much as the block holds
                    // (its output, and the buffer with the gaps read).
                    let gap = gap as usize;
                    let room = BLOCK - (self.len + p.len - p.gaps);
                    let take = left
                        .min(room)
                        .min(self.buf.len().saturating_sub(p.at + p.len + gap));
                    if take > 0 {
                        if gap > 0 {
                            self.cuts.push((p.at + p.len, gap));
                        }
                        p.len += gap + take;
                        p.gaps += gap;
                        offset += take as u64;
                        left -= take;
                        continue;
                    }
                }
            }
            self.read_pending()?;
            if self.len == BLOCK {
                self.write_block()?;
            }
            let take = left.min(BLOCK - self.len);
            self.pending = Some(PendingRead {
                src,
                offset,
                at: self.len,
                len: take,
                gaps: 0,
            });
            offset += take as u64;
            left -= take;
        }
        Ok(())
    }

    /// Does the pending read, if any, and closes the gaps it read.
    fn read_pending(&mut self) -> std::io::Result<()> {
        let Some(p) = self.pending.take() else {
            return Ok(());
        };
        let end = p.at + p.len;
        p.src.read_exact_at(&mut self.buf[p.at..end], p.offset)?;
        let mut to = p.at;
        let mut from = p.at;
        for (at, len) in self.cuts.drain(..) {
            self.buf.copy_within(from..at, to);
            to += at - from;
            from = at + len;
        }
        self.buf.copy_within(from..end, to);
        self.len = to + (end - from);
        Ok(())
    }

    fn write_block(&mut self) -> std::io::Result<()> {
        if self.len > 0 {
            self.buf = self.out.send(std::mem::take(&mut self.buf), self.len)?;
            self.len = 0;
        }
        Ok(())
    }

    /// Writes what is buffered and returns the output.
    pub(crate) fn finish(mut self) -> std::io::Result<W> {
        self.read_pending()?;
        self.write_block()?;
        self.out.finish()
    }
}

/// Blocks queued for (or being written by) [`BlockWriter`]'s writing thread while the next is
/// filled, so the reads into one block overlap the writes of the others, on two cores.
const BLOCKS_IN_FLIGHT: usize = 3;

/// The thread that writes [`BlockWriter`]'s blocks to the output and hands the buffers back.
#[derive(Debug)]
struct BlockThread<W> {
    /// Blocks to write, with their length; `None` once the thread is stopped.
    full: Option<SyncSender<(Box<[u8]>, usize)>>,
    /// Buffers written, to fill again.
    empty: Receiver<Box<[u8]>>,
    /// Buffers made besides the first one, at most [`BLOCKS_IN_FLIGHT`]; after that, each
    /// block sent waits for one written.
    made: usize,
    thread: Option<JoinHandle<std::io::Result<W>>>,
}

impl<W: Write + Send + 'static> BlockThread<W> {
    fn start(mut out: W) -> BlockThread<W> {
        let (full, blocks) = sync_channel::<(Box<[u8]>, usize)>(BLOCKS_IN_FLIGHT);
        let (written, empty) = channel();
        // If the thread cannot be started, `blocks` is dropped and the first send fails.
        let thread = std::thread::Builder::new()
            .name("tgmux-write".into())
            .spawn(move || {
                for (buf, len) in blocks {
                    out.write_all(&buf[..len])?;
                    // The receiver is gone only when the writer is dropped: nothing to hand back.
                    let _ = written.send(buf);
                }
                out.flush()?;
                Ok(out)
            })
            .ok();
        BlockThread {
            full: Some(full),
            empty,
            made: 0,
            thread,
        }
    }

    /// Queues `buf[..len]` for writing and returns the buffer to fill next: a new one until
    /// [`BLOCKS_IN_FLIGHT`] are out, then the next one written.
    fn send(&mut self, buf: Box<[u8]>, len: usize) -> std::io::Result<Box<[u8]>> {
        let sent = self.full.as_ref().map(|f| f.send((buf, len)));
        if !matches!(sent, Some(Ok(()))) {
            return Err(self.stop());
        }
        if self.made < BLOCKS_IN_FLIGHT {
            self.made += 1;
            return Ok(new_buffer());
        }
        self.empty.recv().map_err(|_| self.stop())
    }

    /// Stops the thread (after it has written what was sent) and returns what it returned.
    fn join(&mut self) -> std::io::Result<W> {
        self.full = None;
        match self.thread.take().map(JoinHandle::join) {
            Some(Ok(result)) => result,
            _ => Err(std::io::Error::other(
                "the output writing thread did not start or panicked",
            )),
        }
    }

    /// The error that stopped the thread early.
    fn stop(&mut self) -> std::io::Error {
        match self.join() {
            Err(e) => e,
            Ok(_) => std::io::Error::other("the output writing thread stopped"),
        }
    }

    /// Waits for every block to be written and flushed; returns the output.
    fn finish(mut self) -> std::io::Result<W> {
        self.join()
    }
}

impl<W> Drop for BlockThread<W> {
    /// A writer dropped on an error path still lets its thread finish before going.
    fn drop(&mut self) {
        self.full = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl<W: Write + Send + 'static> Write for BlockWriter<'_, W> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.read_pending()?;
        if self.len == BLOCK {
            self.write_block()?;
        }
        let n = bytes.len().min(BLOCK - self.len);
        self.buf[self.len..self.len + n].copy_from_slice(&bytes[..n]);
        self.len += n;
        Ok(n)
    }

    /// Hands everything buffered to the writing thread (the block may be short). The
    /// bytes reach the output by [`BlockWriter::finish`].
    fn flush(&mut self) -> std::io::Result<()> {
        self.read_pending()?;
        self.write_block()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> std::path::PathBuf {
        std::env::temp_dir().join(format!("tgmux-{name}-{}", std::process::id()))
    }

    /// Random inline writes and extents of two inputs (mostly close together, some far
    /// apart, backwards, or larger than a block) give the bytes a plain copy gives.
    #[test]
    fn block_writer_output_equals_a_plain_copy() {
        let inputs: Vec<Vec<u8>> = (0..2u32)
            .map(|k| {
                (0..3_000_000u32)
                    .map(|i| (i * 7 + k * 13) as u8 ^ (i >> 11) as u8)
                    .collect()
            })
            .collect();
        let paths = [scratch("bw-in0"), scratch("bw-in1")];
        for (p, d) in paths.iter().zip(&inputs) {
            std::fs::write(p, d).unwrap();
        }
        let srcs: Vec<InputFile> = paths.iter().map(|p| InputFile::open(p).unwrap()).collect();
        let out_path = scratch("bw-out");
        let mut rng = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move |n: u64| {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng % n
        };
        let mut w = BlockWriter::new(File::create(&out_path).unwrap());
        let mut want = Vec::new();
        let mut pos = [0u64; 2];
        for _ in 0..4000 {
            let k = next(2) as usize;
            match next(10) {
                0 => {
                    let n = next(3000) as usize;
                    let bytes: Vec<u8> = (0..n).map(|i| i as u8).collect();
                    w.write_all(&bytes).unwrap();
                    want.extend_from_slice(&bytes);
                }
                r => {
                    let len = match r {
                        1 => next(700_000) as usize,
                        2 => 0,
                        _ => next(90_000) as usize + 1,
                    };
                    let offset = match next(8) {
                        0 => next(2_000_000),
                        1 => pos[k].saturating_sub(next(100)),
                        _ => {
                            let spread = if next(2) == 0 { 20 } else { 5000 };
                            pos[k] + next(spread)
                        }
                    };
                    let offset = offset.min((inputs[k].len() - len) as u64);
                    w.put_extent(&srcs[k], Extent { offset, len }).unwrap();
                    want.extend_from_slice(&inputs[k][offset as usize..offset as usize + len]);
                    pos[k] = offset + len as u64;
                }
            }
        }
        w.finish().unwrap();
        let got = std::fs::read(&out_path).unwrap();
        assert_eq!(got.len(), want.len());
        assert!(got == want, "output differs from the plain copy");
        for p in paths.iter().chain([&out_path]) {
            std::fs::remove_file(p).unwrap();
        }
    }

    /// Every write but the last is one whole block, so each starts on a page boundary.
    #[test]
    fn block_writer_writes_whole_blocks() {
        #[derive(Default)]
        struct Sizes(Vec<usize>);
        impl Write for Sizes {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                self.0.push(b.len());
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let a = scratch("bw-blocks-in");
        std::fs::write(&a, vec![7u8; 1 << 20]).unwrap();
        let src = InputFile::open(&a).unwrap();
        let mut w = BlockWriter::new(Sizes::default());
        for i in 0..300u64 {
            w.write_all(&[1, 2, 3]).unwrap();
            w.put_extent(
                &src,
                Extent {
                    offset: i * 3000 % 900_000,
                    len: 5001,
                },
            )
            .unwrap();
        }
        let sizes = w.finish().unwrap().0;
        let (last, full) = sizes.split_last().unwrap();
        assert!(full.iter().all(|n| *n == BLOCK), "{sizes:?}");
        assert_eq!(full.len() * BLOCK + last, 300 * 5004);
        std::fs::remove_file(&a).unwrap();
    }

    /// An output that fails (a full disk) stops the writer with its error, not a hang.
    #[test]
    fn block_writer_reports_a_failing_output() {
        struct Full(usize);
        impl Write for Full {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                if self.0 == 0 {
                    return Err(std::io::Error::other("no space left (test)"));
                }
                self.0 -= 1;
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let block = vec![5u8; BLOCK];
        // Fails while blocks are still being sent, and at the end.
        for (blocks_ok, blocks_sent) in [(2, 50), (2, 3)] {
            let mut w = BlockWriter::new(Full(blocks_ok));
            let sent = (0..blocks_sent).try_for_each(|_| w.write_all(&block));
            let e = sent.and_then(|()| w.finish().map(|_| ())).unwrap_err();
            assert!(e.to_string().contains("no space left"), "{e}");
        }
    }

    #[test]
    fn block_writer_reports_an_input_shorter_than_its_index() {
        let (a, b) = (scratch("bw-short-in"), scratch("bw-short-out"));
        std::fs::write(&a, vec![1u8; 1000]).unwrap();
        let src = InputFile::open(&a).unwrap();
        let mut w = BlockWriter::new(File::create(&b).unwrap());
        w.put_extent(
            &src,
            Extent {
                offset: 0,
                len: 600,
            },
        )
        .unwrap();
        w.put_extent(
            &src,
            Extent {
                offset: 900,
                len: 200,
            },
        )
        .unwrap();
        let e = w.finish().unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::UnexpectedEof);
        let e = e.to_string();
        assert!(e.contains("shorter than when it was indexed"), "{e}");
        assert!(e.contains(&format!("cannot read {}", a.display())), "{e}");
        std::fs::remove_file(&a).unwrap();
        std::fs::remove_file(&b).unwrap();
    }
}
