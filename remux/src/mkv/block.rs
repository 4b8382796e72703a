//! Block and SimpleBlock bodies: track number, relative timestamp, flags, and the frames of
//! Xiph, EBML or fixed-size lacing.

use bytes::Bytes;

use super::ebml::{self, HeaderError};
use super::limits;
use crate::RemuxError;

/// A parsed block: its frames are views into the block's buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Block {
    pub(crate) track: u64,
    /// Timestamp relative to the cluster, in Matroska units.
    pub(crate) rel_timestamp: i16,
    /// SimpleBlock keyframe bit (0x80); meaningless for a BlockGroup's Block.
    pub(crate) keyframe_flag: bool,
    pub(crate) frames: Vec<Bytes>,
}

fn truncated_block(at: u64) -> RemuxError {
    ebml::malformed(at, "block shorter than its header or lacing")
}

/// What a (Simple)Block body holds before its frames.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BlockHead {
    pub(crate) track: u64,
    /// Timestamp relative to the cluster, in Matroska units.
    pub(crate) rel_timestamp: i16,
    /// SimpleBlock keyframe bit (0x80); meaningless for a BlockGroup's Block.
    pub(crate) keyframe_flag: bool,
    /// Lacing: 0 none, 1 Xiph, 2 fixed, 3 EBML.
    pub(crate) lacing: u8,
    /// Bytes before the first frame.
    pub(crate) len: usize,
    /// Every frame's size, in order; they fill the body after `len`.
    pub(crate) sizes: Vec<usize>,
}

/// Bytes of a block body being parsed: `data` may be only the first bytes of a body of
/// `body_len`, so running past its end means either "need more" or "truncated".
struct Cursor<'a> {
    data: &'a [u8],
    pos: usize,
}

/// Ran past the bytes given.
struct Short;

impl Cursor<'_> {
    fn byte(&mut self) -> Result<u8, Short> {
        let b = *self.data.get(self.pos).ok_or(Short)?;
        self.pos += 1;
        Ok(b)
    }

    fn vint(&mut self) -> Result<Result<u64, &'static str>, Short> {
        match ebml::read_vint(self.data.get(self.pos..).unwrap_or(&[])) {
            Ok((v, n, _)) => {
                self.pos += n;
                Ok(Ok(v))
            }
            Err(HeaderError::NeedMore) => Err(Short),
            Err(HeaderError::Invalid(what)) => Ok(Err(what)),
        }
    }
}

/// Parses the head of a (Simple)Block body of `body_len` bytes that starts at input offset
/// `at`, from its first bytes `data` (the whole body or a prefix of it). `Ok(None)`: `data`
/// is a prefix too short to hold the head.
pub(crate) fn parse_head(
    data: &[u8],
    body_len: usize,
    at: u64,
) -> Result<Option<BlockHead>, RemuxError> {
    let data = &data[..data.len().min(body_len)];
    let mut c = Cursor { data, pos: 0 };
    match head(&mut c, body_len, at) {
        Ok(h) => h.map(Some),
        Err(Short) if data.len() < body_len => Ok(None),
        Err(Short) => Err(truncated_block(at)),
    }
}

