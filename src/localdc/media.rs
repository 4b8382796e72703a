//! The media library: a directory of channels, scanned once at start.
//!
//! | path below DIR | what it is |
//! |---|---|
//! | `<username>/` | a public channel `@username` |
//! | `+<name>/` | a private channel without username (every account is a member) |
//! | `<chan>/<msg>.<ext>` | message `msg` carrying the file |
//! | `<chan>/<msg>/` | an album: its files, in name order, are messages msg, msg+1, … sharing one `grouped_id` |
//! | `<chan>/topics/<topic>/<msg>.<ext>` | message `msg` in forum topic `topic` (the channel is then a forum) |
//! | `<chan>/<msg>.comments/<id>.<ext>` | comment `id` on message `msg`, in the discussion group linked to the channel |
//!
//! `.jpg`/`.jpeg`/`.png` files are photos, every other file a document (file name, MIME type
//! from the extension, and for MKV/WebM/MP4/MOV the video's duration and size, see
//! [`super::probe`]). Message ids are unique in a channel, topic ids are message ids too (of
//! the topic's creation, never a file), and in the discussion group the copy of post `msg`
//! is message `msg`, next to the comments: two of them with one id is an error. Anything else
//! is not served and listed in [`Library::skipped`] with the rule it broke.
//!
//! Ids are stable (see [`super::ids`]): a channel's from its directory name, a document's from
//! its path below DIR; the discussion group of `<chan>` is named `<chan>.comments`. The DC of
//! message M's media is ((M − 1) mod N) + 1 (comments: their own id).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use super::error::LocalDcError;
use super::ids;
use super::probe::{self, VideoInfo};

/// At most this many files are served (bounds memory and start-up time).
pub(super) const MAX_DOCUMENTS: usize = 100_000;

/// What a file is served as.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum MediaKind {
    /// A document; `video` for a video whose container parsed.
    Document {
        /// Duration and size, for `documentAttributeVideo`.
        video: Option<VideoInfo>,
    },
    /// A photo of this pixel size (0 × 0 when the header did not say).
    Photo {
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
    },
}

/// One file of the library: the media of one message.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// Stable document (or photo) id.
    pub id: i64,
    /// Stable access hash.
    pub access_hash: i64,
    /// The directory name of the channel it belongs to (`chan`, `+secret`).
    pub(crate) channel: String,
    /// Its path inside the channel directory (`2.mp4`, `5/b.jpg`, `topics/7/9.mp4`).
    pub(crate) name: String,
    /// Message id within its chat.
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
    /// The DC the file lives on: ((msg_id − 1) mod N) + 1.
    pub dc_id: i32,
    /// Document or photo.
    pub(crate) kind: MediaKind,
}

impl Document {
    /// Its path below the media directory, `/`-separated (`chan/2.mp4`).
    pub(crate) fn media_path(&self) -> String {
        format!("{}/{}", self.channel, self.name)
    }

    /// Whether it is served as a photo.
    pub(crate) fn is_photo(&self) -> bool {
        matches!(self.kind, MediaKind::Photo { .. })
    }
}

/// One message: its media and where it sits.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// Message id in its chat.
    pub id: i32,
    /// The file it carries.
    pub document: Document,
    /// The album it belongs to.
    pub(crate) grouped_id: Option<i64>,
    /// The forum topic it belongs to (a forum's messages outside `topics/` have none).
    pub(crate) topic: Option<i32>,
    /// In a discussion group: the message it comments on (the copy of the channel post).
    pub(crate) reply_to: Option<i32>,
    /// In a channel: the number of comments and the newest one's id.
    pub(crate) comments: Option<(i32, i32)>,
}

/// What kind of chat a channel directory is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ChannelKind {
    /// A broadcast channel.
    Broadcast,
    /// A supergroup with forum topics (`topics/` present).
    Forum,
    /// The discussion group linked to the channel with this id.
    Discussion(i64),
}

/// One channel: a directory of the library (or the discussion group of one).
#[derive(Debug, Clone, PartialEq)]
pub struct Channel {
    /// Stable channel id.
    pub id: i64,
    /// Stable access hash.
    pub access_hash: i64,
    /// Its directory name (`chan`, `+secret`; `chan.comments` for a discussion group).
    pub(crate) dir: String,
    /// The username of a public channel.
    pub username: Option<String>,
    /// Title: the username, or the name after `+`, or `<title> comments`.
    pub(crate) title: String,
    /// Creation date: the oldest message's date (or 0).
    pub date: i32,
    /// Broadcast, forum or discussion group.
    pub(crate) kind: ChannelKind,
    /// Every account is a member (private channels and their discussion groups).
    pub(crate) member: bool,
    /// Messages by id.
    pub messages: BTreeMap<i32, Message>,
    /// Forum topic ids.
    pub(crate) topics: BTreeSet<i32>,
    /// The linked discussion group's id, if any message has comments.
    pub(crate) discussion: Option<i64>,
}

