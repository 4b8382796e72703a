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

impl Document {
    /// Its path below the media directory, `/`-separated (`chan/2.mp4`).
    pub(crate) fn media_path(&self) -> String {
        format!("{}/{}", self.username, self.file_name)
    }
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
    skipped: Vec<Skipped>,
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

/// Why a directory name cannot be a channel username, if it cannot: 1..=32 of `[A-Za-z0-9_]`,
/// starting with a letter (Telegram's real rule also asks for 5+ characters; we allow short
/// names in tests).
pub(super) fn username_rule(name: &str) -> Result<(), &'static str> {
    let ok = (1..=32).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    ok.then_some(()).ok_or(
        "a channel directory is a username: 1 to 32 of A-Z a-z 0-9 _, starting with a letter",
    )
}

/// `<msg_id>.<ext>` → (msg_id, ext) when msg_id is a positive i32 written in plain decimal;
/// otherwise the rule the name broke.
pub(super) fn parse_file_name(name: &str) -> Result<(i32, &str), &'static str> {
    const ID: &str = "a message file is <msg_id>.<ext>: msg_id a decimal number from 1 to \
                      2147483647 without leading zeros";
    let (stem, ext) = name.split_once('.').ok_or(ID)?;
    if stem.is_empty() || !stem.bytes().all(|b| b.is_ascii_digit()) || stem.starts_with('0') {
        return Err(ID);
    }
    if ext.is_empty() || !ext.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err("a message file is <msg_id>.<ext>: ext one or more of A-Z a-z 0-9");
    }
    match stem.parse::<i32>() {
        Ok(id) if id > 0 => Ok((id, ext)),
        _ => Err(ID),
    }
}

/// An entry of the media directory that is not served, and the rule it broke.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Skipped {
    /// The file or directory.
    pub(crate) path: PathBuf,
    /// What its name or kind should have been (or why it could not be read).
    pub(crate) rule: String,
}

