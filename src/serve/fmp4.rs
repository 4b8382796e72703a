//! Reading a fragmented MP4 (the remuxer's `--fragmented` output) back: where the init
//! segment ends, each track's timescale, kind, language and RFC 6381 codec string, and per
//! fragment (moof + mdat) each track's decode time, duration and first-sample sync flag;
//! text samples also with their bytes' place. Enough to cut HLS segments at key frames and
//! to turn tx3g text into WebVTT. Bounds-checked throughout (it is fuzzed); any oddity is an
//! [`Fmp4Error`], never a panic.

use std::ops::Range;

/// A malformed or unexpected fragmented MP4.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fmp4Error(pub String);

impl std::fmt::Display for Fmp4Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "fragmented MP4: {}", self.0)
    }
}

impl std::error::Error for Fmp4Error {}

type Result<T> = std::result::Result<T, Fmp4Error>;

fn err<T>(what: impl Into<String>) -> Result<T> {
    Err(Fmp4Error(what.into()))
}

/// What a track carries (from its `hdlr`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Video,
    Audio,
    /// `text`/`sbtl`/`subt` tracks (tx3g from the remuxer).
    Text,
    Other,
}

/// One track of the init segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Track {
    /// `track_ID`.
    pub id: u32,
    pub kind: Kind,
    /// Ticks per second (`mdhd`).
    pub timescale: u32,
    /// ISO 639-2/T code from `mdhd` (`und` when unset).
    pub language: String,
    /// RFC 6381 codec string (`avc1.64001f`, `mp4a.40.2`, ...), or the sample entry's type.
    pub codec: String,
    defaults: Defaults,
}

/// `trex` / `tfhd` sample defaults.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Defaults {
    duration: u32,
    size: u32,
    flags: u32,
}

/// One text sample of a fragment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextSample {
    /// Decode (= presentation) time, in the track's ticks.
    pub time: u64,
    pub duration: u32,
    /// Where its bytes are in the file.
    pub bytes: Range<usize>,
}

/// One track's samples in one fragment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    pub track: u32,
    /// Decode time of the first sample, in the track's ticks (`tfdt`).
    pub start: u64,
    /// Sum of the sample durations, ticks.
    pub duration: u64,
    /// Whether the first sample is a sync sample.
    pub first_sync: bool,
    /// The first sample's composition offset (its presentation time minus `start`).
    pub first_cto: i64,
    /// The samples, for text tracks only.
    pub text: Vec<TextSample>,
}

/// One moof + mdat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fragment {
    /// moof start .. mdat end.
    pub bytes: Range<usize>,
    pub runs: Vec<Run>,
}

/// The whole file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// Bytes `0..init_end` are the init segment (everything before the first moof).
    pub init_end: usize,
    pub tracks: Vec<Track>,
    pub fragments: Vec<Fragment>,
}

impl Layout {
    /// The track with `track_ID` `id`.
    pub fn track(&self, id: u32) -> Option<&Track> {
        self.tracks.iter().find(|t| t.id == id)
    }
}

/// One box: its type, where it starts and ends, and its payload.
#[derive(Debug, Clone, Copy)]
struct Bx<'a> {
    kind: [u8; 4],
    start: usize,
    end: usize,
    /// Payload (after the header), and where it starts in the file.
    body: &'a [u8],
    body_at: usize,
}

/// The boxes directly inside `data`, which starts at file offset `at`.
fn children(data: &[u8], at: usize) -> Result<Vec<Bx<'_>>> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < data.len() {
        let rest = &data[pos..];
        if rest.len() < 8 {
            return err(format!("box header cut at {}", at + pos));
        }
        let small = u64::from(be32(rest, 0)?);
        let kind: [u8; 4] = rest[4..8].try_into().expect("4 bytes");
        let (size, head) = match small {
            1 => (be64(rest, 8)?, 16),
            0 => (rest.len() as u64, 8),
            n => (n, 8),
        };
        if size < head as u64 || size > rest.len() as u64 {
            return err(format!(
                "box {} at {} has size {size}",
                fourcc(&kind),
                at + pos
            ));
        }
        let size = size as usize;
        out.push(Bx {
            kind,
            start: at + pos,
            end: at + pos + size,
            body: &rest[head..size],
            body_at: at + pos + head,
        });
        pos += size;
    }
    Ok(out)
}

