//! Response header values that take some care: Content-Disposition with RFC 6266 / RFC 8187
//! (ex-5987) file names, the strong ETag of a document, file names for nameless documents.

/// `inline` or `attachment` (`?download=1`), with `filename="<ASCII fallback>"` and, when the
/// name is not plain ASCII, `filename*=UTF-8''<percent-encoded>` (RFC 6266 §4.3: a recipient
/// that understands `filename*` prefers it).
pub fn content_disposition(name: &str, attachment: bool) -> String {
    let kind = if attachment { "attachment" } else { "inline" };
    // Path separators and control characters never reach a file name.
    let clean: String = name
        .chars()
        .map(|c| if c == '/' || c == '\\' { '_' } else { c })
        .filter(|c| !c.is_control())
        .collect();
    let clean = clean.trim();
    let clean = if clean.is_empty() || clean == "." || clean == ".." {
        "file"
    } else {
        clean
    };
    // The fallback avoids `"`, `\` and `%` (some agents percent-decode `filename=`).
    let fallback: String = clean
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && !matches!(c, '"' | '\\' | '%') || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if fallback == clean {
        return format!("{kind}; filename=\"{fallback}\"");
    }
    format!(
        "{kind}; filename=\"{fallback}\"; filename*=UTF-8''{}",
        attr_encode(clean)
    )
}

/// RFC 8187 `value-chars`: attr-char as is, every other byte `%XX`.
fn attr_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The strong ETag of a document: its stable id and size, so it survives restarts and
/// differs between documents. `variant` names a derived representation (`""` for the file
/// itself).
pub fn etag(id: u64, size: u64, variant: &str) -> String {
    if variant.is_empty() {
        format!("\"{id:016x}-{size:x}\"")
    } else {
        format!("\"{id:016x}-{size:x}-{variant}\"")
    }
}

/// `mime` if it is a plausible `type/subtype[; params]` of printable ASCII (it goes into
/// headers and multipart part heads), else `application/octet-stream`.
pub fn safe_mime(mime: &str) -> &str {
    let ok = mime.contains('/')
        && mime.len() <= 255
        && mime.bytes().all(|b| b.is_ascii_graphic() || b == b' ');
    if ok {
        mime
    } else {
        "application/octet-stream"
    }
}

/// A file extension for a MIME type, for documents that come without a file name.
pub fn extension_for(mime: &str) -> &'static str {
    match mime {
        "video/mp4" => "mp4",
        "video/x-matroska" => "mkv",
        "video/webm" => "webm",
        "video/quicktime" => "mov",
        "audio/mpeg" => "mp3",
        "audio/mp4" | "audio/x-m4a" => "m4a",
        "audio/ogg" => "ogg",
        "audio/flac" | "audio/x-flac" => "flac",
        "image/jpeg" => "jpg",
        "image/png" => "png",
        "image/gif" => "gif",
        "application/pdf" => "pdf",
        "application/zip" => "zip",
        "text/plain" => "txt",
        _ => "bin",
    }
}

/// The MIME type for a file name's extension (the local-directory source uses it).
pub fn mime_for(name: &str) -> &'static str {
    let ext = name.rsplit_once('.').map_or("", |(_, e)| e);
    match ext.to_ascii_lowercase().as_str() {
        "mp4" | "m4v" => "video/mp4",
        "mkv" => "video/x-matroska",
        "webm" => "video/webm",
        "mov" => "video/quicktime",
        "mp3" => "audio/mpeg",
        "m4a" => "audio/mp4",
        "ogg" | "opus" => "audio/ogg",
        "flac" => "audio/flac",
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "gif" => "image/gif",
        "pdf" => "application/pdf",
        "zip" => "application/zip",
        "txt" | "srt" => "text/plain",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dispositions() {
        assert_eq!(
            content_disposition("movie.mkv", false),
            "inline; filename=\"movie.mkv\""
        );
        assert_eq!(
            content_disposition("my movie.mkv", true),
            "attachment; filename=\"my movie.mkv\""
        );
        assert_eq!(
            content_disposition("Résumé €.pdf", true),
            "attachment; filename=\"R_sum_ _.pdf\"; filename*=UTF-8''R%C3%A9sum%C3%A9%20%E2%82%AC.pdf"
        );
        assert_eq!(
            content_disposition("a\"b\\c%d.txt", false),
            "inline; filename=\"a_b_c_d.txt\"; filename*=UTF-8''a%22b_c%25d.txt"
        );
        assert_eq!(
            content_disposition("../../etc/passwd", false),
            "inline; filename=\".._.._etc_passwd\""
        );
        assert_eq!(
            content_disposition("\r\n", false),
            "inline; filename=\"file\""
        );
        assert_eq!(
            content_disposition("..", false),
            "inline; filename=\"file\""
        );
    }

    #[test]
    fn mime_types_that_could_break_headers_are_replaced() {
        assert_eq!(safe_mime("video/mp4"), "video/mp4");
        assert_eq!(
            safe_mime("text/plain; charset=utf-8"),
            "text/plain; charset=utf-8"
        );
        assert_eq!(
            safe_mime("video/mp4\r\nX-Evil: 1"),
            "application/octet-stream"
        );
        assert_eq!(safe_mime(""), "application/octet-stream");
        assert_eq!(safe_mime("vidéo/mp4"), "application/octet-stream");
    }

    #[test]
    fn etags_are_strong_and_distinct() {
        assert_eq!(etag(0xabc, 10, ""), "\"0000000000000abc-a\"");
        assert_ne!(etag(1, 10, ""), etag(1, 11, ""));
        assert_ne!(etag(1, 10, ""), etag(1, 10, "fmp4"));
        assert!(!etag(1, 1, "").starts_with("W/"));
    }
}
