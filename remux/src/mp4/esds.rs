//! `esds`: MPEG-4 elementary stream descriptor for mp4a (AAC: OTI 0x40 with the original
//! AudioSpecificConfig; MP3: OTI 0x6B).

use super::buf::BoxBuf;

fn descriptor(out: &mut Vec<u8>, tag: u8, body: &[u8]) {
    out.push(tag);
    // Expandable size: 7 bits per byte, high bit = more follows.
    let len = body.len();
    let mut groups = Vec::new();
    let mut n = len;
    loop {
        groups.push((n & 0x7f) as u8);
        n >>= 7;
        if n == 0 {
            break;
        }
    }
    for (i, g) in groups.iter().enumerate().rev() {
        out.push(if i > 0 { g | 0x80 } else { *g });
    }
    out.extend_from_slice(body);
}

/// Write `esds` for object type `oti`, with `asc` as DecoderSpecificInfo when non-empty.
pub(crate) fn write(
    b: &mut BoxBuf,
    track_id: u32,
    oti: u8,
    asc: &[u8],
    avg_bitrate: u32,
    max_bitrate: u32,
) {
    let mut dec_config = vec![oti, 0x15, 0, 0, 0];
    dec_config.extend_from_slice(&max_bitrate.to_be_bytes());
    dec_config.extend_from_slice(&avg_bitrate.to_be_bytes());
    if !asc.is_empty() {
        descriptor(&mut dec_config, 0x05, asc);
    }
    let mut es = Vec::new();
    es.extend_from_slice(&(track_id.min(0xffff) as u16).to_be_bytes());
    es.push(0);
    descriptor(&mut es, 0x04, &dec_config);
    descriptor(&mut es, 0x06, &[0x02]);
    let mut body = Vec::new();
    descriptor(&mut body, 0x03, &es);
    let open = b.begin_full(b"esds", 0, 0);
    b.put(&body);
    b.end(open);
}

/// What an `esds` body (after the FullBox header) carries: (object type, DecoderSpecificInfo).
pub fn parse(body: &[u8]) -> Option<(u8, Vec<u8>)> {
    let mut oti = None;
    let mut dsi = Vec::new();
    let mut stack = vec![body];
    while let Some(mut data) = stack.pop() {
        while data.len() >= 2 {
            let tag = data[0];
            let mut i = 1;
            let mut len = 0usize;
            loop {
                let byte = *data.get(i)?;
                i += 1;
                len = (len << 7) | usize::from(byte & 0x7f);
                if byte & 0x80 == 0 || i > 4 {
                    break;
                }
            }
            let content = data.get(i..i.checked_add(len)?)?;
            data = &data[i + len..];
            match tag {
                0x03 => {
                    let flags = *content.get(2)?;
                    let mut skip = 3;
                    if flags & 0x80 != 0 {
                        skip += 2;
                    }
                    if flags & 0x40 != 0 {
                        skip += 1 + usize::from(*content.get(skip)?);
                    }
                    if flags & 0x20 != 0 {
                        skip += 2;
                    }
                    stack.push(content.get(skip..)?);
                }
                0x04 => {
                    oti = Some(*content.first()?);
                    stack.push(content.get(13..)?);
                }
                0x05 => dsi = content.to_vec(),
                _ => {}
            }
        }
    }
    Some((oti?, dsi))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip_aac() {
        let mut b = BoxBuf::new();
        write(&mut b, 2, 0x40, &[0x11, 0x90], 0, 0);
        let (oti, dsi) = parse(&b.bytes[12..]).unwrap();
        assert_eq!(oti, 0x40);
        assert_eq!(dsi, vec![0x11, 0x90]);
    }
}
