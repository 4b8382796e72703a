//! What a message carries that can be downloaded: a [`Media`] (a document, or a photo's
//! largest size), taken from the TL message.

use serde::{Deserialize, Serialize};

use crate::tl::{enums, types};

/// Where the bytes are: the `InputFileLocation` of `upload.getFile`, minus the reference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Location {
    /// A document (`inputDocumentFileLocation`, empty thumb_size).
    Document {
        /// Document id.
        id: i64,
        /// Its access hash.
        access_hash: i64,
    },
    /// One size of a photo (`inputPhotoFileLocation`).
    Photo {
        /// Photo id.
        id: i64,
        /// Its access hash.
        access_hash: i64,
        /// The `PhotoSize` type letter, e.g. `y`.
        thumb_size: String,
    },
}

/// Video attributes of a document (`documentAttributeVideo`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Video {
    /// Seconds.
    pub duration: f64,
    /// Width in pixels.
    pub w: i32,
    /// Height in pixels.
    pub h: i32,
}

/// Audio attributes of a document (`documentAttributeAudio`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Audio {
    /// Seconds.
    pub duration: i32,
    /// Track title.
    pub title: Option<String>,
    /// Performer.
    pub performer: Option<String>,
}

/// The message a media came from, so it can be fetched again for a new file reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Origin {
    /// The channel (or supergroup) id.
    pub channel_id: i64,
    /// Its access hash as this account knows it.
    pub access_hash: i64,
    /// The message id.
    pub msg_id: i32,
}

/// One downloadable file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Media {
    /// Where the bytes live.
    pub location: Location,
    /// The file reference to send with every part (refreshed when it expires).
    #[serde(with = "hex_bytes")]
    pub file_reference: Vec<u8>,
    /// The DC holding the file.
    pub dc_id: i32,
    /// Size in bytes (64-bit: premium files pass 4 GiB).
    pub size: u64,
    /// MIME type (`image/jpeg` for photos).
    pub mime_type: String,
    /// File name: the document's own, else `<msg>.<ext from the MIME type>`; always a plain
    /// name (no directories, see [`safe_file_name`]).
    pub file_name: String,
    /// The message date (unix seconds): the downloaded file's mtime.
    pub date: i32,
    /// Video attributes, when the document has them.
    pub video: Option<Video>,
    /// Audio attributes, when the document has them.
    pub audio: Option<Audio>,
    /// The message it came from.
    pub origin: Origin,
    /// The album (`grouped_id`) it belongs to, if any.
    pub grouped_id: Option<i64>,
}

impl Media {
    /// A stable key of the file itself (not its name): `doc:<id>` or `photo:<id>:<size>`.
    pub fn key(&self) -> String {
        match &self.location {
            Location::Document { id, .. } => format!("doc:{id}"),
            Location::Photo { id, thumb_size, .. } => format!("photo:{id}:{thumb_size}"),
        }
    }

    /// The `InputFileLocation` for `upload.getFile`, with the current file reference.
    pub fn input_location(&self) -> enums::InputFileLocation {
        let file_reference = self.file_reference.clone().into();
        match &self.location {
            Location::Document { id, access_hash } => {
                enums::InputFileLocation::InputDocumentFileLocation(
                    types::InputDocumentFileLocation {
                        id: *id,
                        access_hash: *access_hash,
                        file_reference,
                        thumb_size: String::new(),
                    },
                )
            }
            Location::Photo {
                id,
                access_hash,
                thumb_size,
            } => enums::InputFileLocation::InputPhotoFileLocation(types::InputPhotoFileLocation {
                id: *id,
                access_hash: *access_hash,
                file_reference,
                thumb_size: thumb_size.clone(),
            }),
        }
    }

    /// The media of a message of channel (`channel_id`, `access_hash`), if it has any we can
    /// download (documents, photos); `None` for text, polls, webpages and the like.
    pub fn from_message(m: &types::Message, access_hash: i64) -> Option<Media> {
        let channel_id = match &m.peer_id {
            enums::Peer::PeerChannel(c) => c.channel_id,
            _ => 0,
        };
        let origin = Origin {
            channel_id,
            access_hash,
            msg_id: m.id,
        };
        match m.media.as_ref()? {
            enums::MessageMedia::MessageMediaDocument(md) => match md.document.as_ref()? {
                enums::Document::Document(d) => Some(Self::document(d, m, origin)),
                enums::Document::DocumentEmpty(_) => None,
            },
            enums::MessageMedia::MessageMediaPhoto(mp) => match mp.photo.as_ref()? {
                enums::Photo::Photo(p) => Self::photo(p, m, origin),
                enums::Photo::PhotoEmpty(_) => None,
            },
            _ => None,
        }
    }