impl Channel {
    /// The highest message id (0 if none).
    pub(crate) fn top_msg_id(&self) -> i32 {
        self.messages.keys().next_back().copied().unwrap_or(0)
    }

    fn new(dir: &str, kind: ChannelKind, member: bool) -> Channel {
        let username = (!dir.starts_with('+')).then(|| dir.to_string());
        Channel {
            id: ids::channel_id(dir),
            access_hash: ids::channel_access_hash(dir),
            dir: dir.to_string(),
            username,
            title: dir.trim_start_matches('+').to_string(),
            date: 0,
            kind,
            member,
            messages: BTreeMap::new(),
            topics: BTreeSet::new(),
            discussion: None,
        }
    }

    /// Adds `m`, refusing a second message with its id.
    fn insert(&mut self, m: Message) -> Result<(), LocalDcError> {
        if self.messages.contains_key(&m.id) || self.topics.contains(&m.id) {
            return Err(LocalDcError::Media(format!(
                "{}: two messages with id {} in {}",
                m.document.path.display(),
                m.id,
                self.dir
            )));
        }
        self.messages.insert(m.id, m);
        Ok(())
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

/// Whether `ext` (any case) is served as a photo.
fn is_photo_ext(ext: &str) -> bool {
    matches!(ext.to_ascii_lowercase().as_str(), "jpg" | "jpeg" | "png")
}

/// Whether `ext` (any case) is a container our demuxer reads.
fn is_video_ext(ext: &str) -> bool {
    matches!(
        ext.to_ascii_lowercase().as_str(),
        "mkv" | "webm" | "mp4" | "m4v" | "mov"
    )
}

/// A positive message id written in plain decimal (for album and topic directories).
fn parse_id(name: &str) -> Option<i32> {
    let ok = !name.is_empty() && name.bytes().all(|b| b.is_ascii_digit()) && !name.starts_with('0');
    ok.then(|| name.parse().ok()).flatten().filter(|&id| id > 0)
}

/// The scan in progress: the library, the skipped entries, the file count and the DC count.
struct Scan {
    lib: Library,
    skipped: Vec<Skipped>,
    count: usize,
    dcs: u8,
}

impl Scan {
    fn skip(&mut self, path: PathBuf, rule: impl Into<String>) {
        self.skipped.push(Skipped {
            path,
            rule: rule.into(),
        });
    }

    /// The entries of `dir` (see [`entries`]), its errors phrased for `--media`.
    fn entries(&mut self, dir: &Path) -> Result<Vec<(String, PathBuf)>, LocalDcError> {
        entries(dir, &mut self.skipped)
            .map_err(|e| LocalDcError::Media(format!("{}: {e}", dir.display())))
    }

    /// The regular file at `path`, or `None` after recording why not.
    fn regular_file(&mut self, path: &Path, rule: &str) -> Option<std::fs::Metadata> {
        match std::fs::metadata(path) {
            Ok(m) if m.is_file() => Some(m),
            Ok(_) => {
                self.skip(path.to_owned(), rule);
                None
            }
            Err(e) => {
                self.skip(path.to_owned(), format!("cannot be read: {e}"));
                None
            }
        }
    }

    /// The media of message `msg_id` from the file at `path`, named `name` inside channel
    /// directory `channel`.
    fn document(
        &mut self,
        channel: &str,
        name: String,
        path: PathBuf,
        meta: &std::fs::Metadata,
        msg_id: i32,
    ) -> Result<Document, LocalDcError> {
        self.count += 1;
        if self.count > MAX_DOCUMENTS {
            return Err(LocalDcError::Media(format!(
                "more than {MAX_DOCUMENTS} files"
            )));
        }
        let file_name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        let ext = file_name
            .rsplit_once('.')
            .map_or(String::new(), |(_, e)| e.to_string());
        let ext = ext.as_str();
        let kind = if is_photo_ext(ext) {
            let (width, height) = probe::image_size(&path).unwrap_or((0, 0));
            MediaKind::Photo { width, height }
        } else {
            MediaKind::Document {
                video: is_video_ext(ext).then(|| probe::video(&path)).flatten(),
            }
        };
        Ok(Document {
            id: ids::document_id(channel, &name),
            access_hash: ids::document_access_hash(channel, &name),
            channel: channel.to_string(),
            name,
            msg_id,
            path,
            file_name,
            size: meta.len(),
            mime_type: mime_type(ext),
            date: mtime_secs(meta),
            dc_id: dc_of_message(msg_id, self.dcs),
            kind,
        })
    }

    /// A plain message of `channel` (no album, topic or reply).
    fn message(
        &mut self,
        channel: &str,
        name: String,
        path: PathBuf,
        meta: &std::fs::Metadata,
        id: i32,
    ) -> Result<Message, LocalDcError> {
        Ok(Message {
            id,
            document: self.document(channel, name, path, meta, id)?,
            grouped_id: None,
            topic: None,
            reply_to: None,
            comments: None,
        })
    }

    /// `<msg>.<ext>` files of `dir` (inside `channel` as `prefix`), as messages; other
    /// entries are skipped with `rule`.
    fn message_files(
        &mut self,
        channel: &str,
        prefix: &str,
        dir: &Path,
        rule: &str,
    ) -> Result<Vec<Message>, LocalDcError> {
        let mut out = Vec::new();
        for (file_name, path) in self.entries(dir)? {
            let Some(meta) = self.regular_file(&path, rule) else {
                continue;
            };
            match parse_file_name(&file_name) {
                Ok((id, _)) => {
                    let name = format!("{prefix}{file_name}");
                    out.push(self.message(channel, name, path, &meta, id)?);
                }
                Err(rule) => self.skip(path, rule),
            }
        }
        Ok(out)
    }

    /// The channel directory `dir` named `name`.
    fn channel(&mut self, name: &str, dir: &Path) -> Result<(), LocalDcError> {
        let private = name.starts_with('+');
        let mut channel = Channel::new(name, ChannelKind::Broadcast, private);
        let mut comments: Vec<(i32, PathBuf)> = Vec::new();
        for (entry, path) in self.entries(dir)? {
            if !path.is_dir() {
                match parse_file_name(&entry) {
                    Ok((id, _)) => {
                        if let Some(meta) = self.regular_file(&path, "not a regular file") {
                            let m = self.message(name, entry, path, &meta, id)?;
                            channel.insert(m)?;
                        }
                    }
                    Err(rule) => self.skip(path, rule),
                }
                continue;
            }
            if entry == "topics" {
                channel.kind = ChannelKind::Forum;
                self.topics(&mut channel, &path)?;
            } else if let Some(id) = parse_id(&entry) {
                self.album(&mut channel, id, &path)?;
            } else if let Some(id) = entry.strip_suffix(".comments").and_then(parse_id) {
                comments.push((id, path));
            } else {
                self.skip(
                    path,
                    "a directory in a channel is an album <msg>/, topics/ or <msg>.comments/",
                );
            }
        }
        let group = self.discussion(&mut channel, comments)?;
        self.add(channel);
        if let Some(group) = group {
            self.add(group);
        }
        Ok(())
    }

    /// `<chan>/<msg>/`: an album of messages msg, msg+1, … in file name order.
    fn album(&mut self, channel: &mut Channel, first: i32, dir: &Path) -> Result<(), LocalDcError> {
        let grouped_id = ids::album_id(&channel.dir, first);
        let mut id = first;
        for (file_name, path) in self.entries(dir)? {
            let Some(meta) = self.regular_file(&path, "an album directory holds files only") else {
                continue;
            };
            let name = format!("{first}/{file_name}");
            let mut m = self.message(&channel.dir.clone(), name, path, &meta, id)?;
            m.grouped_id = Some(grouped_id);
            channel.insert(m)?;
            id = id.checked_add(1).ok_or_else(|| {
                LocalDcError::Media(format!("{}: message ids past 2147483647", dir.display()))
            })?;
        }
        Ok(())
    }

    /// `<chan>/topics/<topic>/<msg>.<ext>`.
    fn topics(&mut self, channel: &mut Channel, dir: &Path) -> Result<(), LocalDcError> {
        for (entry, path) in self.entries(dir)? {
            let Some(topic) = parse_id(&entry).filter(|_| path.is_dir()) else {
                self.skip(
                    path,
                    "topics/ holds one directory per topic, named by its id",
                );
                continue;
            };
            let rule = "a topic directory holds message files only";
            let prefix = format!("topics/{topic}/");
            let dir_name = channel.dir.clone();
            for mut m in self.message_files(&dir_name, &prefix, &path, rule)? {
                m.topic = Some(topic);
                channel.insert(m)?;
            }
            if channel.messages.contains_key(&topic) || !channel.topics.insert(topic) {
                return Err(LocalDcError::Media(format!(
                    "{}: topic {topic} has the id of a message",
                    path.display()
                )));
            }
        }
        Ok(())
    }

    /// `<chan>/<msg>.comments/<id>.<ext>`: the discussion group of `channel`, if any message
    /// has comments.
    fn discussion(
        &mut self,
        channel: &mut Channel,
        comments: Vec<(i32, PathBuf)>,
    ) -> Result<Option<Channel>, LocalDcError> {
        let name = format!("{}.comments", channel.dir);
        let mut group = Channel::new(&name, ChannelKind::Discussion(channel.id), channel.member);
        group.username = None;
        group.title = format!("{} comments", channel.title);
        for (post, dir) in comments {
            let Some(original) = channel.messages.get(&post).cloned() else {
                self.skip(dir, "comments of a message that does not exist");
                continue;
            };
            let rule = "a comments directory holds message files only";
            let prefix = format!("{post}.comments/");
            let replies = self.message_files(&channel.dir.clone(), &prefix, &dir, rule)?;
            let newest = replies.iter().map(|m| m.id).max().unwrap_or(post);
            // The group's copy of the post, which the comments answer.
            group.insert(Message {
                comments: None,
                ..original
            })?;
            let count = i32::try_from(replies.len()).unwrap_or(i32::MAX);
            for mut m in replies {
                m.reply_to = Some(post);
                group.insert(m)?;
            }
            if let Some(m) = channel.messages.get_mut(&post) {
                m.comments = Some((count, newest));
            }
        }
        if group.messages.is_empty() {
            return Ok(None);
        }
        channel.discussion = Some(group.id);
        Ok(Some(group))
    }

    fn add(&mut self, mut channel: Channel) {
        channel.date = channel
            .messages
            .values()
            .map(|m| m.document.date)
            .min()
            .unwrap_or(0);
        for m in channel.messages.values() {
            // A post's copy in its discussion group shares the post's document: keep the post.
            self.lib
                .by_document_id
                .entry(m.document.id)
                .or_insert_with(|| (channel.dir.clone(), m.id));
        }
        self.lib
            .by_channel_id
            .insert(channel.id, channel.dir.clone());
        self.lib.channels.insert(channel.dir.clone(), channel);
    }
}

impl Library {
    /// Scans `dir` (see the module docs), placing media over `dcs` DCs. Entries that do not
    /// fit the layout are not served; each is listed in [`Library::skipped`] with the rule it
    /// broke (hidden entries, `.name`, are left out silently).
    pub fn scan(dir: &Path, dcs: u8) -> Result<Library, LocalDcError> {
        let mut scan = Scan {
            lib: Library::default(),
            skipped: Vec::new(),
            count: 0,
            dcs,
        };
        for (name, path) in scan.entries(dir)? {
            if !path.is_dir() {
                scan.skip(path, "the media directory holds channel directories only");
                continue;
            }
            match name.strip_prefix('+') {
                Some(private) => match username_rule(private) {
                    Ok(()) => scan.channel(&name, &path)?,
                    Err(_) => scan.skip(
                        path,
                        "a private channel directory is +<name>: 1 to 32 of A-Z a-z 0-9 _, \
                         starting with a letter",
                    ),
                },
                None => match username_rule(&name) {
                    Ok(()) => scan.channel(&name, &path)?,
                    Err(rule) => scan.skip(path, rule),
                },
            }
        }
        let mut lib = scan.lib;
        lib.skipped = scan.skipped;
        Ok(lib)
    }

    /// The entries not served, in scan order, with the rule each broke.
    pub(crate) fn skipped(&self) -> &[Skipped] {
        &self.skipped
    }

    /// All channels and discussion groups, by directory name.
    pub(crate) fn channels(&self) -> impl Iterator<Item = &Channel> {
        self.channels.values()
    }

    /// The public channel `@username` (case-insensitive, like Telegram).
    pub fn channel_by_username(&self, username: &str) -> Option<&Channel> {
        self.channels
            .get(username)
            .filter(|c| c.username.is_some())
            .or_else(|| {
                self.channels.values().find(|c| {
                    c.username
                        .as_deref()
                        .is_some_and(|u| u.eq_ignore_ascii_case(username))
                })
            })
    }

    /// The channel (or discussion group) with this id.
    pub fn channel(&self, id: i64) -> Option<&Channel> {
        self.by_channel_id
            .get(&id)
            .and_then(|u| self.channels.get(u))
    }

    /// The document (or photo) with this id.
    pub fn document(&self, id: i64) -> Option<&Document> {
        let (dir, msg_id) = self.by_document_id.get(&id)?;
        Some(&self.channels.get(dir)?.messages.get(msg_id)?.document)
    }

    /// Number of files served.
    pub(crate) fn document_count(&self) -> usize {
        self.by_document_id.len()
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
        assert!(got[5]
            .1
            .contains("album <msg>/, topics/ or <msg>.comments/"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Scans a fresh directory holding `files` (path, contents).
    fn scan_files(name: &str, files: &[&str]) -> Result<Library, LocalDcError> {
        let dir = std::env::temp_dir().join(format!("tgmux-media-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        for f in files {
            std::fs::create_dir_all(dir.join(f).parent().unwrap()).unwrap();
            std::fs::write(dir.join(f), f.as_bytes()).unwrap();
        }
        let lib = Library::scan(&dir, 2);
        std::fs::remove_dir_all(&dir).unwrap();
        lib
    }

    #[test]
    fn layout_ids_must_not_collide() {
        for (case, files) in [
            (
                "album over a file",
                &["c/2.txt", "c/1/a.txt", "c/1/b.txt"][..],
            ),
            ("topic id of a message", &["c/5.txt", "c/topics/5/6.txt"]),
            (
                "two topics' messages",
                &["c/topics/5/6.txt", "c/topics/7/6.txt"],
            ),
            (
                "a comment with a post's id",
                &[
                    "c/1.txt",
                    "c/2.txt",
                    "c/1.comments/2.txt",
                    "c/2.comments/5.txt",
                ],
            ),
        ] {
            let e = scan_files("collide", files).unwrap_err().to_string();
            assert!(
                e.contains("two messages with id") || e.contains("has the id of a message"),
                "{case}: {e}"
            );
        }
        let lib = scan_files(
            "layout",
            &[
                "c/1.txt",
                "c/3/b.jpg",
                "c/3/a.png",
                "c/9.comments/4.txt",
                "c/topics/x/1.txt",
                "+ok/1.txt",
                "+no way/1.txt",
                "c/1.comments/7.mp4",
            ],
        )
        .unwrap();
        let c = lib.channel_by_username("c").unwrap();
        assert_eq!(c.messages.keys().copied().collect::<Vec<_>>(), [1, 3, 4]);
        assert!(c.messages[&3].document.is_photo() && c.messages[&3].document.name == "3/a.png");
        assert_eq!(c.messages[&4].document.dc_id, 2);
        let group = lib.channel(c.discussion.unwrap()).unwrap();
        assert_eq!(group.messages.keys().copied().collect::<Vec<_>>(), [1, 7]);
        assert_eq!(
            group.messages[&7].document.media_path(),
            "c/1.comments/7.mp4"
        );
        assert_eq!(
            lib.document(c.messages[&1].document.id).unwrap().channel,
            "c",
            "the post, not its copy"
        );
        assert_eq!(c.kind, ChannelKind::Forum);
        assert!(lib
            .channels()
            .any(|c| c.dir == "+ok" && c.member && c.username.is_none()));
        let skipped: Vec<String> = lib
            .skipped()
            .iter()
            .map(|s| {
                format!(
                    "{} {}",
                    s.path.file_name().unwrap().to_str().unwrap(),
                    s.rule
                )
            })
            .collect();
        assert_eq!(skipped.len(), 3, "{skipped:?}");
        assert!(
            skipped[0].starts_with("+no way a private channel directory is +<name>"),
            "{skipped:?}"
        );
        assert!(
            skipped[2].starts_with("9.comments comments of a message that does not exist"),
            "{skipped:?}"
        );
        assert!(
            skipped[1].starts_with("x topics/ holds one directory per topic"),
            "{skipped:?}"
        );
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
        let doc = &chan.messages[&2].document;
        assert_eq!((doc.size, doc.mime_type, doc.dc_id), (5000, "video/mp4", 2));
        assert_eq!(chan.messages[&5].document.dc_id, 2);
        assert_eq!(lib.document(doc.id).unwrap().file_name, "2.mp4");
        assert_eq!(
            lib.channel(chan.id).unwrap().username.as_deref(),
            Some("chan")
        );
        assert_eq!(
            lib.channel_by_username("other").unwrap().messages[&1]
                .document
                .dc_id,
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
