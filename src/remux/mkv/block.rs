//! Block and SimpleBlock bodies: track number, relative timestamp, flags, and the frames of
//! Xiph, EBML or fixed-size lacing.

use bytes::Bytes;

use super::ebml::{self, HeaderError};
use super::limits;
use crate::remux::RemuxError;

/// A parsed block: its frames are views into the block's buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    pub track: u64,
    /// Timestamp relative to the cluster, in Matroska units.
    pub rel_timestamp: i16,
    /// SimpleBlock keyframe bit (0x80); meaningless for a BlockGroup's Block.
    pub keyframe_flag: bool,
    pub frames: Vec<Bytes>,
}

fn truncated_block(at: u64) -> RemuxError {
    ebml::malformed(at, "block shorter than its header or lacing")
}

/// Parses a (Simple)Block body that starts at input offset `at`.
pub fn parse(data: &Bytes, at: u64) -> Result<Block, RemuxError> {
    let (track, n, _) = ebml::read_vint(data).map_err(|e| match e {
        HeaderError::NeedMore => truncated_block(at),
        HeaderError::Invalid(what) => ebml::malformed(at, what),
    })?;
    let rest = &data[n..];
    if rest.len() < 3 {
        return Err(truncated_block(at));
    }
    let rel_timestamp = i16::from_be_bytes([rest[0], rest[1]]);
    let flags = rest[2];
    let mut pos = n + 3;
    let lacing = (flags >> 1) & 3;
    let frames = if lacing == 0 {
        vec![data.slice(pos..)]
    } else {
        let count = usize::from(*data.get(pos).ok_or_else(|| truncated_block(at))?) + 1;
        pos += 1;
        debug_assert!(count <= limits::MAX_LACED_FRAMES);
        let mut sizes: Vec<usize> = Vec::with_capacity(count);
        match lacing {
            // Xiph: each size but the last is a run of 255s plus a final byte.
            1 => {
                for _ in 0..count - 1 {
                    let mut size = 0usize;
                    loop {
                        let b = *data.get(pos).ok_or_else(|| truncated_block(at))?;
                        pos += 1;
                        size = size
                            .checked_add(usize::from(b))
                            .ok_or_else(|| truncated_block(at))?;
                        if b != 255 {
                            break;
                        }
                    }
                    sizes.push(size);
                }
            }
            // Fixed: equal sizes.
            2 => {
                let total = data.len() - pos;
                if total % count != 0 {
                    return Err(ebml::malformed(
                        at,
                        "fixed-size lacing does not divide the block",
                    ));
                }
                sizes.extend(std::iter::repeat_n(total / count, count - 1));
            }
            // EBML: first size as a vint, then signed differences.
            _ => {
                if count > 1 {
                    let (first, len, _) = ebml::read_vint(data.get(pos..).unwrap_or(&[]))
                        .map_err(|_| truncated_block(at))?;
                    pos += len;
                    let mut size = i64::try_from(first).map_err(|_| truncated_block(at))?;
                    sizes.push(usize::try_from(size).map_err(|_| truncated_block(at))?);
                    for _ in 1..count - 1 {
                        let (raw, len, _) = ebml::read_vint(data.get(pos..).unwrap_or(&[]))
                            .map_err(|_| truncated_block(at))?;
                        pos += len;
                        // Signed vint: subtract 2^(7*len-1) - 1.
                        let bias = (1i64 << (7 * len - 1)) - 1;
                        let delta = raw as i64 - bias;
                        size = size
                            .checked_add(delta)
                            .filter(|&s| s >= 0)
                            .ok_or_else(|| ebml::malformed(at, "negative EBML lace size"))?;
                        sizes.push(size as usize);
                    }
                }
            }
        }
        let mut frames = Vec::with_capacity(count);
        for size in sizes {
            let end = pos
                .checked_add(size)
                .filter(|&e| e <= data.len())
                .ok_or_else(|| truncated_block(at))?;
            frames.push(data.slice(pos..end));
            pos = end;
        }
        if pos > data.len() {
            return Err(truncated_block(at));
        }
        frames.push(data.slice(pos..));
        frames
    };
    Ok(Block {
        track,
        rel_timestamp,
        keyframe_flag: flags & 0x80 != 0,
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
