//! The media library: `DIR/<username>/<msg_id>.<ext>` as public channels with documents.
//!
//! Scanned once at start. Each sub-directory whose name is a plausible username is a channel
//! `@username`; each regular file in it named `<msg_id>.<ext>` (msg_id a positive decimal) is
//! message `msg_id` of that channel, carrying the file as a document. Anything else is ignored.
//! Ids are stable (see [`super::ids`]); the DC of message M's document is ((M − 1) mod N) + 1.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use super::error::LocalDcError;
use super::ids;

/// At most this many documents are served (bounds memory and start-up time).
pub(super) const MAX_DOCUMENTS: usize = 100_000;

/// One document: a file of the library.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    /// Stable document id.
    pub id: i64,
    /// Stable access hash.
    pub access_hash: i64,
    /// Username of the channel it belongs to.
    pub username: String,
    /// Message id within the channel.
    pub msg_id: i32,
    /// The file on disk.
    pub path: PathBuf,
    /// File name (for `documentAttributeFilename`).
    pub file_name: String,
    /// Size in bytes.
    pub size: u64,
    /// MIME type from the extension.
    pub mime_type: &'static str,
    /// Modification time, seconds since the epoch (message and document date).
    pub date: i32,
    /// The DC the document lives on: ((msg_id − 1) mod N) + 1.
    pub dc_id: i32,
}

/// One channel: a directory of the library.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Channel {
    /// Stable channel id.
    pub id: i64,
    /// Stable access hash.
    pub access_hash: i64,
    /// Username (the directory name).
    pub username: String,
    /// Creation date: the oldest message's date (or 0).
    pub date: i32,
    /// Documents by message id.
    pub messages: BTreeMap<i32, Document>,
}

impl Channel {
    /// The highest message id (0 if none).
    pub fn top_msg_id(&self) -> i32 {
        self.messages.keys().next_back().copied().unwrap_or(0)
    }
}

/// The whole library.
#[derive(Debug, Clone, Default)]
pub struct Library {
    channels: BTreeMap<String, Channel>,
    by_channel_id: HashMap<i64, String>,
    by_document_id: HashMap<i64, (String, i32)>,
}

/// DC of message `msg_id` among `dcs` DCs: ((msg_id − 1) mod dcs) + 1.
pub(super) fn dc_of_message(msg_id: i32, dcs: u8) -> i32 {
    let n = i64::from(dcs.max(1));
    ((i64::from(msg_id) - 1).rem_euclid(n) + 1) as i32
}

/// MIME type for a file extension (case-insensitive); `application/octet-stream` if unknown.
pub(super) fn mime_type(ext: &str) -> &'static str {
    match ext.to_ascii_lowercase().as_str() {
        "mp4" | "m4v" => "video/mp4",
        "mkv" => "video/x-matroska",
        "webm" => "video/webm",
        "mov" => "video/quicktime",
        "avi" => "video/x-msvideo",
        "mp3" => "audio/mpeg",
        "m4a" => "audio/mp4",
        "ogg" | "oga" | "opus" => "audio/ogg",
        "flac" => "audio/flac",
        "wav" => "audio/wav",
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "txt" => "text/plain",
        "pdf" => "application/pdf",
        "zip" => "application/zip",
        _ => "application/octet-stream",
    }
}

