//! `dac3` and `dec3`: AC-3 / E-AC-3 specific boxes, parsed from the first frame's bitstream
//! (ETSI TS 102 366 annex F).

use super::buf::{BitWriter, Bits, BoxBuf};

/// The fields of an AC-3 sync frame header that `dac3` needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Ac3Info {
    pub(crate) fscod: u32,
    pub(crate) bsid: u32,
    pub(crate) bsmod: u32,
    pub(crate) acmod: u32,
    pub(crate) lfeon: u32,
    pub(crate) bit_rate_code: u32,
}

/// Parse an AC-3 sync frame header.
pub(crate) fn parse_ac3(frame: &[u8]) -> Option<Ac3Info> {
    let mut r = Bits::new(frame);
    if r.read(16)? != 0x0b77 {
        return None;
    }
    r.skip(16)?; // crc1
    let fscod = r.read(2)?;
    let frmsizecod = r.read(6)?;
    let bsid = r.read(5)?;
    let bsmod = r.read(3)?;
    let acmod = r.read(3)?;
    if acmod & 1 != 0 && acmod != 1 {
        r.skip(2)?;
    }
    if acmod & 4 != 0 {
        r.skip(2)?;
    }
    if acmod == 2 {
        r.skip(2)?;
    }
    let lfeon = r.read(1)?;
    if fscod == 3 || bsid > 10 || frmsizecod > 37 {
        return None;
    }
    Some(Ac3Info {
        fscod,
        bsid,
        bsmod,
        acmod,
        lfeon,
        bit_rate_code: frmsizecod >> 1,
    })
}

/// Write `dac3` from the first AC-3 frame.
pub(crate) fn write_dac3(b: &mut BoxBuf, frame: &[u8]) -> Option<Ac3Info> {
    let info = parse_ac3(frame)?;
    let mut w = BitWriter::default();
    w.put(2, info.fscod);
    w.put(5, info.bsid);
    w.put(3, info.bsmod);
    w.put(3, info.acmod);
    w.put(1, info.lfeon);
    w.put(5, info.bit_rate_code);
    w.put(5, 0);
    let open = b.begin(b"dac3");
    b.put(&w.finish());
    b.end(open);
    Some(info)
}

/// The fields of an E-AC-3 independent substream header that `dec3` needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Eac3Info {
    pub(crate) fscod: u32,
    pub(crate) bsid: u32,
    pub(crate) acmod: u32,
    pub(crate) lfeon: u32,
    /// Sample rate in Hz.
    pub(crate) sample_rate: u32,
    /// Kilobits per second of this frame.
    pub(crate) data_rate: u32,
}

/// Parse an E-AC-3 sync frame header (first independent substream).
pub(crate) fn parse_eac3(frame: &[u8]) -> Option<Eac3Info> {
    let mut r = Bits::new(frame);
    if r.read(16)? != 0x0b77 {
        return None;
    }
    let _strmtyp = r.read(2)?;
    let _substreamid = r.read(3)?;
    let frmsiz = r.read(11)?;
    let fscod = r.read(2)?;
    let (sample_rate, blocks) = if fscod == 3 {
        let fscod2 = r.read(2)?;
        (*[24000u32, 22050, 16000].get(fscod2 as usize)?, 6)
    } else {
        let numblkscod = r.read(2)?;
        (
            [48000u32, 44100, 32000][fscod as usize],
            [1u32, 2, 3, 6][numblkscod as usize],
        )
    };
    let acmod = r.read(3)?;
    let lfeon = r.read(1)?;
    let bsid = r.read(5)?;
    if !(11..=16).contains(&bsid) {
        return None;
    }
    let bytes = 2 * (frmsiz + 1);
    let data_rate =
        (u64::from(bytes) * 8 * u64::from(sample_rate) / (u64::from(blocks) * 256) / 1000) as u32;
    Some(Eac3Info {
        fscod,
        bsid,
        acmod,
        lfeon,
        sample_rate,
        data_rate,
    })
}

/// Write `dec3` (one independent substream, no dependent substreams) from the first frame.
pub(crate) fn write_dec3(b: &mut BoxBuf, frame: &[u8]) -> Option<Eac3Info> {
    let info = parse_eac3(frame)?;
    let mut w = BitWriter::default();
    w.put(13, info.data_rate.min(0x1fff));
    w.put(3, 0); // num_ind_sub - 1
    w.put(2, info.fscod);
    w.put(5, info.bsid);
    w.put(1, 0);
    w.put(1, 0); // asvc
    w.put(3, 0); // bsmod
    w.put(3, info.acmod);
    w.put(1, info.lfeon);
    w.put(3, 0);
    w.put(4, 0); // num_dep_sub
    w.put(1, 0);
    let open = b.begin(b"dec3");
    b.put(&w.finish());
    b.end(open);
    Some(info)
}

/// Channel count of an AC-3 acmod plus LFE.
pub(crate) fn channels(acmod: u32, lfeon: u32) -> u16 {
    [2u16, 1, 2, 3, 3, 4, 4, 5][acmod as usize & 7] + lfeon as u16
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ac3_header_fields() {
        // 0B77, crc, fscod=0 frmsizecod=0x1c (384 kbps -> code 14), bsid=8 bsmod=0, acmod=2
        // (dsurmod follows), lfeon=0.
        let frame = [0x0b, 0x77, 0, 0, 0x1c, 0x40, 0x40, 0x00];
        let info = parse_ac3(&frame).unwrap();
        assert_eq!(
            info,
            Ac3Info {
                fscod: 0,
                bsid: 8,
                bsmod: 0,
                acmod: 2,
                lfeon: 0,
                bit_rate_code: 14
            }
        );
        assert_eq!(channels(2, 0), 2);
    }
}
