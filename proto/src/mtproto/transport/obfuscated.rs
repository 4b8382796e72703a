//! Obfuscated2: a 64-byte init followed by a framed stream, AES-256-CTR encrypted both ways.
//!
//! The client draws 64 random bytes, rejecting inits that could be read as another protocol
//! (first byte `ef`; first four bytes `HEAD`, `POST`, `GET `, `OPTI`, `dd dd dd dd`,
//! `ee ee ee ee` or the TLS record start `16 03 01 02`; bytes 4..8 all zero). Bytes 8..40 are
//! the client→server key, 40..56 its IV; bytes 8..56 reversed give the server→client key and
//! IV. With an MTProxy secret each key becomes SHA-256(key ‖ secret). The client writes the
//! protocol tag at 56..60 and the DC id (int16 LE) at 60..62, encrypts the whole init with its
//! stream, and sends bytes 0..56 in clear with the encrypted 56..64. Both streams then run on
//! for the rest of the connection (the client's having already consumed the 64 init bytes).

use aes::Aes256;
use ctr::cipher::{KeyIvInit, StreamCipher};
use rand::RngCore;
use sha2::{Digest, Sha256};

use super::{Kind, TransportError};

/// AES-256-CTR with a 128-bit big-endian counter, the obfuscated2 stream.
type AesCtr = ctr::Ctr128BE<Aes256>;

/// Length of the obfuscated2 init.
pub(super) const INIT_LEN: usize = 64;

/// First four bytes that a client must not start an obfuscated2 init with.
const FORBIDDEN_STARTS: [[u8; 4]; 7] = [
    *b"HEAD",
    *b"POST",
    *b"GET ",
    *b"OPTI",
    [0xdd; 4],
    [0xee; 4],
    [0x16, 0x03, 0x01, 0x02],
];

/// How many random inits a client draws before giving up on its random source.
const MAX_INIT_ATTEMPTS: usize = 1000;

/// An MTProxy secret: 16 bytes mixed into both obfuscated2 keys.
#[derive(Clone, PartialEq, Eq)]
pub struct ProxySecret {
    key: [u8; 16],
    padded_only: bool,
}

impl std::fmt::Debug for ProxySecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProxySecret")
            .field("padded_only", &self.padded_only)
            .finish_non_exhaustive()
    }
}

impl ProxySecret {
    /// A plain 16-byte secret.
    pub fn new(key: [u8; 16]) -> Self {
        Self {
            key,
            padded_only: false,
        }
    }

    /// Parses a secret as MTProxy links carry it (after hex decoding): 16 bytes, or `dd`
    /// followed by 16 bytes (the proxy then accepts only padded intermediate). Fake-TLS
    /// secrets (`ee`...) are not supported.
    pub fn parse(bytes: &[u8]) -> Result<Self, TransportError> {
        match bytes {
            [0xdd, rest @ ..] if rest.len() == 16 => {
                let mut key = [0; 16];
                key.copy_from_slice(rest);
                Ok(Self {
                    key,
                    padded_only: true,
                })
            }
            _ if bytes.len() == 16 => {
                let mut key = [0; 16];
                key.copy_from_slice(bytes);
                Ok(Self::new(key))
            }
            [0xee, ..] => Err(TransportError::Unsupported {
                what: "fake-TLS MTProxy secret",
            }),
            _ => Err(TransportError::Unsupported {
                what: "MTProxy secret must be 16 bytes, or dd followed by 16 bytes",
            }),
        }
    }

    /// The 16 secret bytes.
    pub fn key(&self) -> &[u8; 16] {
        &self.key
    }

    /// Whether the secret was given with the `dd` prefix (padded intermediate only).
    pub fn padded_only(&self) -> bool {
        self.padded_only
    }
}

/// The two running AES-CTR streams of an obfuscated2 connection.
pub(super) struct Obfuscator {
    /// Encrypts what we send.
    pub(super) tx: AesCtr,
    /// Decrypts what we receive.
    pub(super) rx: AesCtr,
}

