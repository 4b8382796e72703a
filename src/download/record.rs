//! The record of finished downloads, keyed by document ([`crate::resolve::Media::key`]), not
//! by file name: one JSON line per finished file in the data directory. A document counts as
//! present when the recorded file still exists with its size, or a file of that size with the
//! same inode is in its directory or the output directory (a rename keeps the inode).

use std::collections::HashMap;
use std::fs::OpenOptions;
use std::io::{self, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// One finished download.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// The document key.
    pub key: String,
    /// Where it was written.
    pub path: PathBuf,
    /// Its size.
    pub size: u64,
    /// Device and inode of the file written.
    pub dev: u64,
    /// See `dev`.
    pub ino: u64,
}

/// The record file, read once, appended to as files finish.
#[derive(Debug)]
pub struct Record {
    path: PathBuf,
    entries: HashMap<String, Entry>,
}

impl Record {
    /// Reads the record at `path` (missing: empty; unreadable lines are skipped).
    pub fn open(path: &Path) -> Record {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let entries = text
            .lines()
            .filter_map(|l| serde_json::from_str::<Entry>(l).ok())
            .map(|e| (e.key.clone(), e))
            .collect();
        Record {
            path: path.to_owned(),
            entries,
        }
    }

    /// Where the document `key` is on disk now, if it was downloaded and is still there (see
    /// the module docs); `also_in` is one more directory to look in.
    pub fn present(&self, key: &str, also_in: Option<&Path>) -> Option<PathBuf> {
        let e = self.entries.get(key)?;
        let same = |p: &Path| {
            std::fs::metadata(p).is_ok_and(|m| {
                m.is_file() && m.len() == e.size && m.dev() == e.dev && m.ino() == e.ino
            })
        };
        if same(&e.path) {
            return Some(e.path.clone());
        }
        let dirs = e.path.parent().into_iter().chain(also_in);
        for dir in dirs {
            let Ok(list) = std::fs::read_dir(dir) else {
                continue;
            };
            for f in list.flatten() {
                if same(&f.path()) {
                    return Some(f.path());
                }
            }
        }
        None
    }

    /// Records a finished file.
    pub fn add(&mut self, key: &str, path: &Path) -> io::Result<()> {
        let m = std::fs::metadata(path)?;
        let path = std::fs::canonicalize(path)?;
        let e = Entry {
            key: key.to_string(),
            path,
            size: m.len(),
            dev: m.dev(),
            ino: m.ino(),
        };
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let mut f = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)?;
        let mut line = serde_json::to_vec(&e).map_err(io::Error::other)?;
        line.push(b'\n');
        f.write_all(&line)?;
        self.entries.insert(e.key.clone(), e);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renamed_files_are_still_found() {
        let dir = std::env::temp_dir().join(format!("tgmux-record-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let rec = dir.join("downloads.jsonl");
        let file = dir.join("a.bin");
        std::fs::write(&file, b"12345").unwrap();
        let mut r = Record::open(&rec);
        r.add("doc:1", &file).unwrap();
        let r = Record::open(&rec);
        assert!(r.present("doc:1", None).is_some());
        assert!(r.present("doc:2", None).is_none());
        std::fs::rename(&file, dir.join("b.bin")).unwrap();
        assert_eq!(
            r.present("doc:1", None),
            Some(dir.join("b.bin").canonicalize().unwrap())
        );
        // Another file of the same size under the old name is not it.
        std::fs::write(&file, b"54321").unwrap();
        std::fs::remove_file(dir.join("b.bin")).unwrap();
        assert!(r.present("doc:1", None).is_none());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