fn child<'a>(boxes: &[Bx<'a>], kind: &[u8; 4]) -> Option<Bx<'a>> {
    boxes.iter().find(|b| &b.kind == kind).copied()
}

fn need<'a>(boxes: &[Bx<'a>], kind: &[u8; 4]) -> Result<Bx<'a>> {
    child(boxes, kind).map_or_else(|| err(format!("no {}", fourcc(kind))), Ok)
}

fn fourcc(k: &[u8; 4]) -> String {
    k.iter()
        .map(|&b| if b.is_ascii_graphic() { b as char } else { '?' })
        .collect()
}

fn be16(b: &[u8], at: usize) -> Result<u16> {
    b.get(at..at + 2)
        .map(|s| u16::from_be_bytes(s.try_into().expect("2")))
        .map_or_else(|| err("field past its box"), Ok)
}

fn be32(b: &[u8], at: usize) -> Result<u32> {
    b.get(at..at + 4)
        .map(|s| u32::from_be_bytes(s.try_into().expect("4")))
        .map_or_else(|| err("field past its box"), Ok)
}

fn be64(b: &[u8], at: usize) -> Result<u64> {
    b.get(at..at + 8)
        .map(|s| u64::from_be_bytes(s.try_into().expect("8")))
        .map_or_else(|| err("field past its box"), Ok)
}

fn byte(b: &[u8], at: usize) -> Result<u8> {
    b.get(at)
        .copied()
        .map_or_else(|| err("field past its box"), Ok)
}

/// Reads `data`, a whole fragmented MP4.
pub fn parse(data: &[u8]) -> Result<Layout> {
    let top = children(data, 0)?;
    let moov = need(&top, b"moov")?;
    let moov_boxes = children(moov.body, moov.body_at)?;
    let mut tracks = Vec::new();
    for trak in moov_boxes.iter().filter(|b| &b.kind == b"trak") {
        tracks.push(track(trak)?);
    }
    if let Some(mvex) = child(&moov_boxes, b"mvex") {
        for trex in children(mvex.body, mvex.body_at)?
            .iter()
            .filter(|b| &b.kind == b"trex")
        {
            let id = be32(trex.body, 4)?;
            if let Some(t) = tracks.iter_mut().find(|t| t.id == id) {
                t.defaults = Defaults {
                    duration: be32(trex.body, 12)?,
                    size: be32(trex.body, 16)?,
                    flags: be32(trex.body, 20)?,
                };
            }
        }
    }
    let mut fragments = Vec::new();
    let mut init_end = moov.end;
    for (i, b) in top.iter().enumerate() {
        if &b.kind != b"moof" {
            continue;
        }
        if fragments.is_empty() {
            init_end = b.start;
        }
        let end = match top.get(i + 1) {
            Some(m) if &m.kind == b"mdat" => m.end,
            _ => return err(format!("moof at {} without its mdat", b.start)),
        };
        fragments.push(fragment(b, end, &tracks)?);
    }
    if init_end < moov.end {
        return err("moof before moov");
    }
    Ok(Layout {
        init_end,
        tracks,
        fragments,
    })
}

