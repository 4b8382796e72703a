//! The output file of a remux. It is written under a temporary name in the same directory
//! and moved over the output only once complete, so a remux that fails leaves whatever was
//! there before; and every error writing it names it.

use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use crate::{FileAction, RemuxError};

/// The output being written, until [`OutputFile::commit`].
#[derive(Debug)]
pub(crate) struct OutputFile {
    /// The output as the caller named it (errors name it so).
    path: PathBuf,
    /// The file the result replaces: `path`, or the file a symlink at `path` points to.
    target: PathBuf,
    /// The temporary file, until it is moved over `target` or removed; `None` when the
    /// output is written in place.
    temp: Option<PathBuf>,
}

/// Makes temporary names unique within the process (the process id, across processes).
static TEMP_SEQ: AtomicU32 = AtomicU32::new(0);

impl OutputFile {
    /// Creates the file to write `path` through. An existing FIFO or device (`/dev/null`)
    /// is written in place, and never replaced or removed; otherwise a new temporary file
    /// beside the target is, with the permissions of the file it will replace. Through a
    /// symlink, the file it points to is replaced and the link stays.
    pub(crate) fn create(path: &Path) -> Result<(OutputFile, Named<File>), RemuxError> {
        let fail = |e| FileAction::Create.on(path)(e);
        let target = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        let existing = std::fs::metadata(&target).ok();
        let mut output = OutputFile {
            path: path.to_path_buf(),
            target,
            temp: None,
        };
        if let Some(m) = &existing {
            if m.is_dir() {
                return Err(fail(ErrorKind::IsADirectory.into()));
            }
            if !m.is_file() {
                let file = OpenOptions::new()
                    .write(true)
                    .open(&output.target)
                    .map_err(fail)?;
                return Ok((output, Named::new(file, path)));
            }
        }
        let Some(name) = output.target.file_name() else {
            return Err(fail(ErrorKind::InvalidInput.into()));
        };
        let temp = output.target.with_file_name(format!(
            ".{}.tgmux-{}-{}.part",
            name.to_string_lossy(),
            std::process::id(),
            TEMP_SEQ.fetch_add(1, Ordering::Relaxed)
        ));
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)
            .map_err(fail)?;
        output.temp = Some(temp);
        if let Some(m) = existing {
            file.set_permissions(m.permissions()).map_err(fail)?;
        }
        Ok((output, Named::new(file, path)))
    }

    /// The output is complete (and flushed): the temporary file replaces the target.
    pub(crate) fn commit(mut self) -> Result<(), RemuxError> {
        let Some(temp) = self.temp.take() else {
            return Ok(());
        };
        std::fs::rename(&temp, &self.target).map_err(|e| {
            let _ = std::fs::remove_file(&temp);
            FileAction::Replace.on(&self.path)(e)
        })
    }
}

impl Drop for OutputFile {
    /// An output dropped before [`OutputFile::commit`] (a failed remux) leaves nothing.
    fn drop(&mut self) {
        if let Some(temp) = self.temp.take() {
            let _ = std::fs::remove_file(temp);
        }
    }
}

/// A writer whose errors name its file (`-`: standard output) as [`FileAction::Write`].
#[derive(Debug)]
pub(crate) struct Named<W> {
    inner: W,
    path: PathBuf,
}

impl<W: Write> Named<W> {
    /// `inner`, which writes `path`.
    pub(crate) fn new(inner: W, path: &Path) -> Named<W> {
        Named {
            inner,
            path: path.to_path_buf(),
        }
    }
}

impl<W: Write> Write for Named<W> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.inner
            .write(bytes)
            .map_err(|e| FileAction::Write.io_on(&self.path, e))
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner
            .flush()
            .map_err(|e| FileAction::Write.io_on(&self.path, e))
    }
}
