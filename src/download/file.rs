//! The file sink: bytes go into `<name>.part` by positional writes, with a small sidecar
//! `<name>.part.json` naming the document and how many bytes are safely on disk. A run that
//! finds both for the same document (key and size) continues from there; anything else is
//! started afresh, so a `.part` of another document is never reused. When complete and the
//! size checked, the `.part` is renamed to `<name>`, its mtime set to the message date.
//!
//! The sidecar is rewritten every [`CHECKPOINT`] bytes, after `sync_data` of the `.part`,
//! so what it claims is on disk even after a power loss; a `kill -9` loses at most the bytes
//! since the last checkpoint.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use super::fetch::PartSink;
use super::plan::BLOCK;
use crate::resolve::Media;

/// Bytes between sidecar checkpoints.
pub const CHECKPOINT: u64 = 8 * BLOCK;

#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
struct Sidecar {
    version: u32,
    /// [`Media::key`] of the document.
    key: String,
    size: u64,
    /// Bytes from the start that are on disk.
    done: u64,
}

/// `<path>.part` and `<path>.part.json`.
fn part_paths(path: &Path) -> (PathBuf, PathBuf) {
    let mut part = path.as_os_str().to_owned();
    part.push(".part");
    let part = PathBuf::from(part);
    let mut side = part.as_os_str().to_owned();
    side.push(".json");
    (part, PathBuf::from(side))
}

/// A download into a file (see the module docs).
#[derive(Debug)]
pub struct FileSink {
    path: PathBuf,
    part: PathBuf,
    sidecar: PathBuf,
    file: Arc<File>,
    meta: Sidecar,
    written: u64,
    date: i32,
}

impl FileSink {
    /// Opens (or continues) the download of `media` into `path`. Returns the sink and the
    /// offset to continue from (0 for a fresh start).
    pub fn open(path: &Path, media: &Media) -> io::Result<(FileSink, u64)> {
        let (part, sidecar) = part_paths(path);
        let found: Option<Sidecar> = std::fs::read(&sidecar)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok());
        let on_disk = std::fs::metadata(&part).map(|m| m.len()).ok();
        let resume = match (&found, on_disk) {
            (Some(s), Some(len))
                if s.version == 1
                    && s.key == media.key()
                    && s.size == media.size
                    && s.done <= len =>
            {
                s.done / BLOCK * BLOCK
            }
            _ => 0,
        };
        let file = OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(resume == 0)
            .open(&part)?;
        let meta = Sidecar {
            version: 1,
            key: media.key(),
            size: media.size,
            done: resume,
        };
        let sink = FileSink {
            path: path.to_owned(),
            part,
            sidecar,
            file: Arc::new(file),
            meta,
            written: resume,
            date: media.date,
        };
        sink.write_sidecar()?;
        Ok((sink, resume))
    }

    fn write_sidecar(&self) -> io::Result<()> {
        let tmp = self.sidecar.with_extension("json.tmp");
        std::fs::write(
            &tmp,
            serde_json::to_vec(&self.meta).map_err(io::Error::other)?,
        )?;
        std::fs::rename(&tmp, &self.sidecar)
    }

    /// Records that everything written so far is on disk.
    async fn checkpoint(&mut self) -> io::Result<()> {
        let file = self.file.clone();
        tokio::task::spawn_blocking(move || file.sync_data())
            .await
            .map_err(io::Error::other)??;
        self.meta.done = self.written;
        self.write_sidecar()
    }

    /// Checks the size, renames the `.part` into place, sets the mtime to the message date and
    /// removes the sidecar.
    pub async fn finish(mut self) -> io::Result<PathBuf> {
        self.checkpoint().await?;
        let len = self.file.metadata()?.len();
        if len != self.meta.size || self.written != self.meta.size {
            return Err(io::Error::other(format!(
                "the download has {} bytes, the document {}",
                len, self.meta.size
            )));
        }
        let mtime = UNIX_EPOCH + Duration::from_secs(u64::try_from(self.date).unwrap_or(0));
        self.file.set_modified(mtime)?;
        std::fs::rename(&self.part, &self.path)?;
        std::fs::remove_file(&self.sidecar)?;
        Ok(self.path)
    }

    /// The final path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl PartSink for FileSink {
    async fn put(&mut self, offset: u64, bytes: Bytes) -> io::Result<()> {
        let file = self.file.clone();
        let len = bytes.len() as u64;
        tokio::task::spawn_blocking(move || file.write_all_at(&bytes, offset))
            .await
            .map_err(io::Error::other)??;
        self.written = self.written.max(offset + len);
        if self.written - self.meta.done >= CHECKPOINT {
            self.checkpoint().await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resolve::{Location, Origin};

    fn media(id: i64, size: u64) -> Media {
        Media {
            location: Location::Document { id, access_hash: 1 },
            file_reference: vec![],
            dc_id: 1,
            size,
            mime_type: "video/mp4".into(),
            file_name: "a.mp4".into(),
            date: 1_600_000_000,
            video: None,
            audio: None,
            origin: Origin {
                channel_id: 1,
                access_hash: 1,
                msg_id: 1,
            },
            grouped_id: None,
        }
    }

    #[tokio::test]
    async fn resume_only_the_same_document() {
        let dir = std::env::temp_dir().join(format!("tgmux-filesink-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("a.mp4");
        let size = CHECKPOINT + BLOCK + 5;
        let data: Vec<u8> = (0..size).map(|i| (i % 253) as u8).collect();
        let m = media(7, size);
        let (mut s, at) = FileSink::open(&path, &m).unwrap();
        assert_eq!(at, 0);
        for (i, chunk) in data.chunks(BLOCK as usize).take(9).enumerate() {
            s.put(i as u64 * BLOCK, Bytes::copy_from_slice(chunk))
                .await
                .unwrap();
        }
        drop(s); // interrupted after 9 MiB: the checkpoint at 8 MiB holds
        let (_, at) = FileSink::open(&path, &m).unwrap();
        assert_eq!(at, CHECKPOINT);
        // Another document of the same size and name starts from zero.
        let (s, at) = FileSink::open(&path, &media(8, size)).unwrap();
        assert_eq!(at, 0);
        drop(s);
        let (mut s, at) = FileSink::open(&path, &m).unwrap();
        assert_eq!(at, 0, "the other document's sidecar replaced ours");
        for (i, chunk) in data.chunks(BLOCK as usize).enumerate() {
            s.put(i as u64 * BLOCK, Bytes::copy_from_slice(chunk))
                .await
                .unwrap();
        }
        let done = s.finish().await.unwrap();
        assert_eq!(std::fs::read(&done).unwrap(), data);
        let mtime = std::fs::metadata(&done).unwrap().modified().unwrap();
        assert_eq!(
            mtime.duration_since(UNIX_EPOCH).unwrap().as_secs(),
            1_600_000_000
        );
        assert!(!part_paths(&path).0.exists() && !part_paths(&path).1.exists());
        // A short file is not renamed into place.
        let (mut s, _) = FileSink::open(&dir.join("b.mp4"), &media(9, 10)).unwrap();
        s.put(0, Bytes::from_static(b"12345")).await.unwrap();
        assert!(s.finish().await.is_err());
        assert!(!dir.join("b.mp4").exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