fn track(trak: &Bx<'_>) -> Result<Track> {
    let boxes = children(trak.body, trak.body_at)?;
    let tkhd = need(&boxes, b"tkhd")?;
    let id = be32(tkhd.body, if byte(tkhd.body, 0)? == 1 { 20 } else { 12 })?;
    let mdia = need(&boxes, b"mdia")?;
    let mdia = children(mdia.body, mdia.body_at)?;
    let mdhd = need(&mdia, b"mdhd")?.body;
    let v1 = byte(mdhd, 0)? == 1;
    let timescale = be32(mdhd, if v1 { 20 } else { 12 })?;
    let lang = be16(mdhd, if v1 { 32 } else { 20 })?;
    let language = if lang == 0 || lang == 0x7fff {
        "und".to_string()
    } else {
        (0..3)
            .map(|i| (((lang >> (10 - 5 * i)) & 0x1f) as u8 + 0x60) as char)
            .collect()
    };
    let kind = match &need(&mdia, b"hdlr")?.body.get(8..12) {
        Some(b"vide") => Kind::Video,
        Some(b"soun") => Kind::Audio,
        Some(b"text" | b"sbtl" | b"subt") => Kind::Text,
        _ => Kind::Other,
    };
    let minf = need(&mdia, b"minf")?;
    let stbl = need(&children(minf.body, minf.body_at)?, b"stbl")?;
    let stsd = need(&children(stbl.body, stbl.body_at)?, b"stsd")?;
    let entries = children(stsd.body.get(8..).unwrap_or(&[]), stsd.body_at + 8)?;
    let codec = entries.first().map_or_else(String::new, codec_string);
    if timescale == 0 {
        return err(format!("track {id} has timescale 0"));
    }
    Ok(Track {
        id,
        kind,
        timescale,
        language,
        codec,
        defaults: Defaults::default(),
    })
}

/// The RFC 6381 `codecs` value of a sample entry (the bare type when its config is odd).
fn codec_string(entry: &Bx<'_>) -> String {
    let name = fourcc(&entry.kind);
    // Visual entries have 78 bytes before their child boxes, audio entries 28.
    let config = |skip: usize, kind: &[u8; 4]| -> Option<Vec<u8>> {
        let boxes = children(entry.body.get(skip..)?, entry.body_at + skip).ok()?;
        child(&boxes, kind).map(|b| b.body.to_vec())
    };
    let s = match &entry.kind {
        b"avc1" | b"avc3" => config(78, b"avcC")
            .filter(|c| c.len() >= 4)
            .map(|c| format!("{name}.{:02x}{:02x}{:02x}", c[1], c[2], c[3])),
        b"hvc1" | b"hev1" => config(78, b"hvcC").and_then(|c| hevc(&name, &c)),
        b"av01" => config(78, b"av1C").filter(|c| c.len() >= 3).map(|c| {
            let profile = c[1] >> 5;
            let level = c[1] & 0x1f;
            let tier = if c[2] & 0x80 != 0 { 'H' } else { 'M' };
            let depth = match (c[2] & 0x40 != 0, c[2] & 0x20 != 0) {
                (true, true) => 12,
                (true, false) => 10,
                _ => 8,
            };
            format!("av01.{profile}.{level:02}{tier}.{depth:02}")
        }),
        b"vp09" => config(78, b"vpcC")
            .filter(|c| c.len() >= 7)
            .map(|c| format!("vp09.{:02}.{:02}.{:02}", c[4], c[5], c[6] >> 4)),
        b"mp4a" => config(28, b"esds").and_then(|c| aac(&c)),
        b"Opus" => Some("opus".into()),
        b"fLaC" => Some("flac".into()),
        b"ac-3" | b"ec-3" => Some(name.clone()),
        _ => None,
    };
    s.unwrap_or(name)
}

/// `hvc1.<space><profile>.<compat>.<tier><level>[.<constraints>]` (ISO/IEC 14496-15 E.3).
fn hevc(name: &str, c: &[u8]) -> Option<String> {
    if c.len() < 13 {
        return None;
    }
    let space = ["", "A", "B", "C"][(c[1] >> 6) as usize];
    let tier = if c[1] & 0x20 != 0 { 'H' } else { 'L' };
    let profile = c[1] & 0x1f;
    let compat = u32::from_be_bytes([c[2], c[3], c[4], c[5]]).reverse_bits();
    let mut s = format!("{name}.{space}{profile}.{compat:x}.{tier}{}", c[12]);
    let constraints = &c[6..12];
    let used = constraints
        .iter()
        .rposition(|&b| b != 0)
        .map_or(0, |i| i + 1);
    for b in &constraints[..used] {
        s.push_str(&format!(".{b:x}"));
    }
    Some(s)
}