    fn document(d: &types::Document, m: &types::Message, origin: Origin) -> Media {
        let mut name = None;
        let mut video = None;
        let mut audio = None;
        for a in &d.attributes {
            match a {
                enums::DocumentAttribute::DocumentAttributeFilename(f) => {
                    name = Some(f.file_name.clone())
                }
                enums::DocumentAttribute::DocumentAttributeVideo(v) => {
                    video = Some(Video {
                        duration: v.duration,
                        w: v.w,
                        h: v.h,
                    })
                }
                enums::DocumentAttribute::DocumentAttributeAudio(a) => {
                    audio = Some(Audio {
                        duration: a.duration,
                        title: a.title.clone(),
                        performer: a.performer.clone(),
                    })
                }
                _ => {}
            }
        }
        let fallback = || format!("{}.{}", m.id, extension(&d.mime_type));
        Media {
            location: Location::Document {
                id: d.id,
                access_hash: d.access_hash,
            },
            file_reference: d.file_reference.to_vec(),
            dc_id: d.dc_id,
            size: u64::try_from(d.size).unwrap_or(0),
            mime_type: d.mime_type.clone(),
            file_name: name
                .and_then(|n| safe_file_name(&n))
                .unwrap_or_else(fallback),
            date: m.date,
            video,
            audio,
            origin,
            grouped_id: m.grouped_id,
        }
    }

    /// The photo's largest downloadable size (`photoSize`, `photoSizeProgressive`).
    fn photo(p: &types::Photo, m: &types::Message, origin: Origin) -> Option<Media> {
        let (thumb_size, size) = p
            .sizes
            .iter()
            .filter_map(|s| match s {
                enums::PhotoSize::PhotoSize(s) => Some((s.r#type.clone(), i64::from(s.size))),
                enums::PhotoSize::PhotoSizeProgressive(s) => s
                    .sizes
                    .iter()
                    .max()
                    .map(|&n| (s.r#type.clone(), i64::from(n))),
                _ => None,
            })
            .max_by_key(|(_, n)| *n)?;
        Some(Media {
            location: Location::Photo {
                id: p.id,
                access_hash: p.access_hash,
                thumb_size,
            },
            file_reference: p.file_reference.to_vec(),
            dc_id: p.dc_id,
            size: u64::try_from(size).unwrap_or(0),
            mime_type: "image/jpeg".into(),
            file_name: format!("{}.jpg", m.id),
            date: m.date,
            video: None,
            audio: None,
            origin,
            grouped_id: m.grouped_id,
        })
    }
}

/// A file extension for a MIME type (`bin` when unknown).
pub fn extension(mime: &str) -> &'static str {
    match mime {
        "video/mp4" => "mp4",
        "video/x-matroska" => "mkv",
        "video/webm" => "webm",
        "video/quicktime" => "mov",
        "video/x-msvideo" => "avi",
        "audio/mpeg" => "mp3",
        "audio/mp4" => "m4a",
        "audio/ogg" => "ogg",
        "audio/flac" => "flac",
        "audio/wav" | "audio/x-wav" => "wav",
        "image/jpeg" => "jpg",
        "image/png" => "png",
        "image/gif" => "gif",
        "image/webp" => "webp",
        "text/plain" => "txt",
        "application/pdf" => "pdf",
        "application/zip" => "zip",
        _ => "bin",
    }
}

/// A server-given file name made safe to create inside a directory: path separators, NUL and
/// control characters become `_`, leading dots are dropped (no `..`, no hidden files), at most
/// 200 bytes kept (cut on a character boundary). `None` when nothing is left.
pub fn safe_file_name(name: &str) -> Option<String> {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c == '/' || c == '\\' || c.is_control() {
                '_'
            } else {
                c
            }
        })
        .collect();
    let trimmed = cleaned.trim().trim_start_matches('.');
    let mut end = trimmed.len().min(200);
    while !trimmed.is_char_boundary(end) {
        end -= 1;
    }
    let out = trimmed[..end].trim_end();
    (!out.is_empty()).then(|| out.to_string())
}

/// `Vec<u8>` as a hex string in the cache file.
mod hex_bytes {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&v.iter().map(|b| format!("{b:02x}")).collect::<String>())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let s = String::deserialize(d)?;
        if s.len() % 2 != 0 {
            return Err(serde::de::Error::custom("odd hex length"));
        }
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).map_err(serde::de::Error::custom))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_cannot_escape() {
        assert_eq!(safe_file_name("a.mkv").as_deref(), Some("a.mkv"));
        assert_eq!(
            safe_file_name("../../etc/passwd").as_deref(),
            Some("_.._etc_passwd")
        );
        assert_eq!(safe_file_name("..").as_deref(), None);
        assert_eq!(safe_file_name("a\0b\nc").as_deref(), Some("a_b_c"));
        assert_eq!(safe_file_name("  ").as_deref(), None);
        let long = "é".repeat(300);
        let s = safe_file_name(&long).unwrap();
        assert!(s.len() <= 200 && s.chars().all(|c| c == 'é'));
        assert_eq!(extension("video/x-matroska"), "mkv");
        assert_eq!(extension("x/y"), "bin");
    }
}