fn head(c: &mut Cursor, body_len: usize, at: u64) -> Result<Result<BlockHead, RemuxError>, Short> {
    let track = match c.vint()? {
        Ok(t) => t,
        Err(what) => return Ok(Err(ebml::malformed(at, what))),
    };
    let rel_timestamp = i16::from_be_bytes([c.byte()?, c.byte()?]);
    let flags = c.byte()?;
    let lacing = (flags >> 1) & 3;
    let mut sizes: Vec<usize> = Vec::new();
    if lacing != 0 {
        let count = usize::from(c.byte()?) + 1;
        debug_assert!(count <= limits::MAX_LACED_FRAMES);
        sizes.reserve(count);
        match lacing {
            // Xiph: each size but the last is a run of 255s plus a final byte.
            1 => {
                for _ in 0..count - 1 {
                    let mut size = 0usize;
                    loop {
                        let b = c.byte()?;
                        size += usize::from(b); // at most 255 * body_len
                        if b != 255 {
                            break;
                        }
                    }
                    sizes.push(size);
                }
            }
            // Fixed: equal sizes.
            2 => {
                let total = body_len.saturating_sub(c.pos);
                if total % count != 0 {
                    return Ok(Err(ebml::malformed(
                        at,
                        "fixed-size lacing does not divide the block",
                    )));
                }
                sizes.extend(std::iter::repeat_n(total / count, count - 1));
            }
            // EBML: first size as a vint, then signed differences.
            _ => {
                if count > 1 {
                    let Ok(first) = c.vint()? else {
                        return Ok(Err(truncated_block(at)));
                    };
                    let Ok(mut size) = i64::try_from(first) else {
                        return Ok(Err(truncated_block(at)));
                    };
                    sizes.push(size as usize);
                    for _ in 1..count - 1 {
                        let before = c.pos;
                        let Ok(raw) = c.vint()? else {
                            return Ok(Err(truncated_block(at)));
                        };
                        // Signed vint: subtract 2^(7*len-1) - 1.
                        let len = c.pos - before;
                        let bias = (1i64 << (7 * len - 1)) - 1;
                        let delta = raw as i64 - bias;
                        match size.checked_add(delta).filter(|&s| s >= 0) {
                            Some(s) => size = s,
                            None => return Ok(Err(ebml::malformed(at, "negative EBML lace size"))),
                        }
                        sizes.push(size as usize);
                    }
                }
            }
        }
    }
    let len = c.pos;
    let laced: Option<usize> = sizes.iter().try_fold(len, |a, s| a.checked_add(*s));
    let Some(last) = laced.and_then(|used| body_len.checked_sub(used)) else {
        return Ok(Err(truncated_block(at)));
    };
    sizes.push(last);
    Ok(Ok(BlockHead {
        track,
        rel_timestamp,
        keyframe_flag: flags & 0x80 != 0,
        lacing,
        len,
        sizes,
    }))
}

/// Parses a (Simple)Block body that starts at input offset `at`.
pub(crate) fn parse(data: &Bytes, at: u64) -> Result<Block, RemuxError> {
    let Some(head) = parse_head(data, data.len(), at)? else {
        return Err(truncated_block(at)); // not reached: the whole body was given
    };
    let mut pos = head.len;
    let frames = head
        .sizes
        .iter()
        .map(|&size| {
            let frame = data.slice(pos..pos + size);
            pos += size;
            frame
        })
        .collect();
    Ok(Block {
        track: head.track,
        rel_timestamp: head.rel_timestamp,
        keyframe_flag: head.keyframe_flag,
        frames,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sizes(b: &Block) -> Vec<usize> {
        b.frames.iter().map(|f| f.len()).collect()
    }

    #[test]
    fn unlaced() {
        let b = parse(&Bytes::from_static(&[0x81, 0xFF, 0xFE, 0x80, 1, 2, 3]), 0).unwrap();
        assert_eq!((b.track, b.rel_timestamp, b.keyframe_flag), (1, -2, true));
        assert_eq!(&b.frames[0][..], &[1, 2, 3]);
    }

    #[test]
    fn xiph() {
        // 3 frames: 300 (255+45), 2, rest 1.
        let mut v = vec![0x82, 0, 5, 0x02, 2, 255, 45, 2];
        v.extend(std::iter::repeat_n(7, 303));
        let b = parse(&Bytes::from(v), 0).unwrap();
        assert_eq!(b.track, 2);
        assert_eq!(sizes(&b), [300, 2, 1]);
    }

    #[test]
    fn ebml_and_fixed() {
        // EBML: 3 frames, first 10 (0x8A), delta -3 (1-byte signed: 63-3=60 -> 0x80|60), last rest.
        let mut v = vec![0x81, 0, 0, 0x06, 2, 0x8A, 0x80 | 60];
        v.extend(std::iter::repeat_n(1, 10 + 7 + 4));
        assert_eq!(sizes(&parse(&Bytes::from(v), 0).unwrap()), [10, 7, 4]);
        let mut v = vec![0x81, 0, 0, 0x04, 3];
        v.extend(std::iter::repeat_n(1, 8));
        assert_eq!(sizes(&parse(&Bytes::from(v), 0).unwrap()), [2, 2, 2, 2]);
        let mut v = vec![0x81, 0, 0, 0x04, 2];
        v.extend(std::iter::repeat_n(1, 8));
        assert!(parse(&Bytes::from(v), 0).is_err());
    }

    #[test]
    fn short_blocks_are_errors() {
        for bad in [
            &[][..],
            &[0x81, 0],
            &[0x81, 0, 0, 0x02],
            &[0x81, 0, 0, 0x02, 1, 255],
            &[0x00, 1, 2, 3],
        ] {
            assert!(parse(&Bytes::copy_from_slice(bad), 0).is_err());
        }
    }
}
