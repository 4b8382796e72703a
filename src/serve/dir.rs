//! A [`Source`] over a local directory laid out like `tgmux local-dc --media`:
//! `DIR/<username>/<msg>.<ext>` (and `DIR/<channel_id>/<msg>.<ext>` for `/c/` links). It
//! serves files from disk through exactly the code paths Telegram documents take, which is
//! what the HTTP tests run against (`tgmux serve --from-dir`, a test aid).

use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::UNIX_EPOCH;

use bytes::BytesMut;
use sha2::{Digest, Sha256};

use super::body::BodySink;
use super::headers::mime_for;
use super::metrics::Metrics;
use super::route::Link;
use super::source::{DocInfo, Resolved, Source, SourceError};

/// Bytes read per part (Telegram's largest `upload.getFile` limit).
const PART: u64 = 1024 * 1024;
/// The "DC" local files count under in the parts metric.
pub const LOCAL_DC: i32 = 0;

/// Documents from files in a directory.
#[derive(Debug)]
pub struct DirSource {
    root: PathBuf,
    metrics: Arc<Metrics>,
}

/// A resolved local file.
#[derive(Debug)]
pub struct LocalFile {
    path: PathBuf,
}

impl DirSource {
    /// Files under `root`, counting parts read into `metrics`.
    pub fn new(root: impl Into<PathBuf>, metrics: Arc<Metrics>) -> Self {
        DirSource {
            root: root.into(),
            metrics,
        }
    }
}

fn find(root: &Path, link: &Link) -> Result<Resolved<LocalFile>, SourceError> {
    let (dir, msg) = match link {
        Link::Username { username, msg } => (root.join(username), *msg),
        Link::Channel { id, msg } => (root.join(id.to_string()), *msg),
    };
    let missing = || SourceError::NotFound("no such message".into());
    let stem = msg.to_string();
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .map_err(|_| missing())?
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.split_once('.').is_some_and(|(s, _)| s == stem))
        .collect();
    names.sort();
    let name = names.into_iter().next().ok_or_else(missing)?;
    let path = dir.join(&name);
    let meta = std::fs::metadata(&path).map_err(|e| SourceError::Upstream(e.to_string()))?;
    if !meta.is_file() {
        return Err(missing());
    }
    let modified = meta.modified().ok();
    let stamp = modified
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    // Stable while the file is unchanged; different once it is rewritten.
    let digest = Sha256::digest(format!(
        "tgmux-dir\n{}\n{}\n{stamp}",
        link.path(),
        meta.len()
    ));
    let id = u64::from_be_bytes(digest[..8].try_into().expect("8 bytes"));
    Ok(Resolved {
        info: DocInfo {
            id,
            dc: LOCAL_DC,
            size: meta.len(),
            mime: mime_for(&name).to_string(),
            file_name: Some(name),
            modified,
        },
        handle: LocalFile { path },
    })
}

fn read_part(path: &Path, offset: u64, len: usize) -> io::Result<BytesMut> {
    let file = std::fs::File::open(path)?;
    let mut buf = BytesMut::zeroed(len);
    file.read_exact_at(&mut buf, offset)?;
    Ok(buf)
}

impl Source for DirSource {
    type Handle = LocalFile;

    async fn resolve(&self, link: &Link) -> Result<Arc<Resolved<LocalFile>>, SourceError> {
        let (root, link) = (self.root.clone(), link.clone());
        tokio::task::spawn_blocking(move || find(&root, &link))
            .await
            .map_err(|e| SourceError::Upstream(e.to_string()))?
            .map(Arc::new)
    }

    async fn read_range(
        &self,
        doc: &LocalFile,
        start: u64,
        end: u64,
        sink: &mut BodySink,
    ) -> Result<(), SourceError> {
        let mut at = start;
        while at <= end {
            let len = (end + 1 - at).min(PART) as usize;
            let path = doc.path.clone();
            let part = tokio::task::spawn_blocking(move || read_part(&path, at, len))
                .await
                .map_err(|e| SourceError::Upstream(e.to_string()))?
                .map_err(|e| {
                    SourceError::Upstream(format!("reading {}: {e}", doc.path.display()))
                })?;
            self.metrics.part_fetched(LOCAL_DC);
            sink.send(part.freeze()).await?;
            at += len as u64;
        }
        Ok(())
    }
}
