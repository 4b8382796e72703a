//! Server-side transport detection from the first bytes of a connection.

use super::obfuscated::INIT_LEN;
use super::Kind;

/// What the first bytes of a connection say.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Detection {
    /// Not enough bytes to tell yet.
    NeedMore,
    /// A plain transport; its header is the first `header_len` bytes.
    Plain {
        /// The framing.
        kind: Kind,
        /// Bytes to drop before the first frame.
        header_len: usize,
    },
    /// An obfuscated2 init (the first 64 bytes).
    Obfuscated,
    /// HTTP or TLS, which we do not serve.
    Unsupported([u8; 4]),
}

/// Classifies the first bytes of a connection:
/// `ef` abridged; `ee ee ee ee` intermediate; `dd dd dd dd` padded intermediate; `HEAD`,
/// `POST`, `GET `, `OPTI`, `16 03 01 02` unsupported (HTTP, TLS); bytes 4..8 zero: full
/// (its first frame has seq no 0, and an obfuscated2 init may not have zeros there);
/// anything else: an obfuscated2 init.
pub(super) fn detect(buf: &[u8]) -> Detection {
    let Some(&first) = buf.first() else {
        return Detection::NeedMore;
    };
    if first == 0xef {
        return Detection::Plain {
            kind: Kind::Abridged,
            header_len: 1,
        };
    }
    if buf.len() < 4 {
        return Detection::NeedMore;
    }
    let start = [buf[0], buf[1], buf[2], buf[3]];
    match &start {
        [0xee, 0xee, 0xee, 0xee] => {
            return Detection::Plain {
                kind: Kind::Intermediate,
                header_len: 4,
            }
        }
        [0xdd, 0xdd, 0xdd, 0xdd] => {
            return Detection::Plain {
                kind: Kind::PaddedIntermediate,
                header_len: 4,
            }
        }
        b"HEAD" | b"POST" | b"GET " | b"OPTI" | [0x16, 0x03, 0x01, 0x02] => {
            return Detection::Unsupported(start)
        }
        _ => {}
    }
    if buf.len() < 8 {
        return Detection::NeedMore;
    }
    if buf[4..8] == [0, 0, 0, 0] {
        return Detection::Plain {
            kind: Kind::Full,
            header_len: 0,
        };
    }
    if buf.len() < INIT_LEN {
        return Detection::NeedMore;
    }
    Detection::Obfuscated
}