impl std::fmt::Debug for Obfuscator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Obfuscator { .. }")
    }
}

/// Whether a client may send these 64 bytes as an obfuscated2 init.
pub(super) fn is_valid_init(init: &[u8; INIT_LEN]) -> bool {
    let start = [init[0], init[1], init[2], init[3]];
    init[0] != 0xef && !FORBIDDEN_STARTS.contains(&start) && init[4..8] != [0, 0, 0, 0]
}

/// The stream keyed by `key_iv` (32-byte key then 16-byte IV), with the MTProxy secret
/// mixed into the key when there is one.
fn stream(key_iv: &[u8], secret: Option<&ProxySecret>) -> AesCtr {
    let mut key = [0u8; 32];
    key.copy_from_slice(&key_iv[..32]);
    if let Some(secret) = secret {
        let mut h = Sha256::new();
        h.update(key);
        h.update(secret.key);
        key.copy_from_slice(&h.finalize());
    }
    let mut iv = [0u8; 16];
    iv.copy_from_slice(&key_iv[32..48]);
    AesCtr::new(&key.into(), &iv.into())
}

/// The client→server stream and the server→client stream of an init.
fn streams(init: &[u8; INIT_LEN], secret: Option<&ProxySecret>) -> (AesCtr, AesCtr) {
    let forward = &init[8..56];
    let mut reversed = [0u8; 48];
    reversed.copy_from_slice(forward);
    reversed.reverse();
    (stream(forward, secret), stream(&reversed, secret))
}

/// Draws a client init for `kind` and `dc_id`: the 64 bytes to send first and the streams
/// for the rest of the connection.
pub(super) fn client_init(
    kind: Kind,
    dc_id: i16,
    secret: Option<&ProxySecret>,
    rng: &mut dyn RngCore,
) -> Result<([u8; INIT_LEN], Obfuscator), TransportError> {
    let tag = kind.obfuscated_tag().ok_or(TransportError::Unsupported {
        what: "the full transport inside obfuscated2 (it has no protocol tag)",
    })?;
    let mut init = [0u8; INIT_LEN];
    let mut attempts = 0;
    loop {
        rng.fill_bytes(&mut init);
        if is_valid_init(&init) {
            break;
        }
        attempts += 1;
        if attempts == MAX_INIT_ATTEMPTS {
            return Err(TransportError::Unsupported {
                what: "random source that only yields forbidden obfuscated2 inits",
            });
        }
    }
    init[56..60].copy_from_slice(&tag);
    init[60..62].copy_from_slice(&dc_id.to_le_bytes());
    let (mut tx, rx) = streams(&init, secret);
    let mut encrypted = init;
    tx.apply_keystream(&mut encrypted);
    init[56..].copy_from_slice(&encrypted[56..]);
    Ok((init, Obfuscator { tx, rx }))
}

/// Reads a client's init on the server side: the framing its tag names, the DC id, and the
/// streams for the rest of the connection.
pub(super) fn server_accept(
    init: &[u8; INIT_LEN],
    secret: Option<&ProxySecret>,
) -> Result<(Kind, i16, Obfuscator), TransportError> {
    let (mut rx, tx) = streams(init, secret);
    let mut plain = *init;
    rx.apply_keystream(&mut plain);
    let tag = [plain[56], plain[57], plain[58], plain[59]];
    let kind = match tag {
        [0xef, 0xef, 0xef, 0xef] => Kind::Abridged,
        [0xee, 0xee, 0xee, 0xee] => Kind::Intermediate,
        [0xdd, 0xdd, 0xdd, 0xdd] => Kind::PaddedIntermediate,
        got => return Err(TransportError::BadObfuscatedTag { got }),
    };
    if secret.is_some_and(|s| s.padded_only) && kind != Kind::PaddedIntermediate {
        return Err(TransportError::BadObfuscatedTag { got: tag });
    }
    let dc_id = i16::from_le_bytes([plain[60], plain[61]]);
    Ok((kind, dc_id, Obfuscator { tx, rx }))
}