/// The entries of directory `dir` in name order, hidden ones (a leading `.`) left out, each
/// with its UTF-8 name; entries whose name is not UTF-8 are recorded in `skipped`.
fn entries(dir: &Path, skipped: &mut Vec<Skipped>) -> std::io::Result<Vec<(String, PathBuf)>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        match entry.file_name().into_string() {
            Ok(name) if name.starts_with('.') => {}
            Ok(name) => out.push((name, entry.path())),
            Err(_) => skipped.push(Skipped {
                path: entry.path(),
                rule: "names must be UTF-8".into(),
            }),
        }
    }
    out.sort();
    Ok(out)
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
    /// Entries that do not fit the layout are not served; each is listed in
    /// [`Library::skipped`] with the rule it broke (hidden entries, `.name`, are left out
    /// silently).
    pub fn scan(dir: &Path, dcs: u8) -> Result<Library, LocalDcError> {
        let err =
            |p: &Path, e: std::io::Error| LocalDcError::Media(format!("{}: {e}", p.display()));
        let mut lib = Library::default();
        let mut count = 0usize;
        let mut skipped = Vec::new();
        for (username, path) in entries(dir, &mut skipped).map_err(|e| err(dir, e))? {
            if !path.is_dir() {
                skipped.push(Skipped {
                    path,
                    rule: "the media directory holds channel directories only".into(),
                });
                continue;
            }
            if let Err(rule) = username_rule(&username) {
                skipped.push(Skipped {
                    path,
                    rule: rule.into(),
                });
                continue;
            }
            let mut channel = Channel {
                id: ids::channel_id(&username),
                access_hash: ids::channel_access_hash(&username),
                username: username.clone(),
                date: 0,
                messages: BTreeMap::new(),
            };
            for (file_name, file) in entries(&path, &mut skipped).map_err(|e| err(&path, e))? {
                let meta = match std::fs::metadata(&file) {
                    Ok(m) if m.is_file() => m,
                    Ok(_) => {
                        skipped.push(Skipped {
                            path: file,
                            rule: "a channel directory holds message files only".into(),
                        });
                        continue;
                    }
                    Err(e) => {
                        skipped.push(Skipped {
                            path: file,
                            rule: format!("cannot be read: {e}"),
                        });
                        continue;
                    }
                };
                let (msg_id, ext) = match parse_file_name(&file_name) {
                    Ok(x) => x,
                    Err(rule) => {
                        skipped.push(Skipped {
                            path: file,
                            rule: rule.into(),
                        });
                        continue;
                    }
                };
                if channel.messages.contains_key(&msg_id) {
                    return Err(LocalDcError::Media(format!(
                        "{}: two files for message {msg_id}",
                        path.display()
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
                    path: file,
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
        lib.skipped = skipped;
        Ok(lib)
    }

    /// The entries not served, in scan order, with the rule each broke.
    pub(crate) fn skipped(&self) -> &[Skipped] {
        &self.skipped
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
        assert_eq!(parse_file_name("2.mp4"), Ok((2, "mp4")));
        assert_eq!(parse_file_name("2147483647.mp4"), Ok((i32::MAX, "mp4")));
        for bad in [
            "02.mp4",
            "0.mp4",
            "a.mp4",
            "-1.mkv",
            "99999999999.mp4",
            "3",
            ".mp4",
        ] {
            let rule = parse_file_name(bad).unwrap_err();
            assert!(rule.contains("msg_id a decimal number"), "{bad}: {rule}");
        }
        for bad in ["3.tar.gz", "3.", "3.m-v"] {
            let rule = parse_file_name(bad).unwrap_err();
            assert!(rule.contains("ext one or more of"), "{bad}: {rule}");
        }
        assert!(username_rule("chan").is_ok() && username_rule("My_chan2").is_ok());
        for bad in ["2chan", ".git", "", "bad name", &"a".repeat(33)] {
            assert!(
                username_rule(bad).unwrap_err().contains("username"),
                "{bad}"
            );
        }
        assert_eq!(mime_type("MKV"), "video/x-matroska");
        assert_eq!(mime_type("xyz"), "application/octet-stream");
    }

    #[test]
    fn every_skipped_entry_is_listed_once_with_its_rule() {
        let dir = std::env::temp_dir().join(format!("tgmux-media-skip-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        for d in ["chan/sub", "bad name", ".git"] {
            std::fs::create_dir_all(dir.join(d)).unwrap();
        }
        for f in [
            "chan/abc.mkv",
            "chan/-1.mkv",
            "chan/1.mkv",
            "chan/.hidden",
            "README",
        ] {
            std::fs::write(dir.join(f), b"x").unwrap();
        }
        std::os::unix::fs::symlink(dir.join("nowhere"), dir.join("chan/2.mp4")).unwrap();
        let lib = Library::scan(&dir, 1).unwrap();
        assert_eq!(lib.document_count(), 1);
        let got: Vec<(String, &str)> = lib
            .skipped()
            .iter()
            .map(|s| {
                let p = s.path.strip_prefix(&dir).unwrap().to_str().unwrap();
                (p.to_string(), s.rule.as_str())
            })
            .collect();
        let names: Vec<&str> = got.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            names,
            [
                "README",
                "bad name",
                "chan/-1.mkv",
                "chan/2.mp4",
                "chan/abc.mkv",
                "chan/sub"
            ]
        );
        assert!(got[0].1.contains("channel directories only"));
        assert!(got[1].1.contains("username"));
        assert!(got[2].1.contains("msg_id a decimal number") && got[4].1 == got[2].1);
        assert!(got[3].1.starts_with("cannot be read: "), "{}", got[3].1);
        assert!(got[5].1.contains("message files only"));
        std::fs::remove_dir_all(&dir).unwrap();
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
        let skipped: Vec<_> = lib
            .skipped()
            .iter()
            .map(|s| s.path.strip_prefix(&dir).unwrap().to_str().unwrap())
            .collect();
        assert_eq!(skipped, ["9bad", "chan/notes.txt"]);
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
