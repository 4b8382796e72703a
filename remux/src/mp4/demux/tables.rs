//! The sample tables of one track (stts, ctts, stss, stsc, stsz/stz2, stco/co64) expanded into
//! one record per sample. Counts are checked against the bytes that carry them, so a lying
//! count cannot make us allocate more than the input holds.

use super::header::{children, Fields};
use crate::RemuxError;

/// One sample of an MP4 track.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SampleRec {
    pub(crate) offset: u64,
    pub(crate) size: u32,
    pub(crate) dts: i64,
    pub(crate) cts: i32,
    pub(crate) key: bool,
}

fn malformed(at: u64, what: &str) -> RemuxError {
    RemuxError::Malformed {
        at,
        what: what.into(),
    }
}

/// Read a full box's entry count and check `count * entry_size` bytes follow.
fn entries<'a>(
    body: &'a [u8],
    at: u64,
    entry_size: usize,
) -> Result<(Fields<'a>, u32), RemuxError> {
    let mut f = Fields::new(body, at);
    f.u32()?;
    let n = f.u32()?;
    if (n as usize)
        .checked_mul(entry_size)
        .is_none_or(|need| need > f.remaining())
    {
        return Err(malformed(at, "table entry count beyond its box"));
    }
    Ok((f, n))
}

/// Expand `stbl` into samples; `file_len` bounds offsets and constant sample sizes.
pub(crate) fn read(stbl: &[u8], at: u64, file_len: u64) -> Result<Vec<SampleRec>, RemuxError> {
    let mut stts = None;
    let mut ctts = None;
    let mut stss = None;
    let mut stsc = None;
    let mut stsz = None;
    let mut stco = None;
    for child in children(stbl, at) {
        let c = child?;
        match &c.fourcc {
            b"stts" => stts = Some(c),
            b"ctts" => ctts = Some(c),
            b"stss" => stss = Some(c),
            b"stsc" => stsc = Some(c),
            b"stsz" | b"stz2" => stsz = Some(c),
            b"stco" | b"co64" => stco = Some(c),
            _ => {}
        }
    }
    let (Some(stts), Some(stsc), Some(stsz), Some(stco)) = (stts, stsc, stsz, stco) else {
        return Err(malformed(at, "sample table lacks stts, stsc, stsz or stco"));
    };

    // Sizes.
    let mut sizes: Vec<u32> = Vec::new();
    if &stsz.fourcc == b"stsz" {
        let mut f = Fields::new(stsz.body, stsz.at);
        f.u32()?;
        let constant = f.u32()?;
        let n = f.u32()?;
        if constant == 0 {
            if (n as usize).saturating_mul(4) > f.remaining() {
                return Err(malformed(stsz.at, "stsz count beyond its box"));
            }
            sizes.reserve_exact(n as usize);
            for _ in 0..n {
                sizes.push(f.u32()?);
            }
        } else {
            if u64::from(n).saturating_mul(u64::from(constant)) > file_len {
                return Err(malformed(
                    stsz.at,
                    "stsz describes more bytes than the file holds",
                ));
            }
            sizes = vec![constant; n as usize];
        }
    } else {
        let mut f = Fields::new(stsz.body, stsz.at);
        f.u32()?;
        f.bytes(3)?;
        let field = f.u8()?;
        let n = f.u32()?;
        let bits = match field {
            4 | 8 | 16 => u64::from(field),
            _ => return Err(malformed(stsz.at, "stz2 field size not 4, 8 or 16")),
        };
        if u64::from(n) * bits / 8 > f.remaining() as u64 {
            return Err(malformed(stsz.at, "stz2 count beyond its box"));
        }
        let mut i = 0;
        while i < n {
            match field {
                4 => {
                    let b = f.u8()?;
                    sizes.push(u32::from(b >> 4));
                    if i + 1 < n {
                        sizes.push(u32::from(b & 15));
                    }
                    i += 2;
                }
                8 => {
                    sizes.push(u32::from(f.u8()?));
                    i += 1;
                }
                _ => {
                    sizes.push(u32::from(f.u16()?));
                    i += 1;
                }
            }
        }
    }
    let n = sizes.len();

    // Decode times.
    let mut samples: Vec<SampleRec> = Vec::with_capacity(n);
    let (mut f, count) = entries(stts.body, stts.at, 8)?;
    let mut dts: i64 = 0;
    'stts: for _ in 0..count {
        let run = f.u32()?;
        let delta = f.u32()?;
        for _ in 0..run {
            if samples.len() == n {
                break 'stts;
            }
            let i = samples.len();
            samples.push(SampleRec {
                offset: 0,
                size: sizes[i],
                dts,
                cts: 0,
                key: stss.is_none(),
            });
            dts = dts
                .checked_add(i64::from(delta))
                .ok_or_else(|| malformed(stts.at, "time overflow"))?;
        }
    }
    if samples.len() < n {
        return Err(malformed(stts.at, "stts covers fewer samples than stsz"));
    }

    if let Some(ctts) = ctts {
        let (mut f, count) = entries(ctts.body, ctts.at, 8)?;
        let mut i = 0usize;
        for _ in 0..count {
            let run = f.u32()?;
            // Version 0 offsets are unsigned in the spec, but writers put negative values
            // there; read both versions as signed, like every player does.
            let off = f.u32()? as i32;
            for _ in 0..run {
                if i >= n {
                    break;
                }
                samples[i].cts = off;
                i += 1;
            }
        }
    }

    if let Some(stss) = stss {
        let (mut f, count) = entries(stss.body, stss.at, 4)?;
        for _ in 0..count {
            let k = f.u32()? as usize;
            if k >= 1 && k <= n {
                samples[k - 1].key = true;
            }
        }
    }

    // Chunk offsets.
    let co64 = &stco.fourcc == b"co64";
    let (mut f, chunk_count) = entries(stco.body, stco.at, if co64 { 8 } else { 4 })?;
    let mut offsets = Vec::with_capacity(chunk_count as usize);
    for _ in 0..chunk_count {
        offsets.push(if co64 { f.u64()? } else { u64::from(f.u32()?) });
    }
    let (mut f, stsc_count) = entries(stsc.body, stsc.at, 12)?;
    let mut runs = Vec::with_capacity(stsc_count as usize);
    for _ in 0..stsc_count {
        let first = f.u32()?;
        let per = f.u32()?;
        f.u32()?;
        runs.push((first, per));
    }
    let mut i = 0usize;
    for (r, &(first, per)) in runs.iter().enumerate() {
        let last = runs
            .get(r + 1)
            .map_or(chunk_count, |next| next.0.saturating_sub(1));
        if first == 0 || first > last.saturating_add(1) {
            return Err(malformed(stsc.at, "stsc chunk numbers out of order"));
        }
        for chunk in first..=last {
            let Some(&base) = offsets.get(chunk as usize - 1) else {
                break;
            };
            let mut off = base;
            for _ in 0..per {
                if i >= n {
                    break;
                }
                samples[i].offset = off;
                off = off.saturating_add(u64::from(samples[i].size));
                i += 1;
            }
            if i >= n {
                break;
            }
        }
    }
    if i < n {
        return Err(malformed(stsc.at, "chunks hold fewer samples than stsz"));
    }
    for s in &samples {
        if s.offset.saturating_add(u64::from(s.size)) > file_len {
            return Err(RemuxError::Truncated { at: s.offset });
        }
    }
    Ok(samples)
}
