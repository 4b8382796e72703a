//! `mdhd`: media header (the track's own timescale and its language).

use super::buf::BoxBuf;

/// Pack an ISO 639-2/T code into mdhd's 15 bits; anything else becomes "und".
pub(crate) fn pack_language(lang: Option<&str>) -> u16 {
    let code = match lang {
        Some(l) if l.len() == 3 && l.bytes().all(|c| c.is_ascii_lowercase()) => l.as_bytes(),
        _ => b"und",
    };
    code.iter()
        .fold(0u16, |acc, c| (acc << 5) | u16::from(c - 0x60))
}

/// Write `mdhd`.
pub(crate) fn write(b: &mut BoxBuf, timescale: u32, duration: u64, language: Option<&str>) {
    let v1 = duration > u64::from(u32::MAX);
    let open = b.begin_full(b"mdhd", u8::from(v1), 0);
    if v1 {
        b.u64(0);
        b.u64(0);
        b.u32(timescale);
        b.u64(duration);
    } else {
        b.u32(0);
        b.u32(0);
        b.u32(timescale);
        b.u32(duration as u32);
    }
    b.u16(pack_language(language));
    b.u16(0);
    b.end(open);
}

#[cfg(test)]
mod tests {
    #[test]
    fn und_is_55c4() {
        // 0x55c4 is what every muxer writes for "und".
        assert_eq!(super::pack_language(None), 0x55c4);
        assert_eq!(super::pack_language(Some("eng")), 0x15c7);
    }
}
