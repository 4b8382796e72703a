//! Which `upload.getFile` parts cover a byte range, and what to keep of each answer.
//!
//! Parts are the 1 MiB blocks of the file (`offset = k × 2^20`, `limit = 2^20`, the last one
//! answered short by the server). A block the range covers only partly is asked `precise`,
//! from the range start rounded down to 1 KiB, for the needed bytes rounded up to 1 KiB (the
//! `precise` rules: offset and limit multiples of 1 KiB, never crossing a 1 MiB block). All
//! offsets and sizes are u64: files pass 4 GiB.

/// The block size: the largest part, and the boundary no part may cross.
pub const BLOCK: u64 = 1 << 20;

/// The alignment of `precise` parts.
pub const PRECISE_ALIGN: u64 = 1024;

/// One part to ask for, and which of its bytes belong to the range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartSpec {
    /// Byte offset in the file.
    pub offset: u64,
    /// Bytes asked for (1 KiB multiple, at most 1 MiB).
    pub limit: u32,
    /// Whether the part needs `precise` (a limit that does not divide 1 MiB, or an offset
    /// that is not 4 KiB aligned).
    pub precise: bool,
    /// Bytes of the answer before the range starts.
    pub skip: u32,
    /// Bytes of the answer that belong to the range.
    pub take: u32,
}

impl PartSpec {
    /// The length a correct answer has in a file of `size` bytes (short at the end).
    pub fn answer_len(&self, size: u64) -> u64 {
        size.saturating_sub(self.offset).min(u64::from(self.limit))
    }
}

/// The parts covering bytes `start..=end` of a file of `size` bytes, in order. Empty when
/// the file is empty or `start` is past its end; `end` is clamped to the last byte.
pub fn plan(size: u64, start: u64, end: u64) -> Vec<PartSpec> {
    if size == 0 || start >= size || end < start {
        return Vec::new();
    }
    let stop = end.min(size - 1) + 1; // exclusive
    let mut parts = Vec::with_capacity(((stop - 1) / BLOCK - start / BLOCK + 1) as usize);
    let mut block = start / BLOCK;
    while block * BLOCK < stop {
        let block_start = block * BLOCK;
        let block_end = (block_start + BLOCK).min(size);
        let lo = start.max(block_start);
        let hi = stop.min(block_end);
        let part = if lo == block_start && hi == block_end {
            PartSpec {
                offset: block_start,
                limit: BLOCK as u32,
                precise: false,
                skip: 0,
                take: (hi - lo) as u32,
            }
        } else {
            let offset = lo / PRECISE_ALIGN * PRECISE_ALIGN;
            let limit = (hi - offset).div_ceil(PRECISE_ALIGN) * PRECISE_ALIGN;
            PartSpec {
                offset,
                limit: limit as u32,
                precise: true,
                skip: (lo - offset) as u32,
                take: (hi - lo) as u32,
            }
        };
        parts.push(part);
        block += 1;
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every part obeys the `upload.getFile` rules (those of `tgmux local-dc`'s checker).
    fn legal(p: &PartSpec) -> bool {
        let (o, l) = (p.offset, u64::from(p.limit));
        let aligned = if p.precise {
            o % 1024 == 0 && l % 1024 == 0 && l <= BLOCK
        } else {
            o % 4096 == 0 && l % 4096 == 0 && BLOCK % l == 0
        };
        aligned && l > 0 && o / BLOCK == (o + l - 1) / BLOCK
    }

    /// The bytes the parts deliver, as (file offset, len) runs.
    fn covered(parts: &[PartSpec]) -> Vec<(u64, u64)> {
        parts
            .iter()
            .map(|p| (p.offset + u64::from(p.skip), u64::from(p.take)))
            .collect()
    }

    #[test]
    fn whole_files() {
        assert!(plan(0, 0, 0).is_empty());
        let one = plan(1, 0, 0);
        assert_eq!(one.len(), 1);
        assert_eq!(
            (one[0].limit, one[0].precise, one[0].take),
            (1 << 20, false, 1)
        );
        assert_eq!(one[0].answer_len(1), 1);
        assert_eq!(plan(BLOCK, 0, BLOCK - 1).len(), 1);
        let p = plan(BLOCK + 1, 0, BLOCK);
        assert_eq!(p.len(), 2);
        assert_eq!(
            (p[1].offset, p[1].take, p[1].answer_len(BLOCK + 1)),
            (BLOCK, 1, 1)
        );
        let size = 3 * BLOCK + 17;
        let p = plan(size, 0, size - 1);
        assert_eq!(p.len(), 4);
        assert!(p.iter().all(|x| !x.precise && legal(x)));
        assert_eq!(p.iter().map(|x| u64::from(x.take)).sum::<u64>(), size);
    }

    #[test]
    fn ranges_take_only_covering_parts() {
        let size = 10 * BLOCK + 123;
        // Inside one block: one precise part from the 1 KiB boundary below.
        let p = plan(size, 3 * BLOCK + 5000, 3 * BLOCK + 5009);
        assert_eq!(p.len(), 1);
        assert!(p[0].precise && legal(&p[0]));
        assert_eq!(
            (p[0].offset, p[0].limit, p[0].skip, p[0].take),
            (3 * BLOCK + 4096, 1024, 904, 10)
        );
        // Across blocks: precise ends, full middles.
        let p = plan(size, BLOCK + 1, 4 * BLOCK + 2);
        assert_eq!(p.len(), 4);
        assert!(p[0].precise && !p[1].precise && !p[2].precise && p[3].precise);
        assert!(p.iter().all(legal));
        assert_eq!(
            covered(&p),
            vec![
                (BLOCK + 1, BLOCK - 1),
                (2 * BLOCK, BLOCK),
                (3 * BLOCK, BLOCK),
                (4 * BLOCK, 3)
            ]
        );
        // The tail: the last block is whole when the range reaches the end.
        let p = plan(size, 10 * BLOCK, u64::MAX);
        assert_eq!((p.len(), p[0].precise, p[0].take), (1, false, 123));
        // Past the end, or reversed: nothing.
        assert!(plan(size, size, size + 5).is_empty());
        assert!(plan(size, 5, 4).is_empty());
    }

    #[test]
    fn sixty_four_bit_offsets() {
        let size = 5 * (1u64 << 30) + 777;
        let start = (1u64 << 32) + 3 * BLOCK + 1500;
        let p = plan(size, start, start + 2 * BLOCK);
        assert!(p.iter().all(legal));
        assert_eq!(p[0].offset + u64::from(p[0].skip), start);
        assert_eq!(
            p.iter().map(|x| u64::from(x.take)).sum::<u64>(),
            2 * BLOCK + 1
        );
        let last = plan(size, 0, size - 1);
        assert_eq!(last.len() as u64, size / BLOCK + 1);
        assert_eq!(last.last().unwrap().answer_len(size), 777);
    }

    #[test]
    fn every_small_range_is_exact() {
        let size = 2 * BLOCK + 3000;
        for (s, e) in [
            (0, 0),
            (1023, 1024),
            (4095, 4097),
            (BLOCK - 1, BLOCK),
            (size - 1, size - 1),
            (7, size - 2),
        ] {
            let p = plan(size, s, e);
            assert!(p.iter().all(legal), "{s}..={e}");
            let runs = covered(&p);
            assert_eq!(runs[0].0, s);
            let mut at = s;
            for (o, l) in runs {
                assert_eq!(o, at);
                at += l;
            }
            assert_eq!(at, e + 1);
        }
    }
}
