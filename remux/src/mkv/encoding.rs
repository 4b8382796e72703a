//! Undoing ContentEncodings: zlib compression (flate2) and header stripping.
//!
//! Other algorithms (bzlib, lzo1x) and encryption are not undone; the track is reported as
//! unsupported instead (see [`super::codec`]).

use std::io::Read;

use bytes::Bytes;

use super::limits;
use super::tracks::ContentEncoding;
use crate::RemuxError;

/// ContentEncodingScope bit for frames.
pub(crate) const SCOPE_FRAMES: u64 = 1;
/// ContentEncodingScope bit for CodecPrivate.
pub(crate) const SCOPE_CODEC_PRIVATE: u64 = 2;

/// One step of decoding.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Zlib,
    /// Header stripping: these bytes are put back in front of each frame.
    Prepend(Bytes),
}

/// The steps that turn a stored frame (or CodecPrivate) back into the codec's bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Decoder {
    steps: Vec<Step>,
}

impl Decoder {
    /// The decoder for the encodings that apply to `scope`, or the reason it cannot exist.
    pub(crate) fn new(encodings: &[ContentEncoding], scope: u64) -> Result<Decoder, String> {
        let mut relevant: Vec<&ContentEncoding> =
            encodings.iter().filter(|e| e.scope & scope != 0).collect();
        // Encodings are undone from the highest ContentEncodingOrder down.
        relevant.sort_by_key(|e| std::cmp::Reverse(e.order));
        let mut steps = Vec::with_capacity(relevant.len());
        for e in relevant {
            if e.kind != 0 {
                return Err("encrypted".into());
            }
            steps.push(match e.algo {
                0 => Step::Zlib,
                3 => Step::Prepend(Bytes::copy_from_slice(&e.settings)),
                1 => return Err("bzlib-compressed".into()),
                2 => return Err("lzo-compressed".into()),
                other => return Err(format!("compressed with unknown algorithm {other}")),
            });
        }
        Ok(Decoder { steps })
    }

    /// True when frames are stored as they are.
    pub(crate) fn is_identity(&self) -> bool {
        self.steps.is_empty()
    }

    /// Decodes one frame; `at` is its input offset, for errors.
    pub(crate) fn decode(&self, mut data: Bytes, at: u64) -> Result<Bytes, RemuxError> {
        for step in &self.steps {
            data = match step {
                Step::Zlib => inflate(&data, at)?,
                Step::Prepend(prefix) => {
                    let len = prefix
                        .len()
                        .checked_add(data.len())
                        .filter(|&n| n <= limits::MAX_FRAME);
                    let Some(len) = len else {
                        return Err(RemuxError::TooLarge {
                            at,
                            what: "frame after header stripping".into(),
                        });
                    };
                    let mut v = Vec::with_capacity(len);
                    v.extend_from_slice(prefix);
                    v.extend_from_slice(&data);
                    Bytes::from(v)
                }
            };
        }
        Ok(data)
    }
}

fn inflate(data: &[u8], at: u64) -> Result<Bytes, RemuxError> {
    let mut out = Vec::with_capacity(data.len().saturating_mul(2).min(limits::MAX_FRAME));
    let mut reader = flate2::read::ZlibDecoder::new(data).take(limits::MAX_FRAME as u64 + 1);
    reader
        .read_to_end(&mut out)
        .map_err(|e| RemuxError::Malformed {
            at,
            what: format!("zlib-compressed frame does not inflate: {e}"),
        })?;
    if out.len() > limits::MAX_FRAME {
        return Err(RemuxError::TooLarge {
            at,
            what: "frame after zlib decompression".into(),
        });
    }
    Ok(Bytes::from(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn enc(order: u64, scope: u64, algo: u64, settings: &[u8]) -> ContentEncoding {
        ContentEncoding {
            order,
            scope,
            kind: 0,
            algo,
            settings: settings.to_vec(),
        }
    }

    #[test]
    fn strip_and_zlib_in_order() {
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(b"payload").unwrap();
        let stored = z.finish().unwrap();
        // Encoded: first header stripping (order 0), then zlib (order 1). Undo zlib first.
        let d = Decoder::new(&[enc(0, 1, 3, b"HDR"), enc(1, 1, 0, b"")], SCOPE_FRAMES).unwrap();
        assert_eq!(
            &d.decode(Bytes::from(stored), 0).unwrap()[..],
            b"HDRpayload"
        );
        // Scope filtering: a CodecPrivate-only encoding does not touch frames.
        let d = Decoder::new(&[enc(0, 2, 0, b"")], SCOPE_FRAMES).unwrap();
        assert!(d.is_identity());
    }

    #[test]
    fn bad_zlib_and_unsupported() {
        let d = Decoder::new(&[enc(0, 1, 0, b"")], SCOPE_FRAMES).unwrap();
        assert!(matches!(
            d.decode(Bytes::from_static(b"nope"), 7),
            Err(RemuxError::Malformed { at: 7, .. })
        ));
        assert!(Decoder::new(&[enc(0, 1, 2, b"")], SCOPE_FRAMES).is_err());
        let mut e = enc(0, 1, 0, b"");
        e.kind = 1;
        assert!(Decoder::new(&[e], SCOPE_FRAMES).is_err());
    }
}
