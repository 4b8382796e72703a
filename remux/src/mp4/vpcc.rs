//! `vpcC`: VP codec configuration, copied from codec private data or built from the first VP9
//! key frame's uncompressed header (profile, bit depth, chroma subsampling, colour space).

use super::buf::Bits;

/// A VPCodecConfigurationRecord body (after the FullBox header, version 1).
pub(crate) fn from_bitstream(frame: &[u8], width: u32, height: u32) -> Option<Vec<u8>> {
    let mut r = Bits::new(frame);
    if r.read(2)? != 2 {
        return None;
    }
    let low = r.read(1)?;
    let high = r.read(1)?;
    let profile = (high << 1) | low;
    if profile == 3 {
        r.skip(1)?;
    }
    if r.read(1)? == 1 {
        return None; // show_existing_frame
    }
    if r.read(1)? != 0 {
        return None; // not a key frame
    }
    r.skip(2)?; // show_frame, error_resilient_mode
    if r.read(24)? != 0x49_8342 {
        return None;
    }
    let bit_depth = if profile >= 2 {
        if r.read(1)? == 1 {
            12
        } else {
            10
        }
    } else {
        8
    };
    let color_space = r.read(3)?;
    let (full_range, subsampling) = if color_space != 7 {
        let range = r.read(1)?;
        let (sx, sy) = if profile == 1 || profile == 3 {
            (r.read(1)?, r.read(1)?)
        } else {
            (1, 1)
        };
        (
            range,
            match (sx, sy) {
                (1, 1) => 0,
                (1, 0) => 2,
                _ => 3,
            },
        )
    } else {
        (1, 3)
    };
    // VP9 color_space -> ISO/IEC 23091-2 matrix coefficients.
    let matrix = [2u8, 6, 1, 6, 7, 9, 2, 0][color_space as usize];
    let pixels = u64::from(width) * u64::from(height);
    let level = [
        (36_864u64, 10u8),
        (73_728, 11),
        (122_880, 20),
        (245_760, 21),
        (552_960, 30),
        (983_040, 31),
        (2_228_224, 40),
        (8_912_896, 50),
        (35_651_584, 60),
    ]
    .iter()
    .find(|(max, _)| pixels <= *max)
    .map_or(62, |(_, l)| *l);
    Some(vec![
        profile as u8,
        level,
        ((bit_depth as u8) << 4) | ((subsampling as u8) << 1) | full_range as u8,
        2,
        2,
        matrix,
        0,
        0,
    ])
}

#[cfg(test)]
mod tests {
    #[test]
    fn profile0_keyframe() {
        // frame_marker=2, profile 0, show_existing=0, key=0, show=1, err=0, sync code,
        // color_space=2 (BT.709), range=0.
        let frame = [0b1000_0010, 0x49, 0x83, 0x42, 0b0100_0000];
        let rec = super::from_bitstream(&frame, 320, 240).unwrap();
        assert_eq!(rec, vec![0, 20, 0x80, 2, 2, 1, 0, 0]);
    }
}