/// `mp4a.40.<audio object type>` for AAC, `mp4a.6b` for MP3, from an `esds` payload (read
/// by the remuxer's own `esds` parser).
fn aac(esds: &[u8]) -> Option<String> {
    let (oti, dsi) = crate::remux::mp4::esds::parse(esds.get(4..)?)?;
    if oti == 0x6b || oti == 0x69 {
        return Some("mp4a.6b".into());
    }
    let aot = *dsi.first()? >> 3;
    let aot = if aot == 31 {
        32 + (((dsi[0] & 7) << 3) | (dsi.get(1)? >> 5))
    } else {
        aot
    };
    Some(format!("mp4a.{oti:02x}.{aot}"))
}

fn fragment(moof: &Bx<'_>, end: usize, tracks: &[Track]) -> Result<Fragment> {
    let mut runs = Vec::new();
    for traf in children(moof.body, moof.body_at)?
        .iter()
        .filter(|b| &b.kind == b"traf")
    {
        let boxes = children(traf.body, traf.body_at)?;
        let tfhd = need(&boxes, b"tfhd")?.body;
        let flags = be32(tfhd, 0)? & 0xff_ffff;
        let id = be32(tfhd, 4)?;
        let Some(t) = tracks.iter().find(|t| t.id == id) else {
            return err(format!("traf of unknown track {id}"));
        };
        let mut at = 8;
        let mut base = moof.start;
        if flags & 0x01 != 0 {
            base = usize::try_from(be64(tfhd, at)?).map_or_else(|_| err("base offset"), Ok)?;
            at += 8;
        }
        if flags & 0x02 != 0 {
            at += 4;
        }
        let mut d = t.defaults;
        for (bit, field) in [
            (0x08, &mut d.duration),
            (0x10, &mut d.size),
            (0x20, &mut d.flags),
        ] {
            if flags & bit != 0 {
                *field = be32(tfhd, at)?;
                at += 4;
            }
        }
        let tfdt = need(&boxes, b"tfdt")?.body;
        let start = if byte(tfdt, 0)? == 1 {
            be64(tfdt, 4)?
        } else {
            u64::from(be32(tfdt, 4)?)
        };
        let mut run = Run {
            track: id,
            start,
            duration: 0,
            first_sync: true,
            first_cto: 0,
            text: Vec::new(),
        };
        let mut data_at = base;
        let mut first = true;
        for trun in boxes.iter().filter(|b| &b.kind == b"trun") {
            data_at = read_trun(trun.body, t, d, base, data_at, &mut run, &mut first, end)?;
        }
        runs.push(run);
    }
    Ok(Fragment {
        bytes: moof.start..end,
        runs,
    })
}