/// Whether a directory name can be a channel username: 1..=32 of `[A-Za-z0-9_]`, starting with
/// a letter (Telegram's real rule also asks for 5+ characters; we allow short names in tests).
pub(super) fn is_username(name: &str) -> bool {
    (1..=32).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `<msg_id>.<ext>` → (msg_id, ext) when msg_id is a positive i32 written in plain decimal.
pub(super) fn parse_file_name(name: &str) -> Option<(i32, &str)> {
    let (stem, ext) = name.split_once('.')?;
    if stem.is_empty() || !stem.bytes().all(|b| b.is_ascii_digit()) || stem.starts_with('0') {
        return None;
    }
    if ext.is_empty() || !ext.chars().all(|c| c.is_ascii_alphanumeric()) {
        return None;
    }
    let id: i32 = stem.parse().ok()?;
    (id > 0).then_some((id, ext))
}

fn mtime_secs(meta: &std::fs::Metadata) -> i32 {
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map(|d| d.as_secs().min(i32::MAX as u64) as i32)
        .unwrap_or(0)
}

impl Library {
    /// Scans `dir` for `dir/<username>/<msg_id>.<ext>`, placing documents over `dcs` DCs.
    pub fn scan(dir: &Path, dcs: u8) -> Result<Library, LocalDcError> {
        let err = |e: std::io::Error| LocalDcError::Media(format!("{}: {e}", dir.display()));
        let mut lib = Library::default();
        let mut count = 0usize;
        let mut entries: Vec<_> = std::fs::read_dir(dir).map_err(err)?.flatten().collect();
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            let Some(username) = entry.file_name().to_str().map(str::to_owned) else {
                continue;
            };
            if !is_username(&username) || !entry.path().is_dir() {
                continue;
            }
            let mut channel = Channel {
                id: ids::channel_id(&username),
                access_hash: ids::channel_access_hash(&username),
                username: username.clone(),
                date: 0,
                messages: BTreeMap::new(),
            };
            let files = std::fs::read_dir(entry.path()).map_err(err)?;
            for file in files.flatten() {
                let Some(file_name) = file.file_name().to_str().map(str::to_owned) else {
                    continue;
                };
                let Some((msg_id, ext)) = parse_file_name(&file_name) else {
                    continue;
                };
                let Ok(meta) = std::fs::metadata(file.path()) else {
                    continue;
                };
                if !meta.is_file() {
                    continue;
                }
                if channel.messages.contains_key(&msg_id) {
                    return Err(LocalDcError::Media(format!(
                        "{}: two files for message {msg_id}",
                        entry.path().display()
                    )));
                }
                count += 1;
                if count > MAX_DOCUMENTS {
                    return Err(LocalDcError::Media(format!(
                        "more than {MAX_DOCUMENTS} files"
                    )));
                }
                let doc = Document {
                    id: ids::document_id(&username, &file_name),
                    access_hash: ids::document_access_hash(&username, &file_name),
                    username: username.clone(),
                    msg_id,
                    path: file.path(),
                    size: meta.len(),
                    mime_type: mime_type(ext),
                    date: mtime_secs(&meta),
                    dc_id: dc_of_message(msg_id, dcs),
                    file_name,
                };
                lib.by_document_id
                    .insert(doc.id, (username.clone(), msg_id));
                channel.messages.insert(msg_id, doc);
            }
            channel.date = channel.messages.values().map(|d| d.date).min().unwrap_or(0);
            lib.by_channel_id.insert(channel.id, username.clone());
            lib.channels.insert(username, channel);
        }
        Ok(lib)
    }

    /// All channels, by username.
    pub fn channels(&self) -> impl Iterator<Item = &Channel> {
        self.channels.values()
    }

    /// The channel `@username` (case-insensitive, like Telegram).
    pub fn channel_by_username(&self, username: &str) -> Option<&Channel> {
        self.channels.get(username).or_else(|| {
            self.channels
                .values()
                .find(|c| c.username.eq_ignore_ascii_case(username))
        })
    }

    /// The channel with this id.
    pub fn channel(&self, id: i64) -> Option<&Channel> {
        self.by_channel_id
            .get(&id)
            .and_then(|u| self.channels.get(u))
    }

    /// The document with this id.
    pub fn document(&self, id: i64) -> Option<&Document> {
        let (username, msg_id) = self.by_document_id.get(&id)?;
        self.channels.get(username)?.messages.get(msg_id)
    }

    /// Number of documents.
    pub fn document_count(&self) -> usize {
        self.by_document_id.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_dcs() {
        assert_eq!(dc_of_message(1, 3), 1);
        assert_eq!(dc_of_message(2, 3), 2);
        assert_eq!(dc_of_message(3, 3), 3);
        assert_eq!(dc_of_message(4, 3), 1);
        assert_eq!(dc_of_message(7, 1), 1);
        assert_eq!(
            dc_of_message(i32::MAX, 5),
            ((i32::MAX as i64 - 1) % 5 + 1) as i32
        );
    }

    #[test]
    fn names() {
        assert_eq!(parse_file_name("2.mp4"), Some((2, "mp4")));
        assert_eq!(parse_file_name("02.mp4"), None);
        assert_eq!(parse_file_name("0.mp4"), None);
        assert_eq!(parse_file_name("a.mp4"), None);
        assert_eq!(parse_file_name("99999999999.mp4"), None);
        assert_eq!(parse_file_name("3"), None);
        assert_eq!(parse_file_name("3.tar.gz"), None);
        assert!(is_username("chan") && is_username("My_chan2"));
        assert!(!is_username("2chan") && !is_username(".git") && !is_username(""));
        assert_eq!(mime_type("MKV"), "video/x-matroska");
        assert_eq!(mime_type("xyz"), "application/octet-stream");
    }

    #[test]
    fn scan_a_directory() {
        let dir = std::env::temp_dir().join(format!("tgmux-media-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("chan")).unwrap();
        std::fs::create_dir_all(dir.join("other")).unwrap();
        std::fs::create_dir_all(dir.join("9bad")).unwrap();
        std::fs::write(dir.join("chan/2.mp4"), vec![7u8; 5000]).unwrap();
        std::fs::write(dir.join("chan/5.mkv"), b"x").unwrap();
        std::fs::write(dir.join("chan/notes.txt"), b"x").unwrap();
        std::fs::write(dir.join("9bad/1.mp4"), b"x").unwrap();
        std::fs::write(dir.join("other/1.mp3"), b"xy").unwrap();
        let lib = Library::scan(&dir, 3).unwrap();
        assert_eq!(lib.document_count(), 3);
        let chan = lib.channel_by_username("CHAN").unwrap();
        assert_eq!(chan.top_msg_id(), 5);
        let doc = &chan.messages[&2];
        assert_eq!((doc.size, doc.mime_type, doc.dc_id), (5000, "video/mp4", 2));
        assert_eq!(chan.messages[&5].dc_id, 2);
        assert_eq!(lib.document(doc.id).unwrap().file_name, "2.mp4");
        assert_eq!(lib.channel(chan.id).unwrap().username, "chan");
        assert_eq!(
            lib.channel_by_username("other").unwrap().messages[&1].dc_id,
            1
        );
        assert!(lib.channel_by_username("9bad").is_none());
        // A second scan agrees on every id.
        let again = Library::scan(&dir, 3).unwrap();
        assert_eq!(again.channel_by_username("chan"), Some(chan));
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(matches!(
            Library::scan(&dir, 3),
            Err(LocalDcError::Media(_))
        ));
    }
}