/// Adds one `trun`'s samples to `run`; returns where the next run's data starts.
#[allow(clippy::too_many_arguments)]
fn read_trun(
    trun: &[u8],
    t: &Track,
    d: Defaults,
    base: usize,
    mut data_at: usize,
    run: &mut Run,
    first: &mut bool,
    file_end: usize,
) -> Result<usize> {
    let signed_cto = byte(trun, 0)? == 1;
    let flags = be32(trun, 0)? & 0xff_ffff;
    let count = be32(trun, 4)? as usize;
    let mut at = 8;
    if flags & 0x01 != 0 {
        let off = be32(trun, at)? as i32;
        data_at = base
            .checked_add_signed(off as isize)
            .map_or_else(|| err("data offset"), Ok)?;
        at += 4;
    }
    let mut first_flags = None;
    if flags & 0x04 != 0 {
        first_flags = Some(be32(trun, at)?);
        at += 4;
    }
    let per = [0x100, 0x200, 0x400, 0x800]
        .iter()
        .filter(|&&b| flags & b != 0)
        .count()
        * 4;
    if count.checked_mul(per).is_none_or(|n| at + n > trun.len()) {
        return err("trun sample count past its box");
    }
    if per == 0 && flags & 0x200 == 0 && d.size == 0 && count > 0 {
        // Nothing in the file bounds such a count; our muxer never writes one.
        return err("trun samples with no size");
    }
    let overflow = || Fmp4Error("sample times overflow".into());
    let mut time = run.start.checked_add(run.duration).ok_or_else(overflow)?;
    for i in 0..count {
        let mut field = |bit: u32, default: u32| -> Result<u32> {
            if flags & bit != 0 {
                let v = be32(trun, at)?;
                at += 4;
                Ok(v)
            } else {
                Ok(default)
            }
        };
        let duration = field(0x100, d.duration)?;
        let size = field(0x200, d.size)?;
        let sample_flags = field(0x400, d.flags)?;
        let cto = field(0x800, 0)?;
        if *first {
            let f = if i == 0 {
                first_flags.unwrap_or(sample_flags)
            } else {
                sample_flags
            };
            run.first_sync = f & 0x0001_0000 == 0;
            run.first_cto = if signed_cto {
                i64::from(cto as i32)
            } else {
                i64::from(cto)
            };
            *first = false;
        }
        let next = data_at
            .checked_add(size as usize)
            .filter(|&n| n <= file_end)
            .map_or_else(|| err("sample past the fragment"), Ok)?;
        if t.kind == Kind::Text {
            run.text.push(TextSample {
                time,
                duration,
                bytes: data_at..next,
            });
        }
        data_at = next;
        time = time.checked_add(u64::from(duration)).ok_or_else(overflow)?;
        run.duration += u64::from(duration);
    }
    Ok(data_at)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bx(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut v = ((body.len() + 8) as u32).to_be_bytes().to_vec();
        v.extend_from_slice(kind);
        v.extend_from_slice(body);
        v
    }

    #[test]
    fn codec_strings() {
        // avcC: version 1, profile 0x64, compat 0, level 0x1f.
        let avcc = bx(b"avcC", &[1, 0x64, 0x00, 0x1f, 0xff]);
        let mut avc1 = vec![0u8; 78];
        avc1.extend_from_slice(&avcc);
        let entry = bx(b"avc1", &avc1);
        let b = children(&entry, 0).unwrap();
        assert_eq!(codec_string(&b[0]), "avc1.64001f");
        // esds for AAC-LC: ES_Descriptor(3) { id, flags 0, DecoderConfig(4) { oti 0x40, ...,
        // DecoderSpecificInfo(5) { 0x12 0x10 } } }.
        let esds = [
            0, 0, 0, 0, 3, 25, 0, 1, 0, 4, 17, 0x40, 0x15, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5, 2,
            0x12, 0x10, 6, 1, 2,
        ];
        let mut mp4a = vec![0u8; 28];
        mp4a.extend_from_slice(&bx(b"esds", &esds));
        let entry = bx(b"mp4a", &mp4a);
        let b = children(&entry, 0).unwrap();
        assert_eq!(codec_string(&b[0]), "mp4a.40.2");
        // HEVC Main, level 3.1 (93): hvc1.1.6.L93.B0.
        let mut hvcc = vec![1, 0x01, 0x60, 0, 0, 0, 0xb0, 0, 0, 0, 0, 0, 93];
        hvcc.resize(23, 0);
        assert_eq!(hevc("hvc1", &hvcc).unwrap(), "hvc1.1.6.L93.b0");
        let entry = bx(b"Opus", &[0; 40]);
        assert_eq!(codec_string(&children(&entry, 0).unwrap()[0]), "opus");
        let entry = bx(b"zzzz", &[]);
        assert_eq!(codec_string(&children(&entry, 0).unwrap()[0]), "zzzz");
    }

    #[test]
    fn bad_boxes_are_errors() {
        assert!(parse(&[]).is_err());
        assert!(parse(&[0, 0, 0, 4, b'm', b'o', b'o', b'v']).is_err());
        assert!(parse(&bx(b"moov", &bx(b"trak", &[]))).is_err());
        let mut big = bx(b"free", &[]);
        big[3] = 200;
        assert!(parse(&big).is_err());
        // A 64-bit size smaller than its header.
        let mut v = vec![0, 0, 0, 1];
        v.extend_from_slice(b"moov");
        v.extend_from_slice(&8u64.to_be_bytes());
        assert!(parse(&v).is_err());
    }
}
