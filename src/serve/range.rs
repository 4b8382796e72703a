//! RFC 9110 range and conditional requests as pure functions: header bytes and a
//! representation's validators in, one [`Outcome`] out. No I/O, no clock; fuzzed
//! (`fuzz/fuzz_targets/http_range.rs`).
//!
//! Evaluation order is RFC 9110 §13.2.2: If-Match, If-Unmodified-Since, If-None-Match,
//! If-Modified-Since, then If-Range and Range. Policy choices (see docs/serve.md):
//! - Several ranges are answered with `multipart/byteranges`; ranges that overlap or lie
//!   within [`COALESCE_GAP`] bytes of each other are merged first (then sorted), and a request
//!   that still needs more than [`MAX_PARTS`] parts is answered in full (200), which RFC 9110
//!   §14.2 allows. A set that merges down to one range gets a plain single-part 206.
//! - A zero-length representation ignores Range (200 with an empty body): no 206 can
//!   describe an empty range.
//! - Last-Modified is treated as a strong validator (Telegram documents never change), so an
//!   If-Range date that equals it exactly counts.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// At most this many parts in one multipart response; more is answered with the whole body.
pub const MAX_PARTS: usize = 32;
/// Ranges closer than this many bytes are merged: about what the part headers between them
/// would cost.
pub const COALESCE_GAP: u64 = 80;
/// A Range header with more list elements than this (empty ones included) is ignored.
const MAX_ELEMENTS: usize = 256;

/// An inclusive byte range `start..=end` inside a representation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteRange {
    /// First byte offset.
    pub start: u64,
    /// Last byte offset (inclusive), `>= start`.
    pub end: u64,
}

impl ByteRange {
    /// Number of bytes in the range (never 0).
    pub fn count(&self) -> u64 {
        self.end - self.start + 1
    }

    /// The `Content-Range` value for this range of a `size`-byte representation.
    pub fn content_range(&self, size: u64) -> String {
        format!("bytes {}-{}/{}", self.start, self.end, size)
    }
}

/// What a Range header asks of a representation of known size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RangeSet {
    /// Not a valid `bytes` ranges-specifier (or another unit, or too many parts): serve it all.
    Ignore,
    /// Valid, but no range overlaps the representation: 416.
    Unsatisfiable,
    /// One or more ranges, clamped to the representation, non-overlapping after merging.
    Ranges(Vec<ByteRange>),
}

/// The validators of one representation.
#[derive(Debug, Clone, Copy)]
pub struct Validators<'a> {
    /// The strong entity tag, quotes included: `"abc"`.
    pub etag: &'a str,
    /// Last modification time, whole seconds (see [`http_seconds`]).
    pub last_modified: Option<SystemTime>,
}

/// The request header fields that decide the outcome (raw values; `None` when absent).
///
/// List fields (If-Match, If-None-Match) sent in several lines are joined with `,` by the
/// caller; a singleton field (Range, If-Range and the dates) sent twice is passed as
/// `Some(b"")`, which none of them accepts.
#[derive(Debug, Clone, Copy, Default)]
pub struct Conditions<'a> {
    pub if_match: Option<&'a [u8]>,
    pub if_none_match: Option<&'a [u8]>,
    pub if_modified_since: Option<&'a [u8]>,
    pub if_unmodified_since: Option<&'a [u8]>,
    pub if_range: Option<&'a [u8]>,
    pub range: Option<&'a [u8]>,
}

/// How to answer a GET or HEAD of a representation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// 200 with the whole representation.
    Full,
    /// 206: one range (plain) or several (multipart/byteranges), in the order to send them.
    Partial(Vec<ByteRange>),
    /// 416 with `Content-Range: bytes */size`.
    NotSatisfiable,
    /// 304.
    NotModified,
    /// 412.
    PreconditionFailed,
}

/// Decides a GET or HEAD of a `size`-byte representation with validators `v`.
pub fn evaluate(c: &Conditions<'_>, v: &Validators<'_>, size: u64) -> Outcome {
    let last_modified = v.last_modified.map(http_seconds);
    // 1. If-Match (strong comparison), else 2. If-Unmodified-Since.
    if let Some(im) = c.if_match {
        if !etag_list_matches(im, v.etag, true) {
            return Outcome::PreconditionFailed;
        }
    } else if let (Some(ius), Some(lm)) =
        (c.if_unmodified_since.and_then(parse_date), last_modified)
    {
        if lm > ius {
            return Outcome::PreconditionFailed;
        }
    }
    // 3. If-None-Match (weak comparison), else 4. If-Modified-Since.
    if let Some(inm) = c.if_none_match {
        if etag_list_matches(inm, v.etag, false) {
            return Outcome::NotModified;
        }
    } else if let (Some(ims), Some(lm)) = (c.if_modified_since.and_then(parse_date), last_modified)
    {
        if lm <= ims {
            return Outcome::NotModified;
        }
    }
    // 5. Range, unless If-Range says the client's copy is stale.
    let Some(range) = c.range else {
        return Outcome::Full;
    };
    if size == 0 {
        return Outcome::Full;
    }
    if let Some(ir) = c.if_range {
        if !if_range_holds(ir, v.etag, last_modified) {
            return Outcome::Full;
        }
    }
    match parse_range(range, size) {
        RangeSet::Ignore => Outcome::Full,
        RangeSet::Unsatisfiable => Outcome::NotSatisfiable,
        RangeSet::Ranges(r) => Outcome::Partial(r),
    }
}

/// Parses a Range field value against a `size`-byte representation (`size > 0`).
pub fn parse_range(value: &[u8], size: u64) -> RangeSet {
    let value = trim_ows(value);
    let Some(eq) = value.iter().position(|&b| b == b'=') else {
        return RangeSet::Ignore;
    };
    if !value[..eq].eq_ignore_ascii_case(b"bytes") || size == 0 {
        return RangeSet::Ignore;
    }
    let mut ranges = Vec::new();
    let mut any = false;
    for (i, element) in value[eq + 1..].split(|&b| b == b',').enumerate() {
        if i >= MAX_ELEMENTS {
            return RangeSet::Ignore;
        }
        let element = trim_ows(element);
        if element.is_empty() {
            continue;
        }
        any = true;
        let Some(spec) = parse_spec(element) else {
            return RangeSet::Ignore;
        };
        if let Some(r) = spec.resolve(size) {
            ranges.push(r);
        }
    }
    if !any {
        return RangeSet::Ignore;
    }
    if ranges.is_empty() {
        return RangeSet::Unsatisfiable;
    }
    let ranges = coalesce(ranges);
    if ranges.len() > MAX_PARTS {
        return RangeSet::Ignore;
    }
    RangeSet::Ranges(ranges)
}

/// One range-spec as written; positions saturate at `u64::MAX` (which no size reaches).
#[derive(Debug, Clone, Copy)]
enum Spec {
    /// `first-last` or `first-`.
    Int { first: u64, last: Option<u64> },
    /// `-length`.
    Suffix(u64),
}

impl Spec {
    /// The satisfiable part of the spec for a `size`-byte representation, if any.
    fn resolve(self, size: u64) -> Option<ByteRange> {
        match self {
            Spec::Int { first, last } => (first < size).then(|| ByteRange {
                start: first,
                end: last.map_or(size - 1, |l| l.min(size - 1)),
            }),
            Spec::Suffix(0) => None,
            Spec::Suffix(n) => Some(ByteRange {
                start: size.saturating_sub(n),
                end: size - 1,
            }),
        }
    }
}

fn parse_spec(s: &[u8]) -> Option<Spec> {
    let dash = s.iter().position(|&b| b == b'-')?;
    let (first, last) = (&s[..dash], &s[dash + 1..]);
    if first.is_empty() {
        return Some(Spec::Suffix(digits(last)?));
    }
    let first = digits(first)?;
    let last = if last.is_empty() {
        None
    } else {
        Some(digits(last)?)
    };
    // last < first is invalid; two saturated values are both past any size (unsatisfiable).
    if last.is_some_and(|l| l < first) {
        return None;
    }
    Some(Spec::Int { first, last })
}

/// `1*DIGIT` as a saturating u64.
fn digits(s: &[u8]) -> Option<u64> {
    if s.is_empty() || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(s.iter().fold(0u64, |n, &d| {
        n.saturating_mul(10).saturating_add(u64::from(d - b'0'))
    }))
}

/// Keeps the request's order when no two ranges overlap or nearly touch; otherwise sorts
/// and merges every overlapping or near pair.
fn coalesce(mut ranges: Vec<ByteRange>) -> Vec<ByteRange> {
    let near = |a: &ByteRange, b: &ByteRange| {
        a.start <= b.end.saturating_add(COALESCE_GAP)
            && b.start <= a.end.saturating_add(COALESCE_GAP)
    };
    let clean = ranges
        .iter()
        .enumerate()
        .all(|(i, a)| ranges[i + 1..].iter().all(|b| !near(a, b)));
    if clean {
        return ranges;
    }
    ranges.sort_by_key(|r| r.start);
    let mut out: Vec<ByteRange> = Vec::with_capacity(ranges.len());
    for r in ranges {
        match out.last_mut() {
            Some(last) if r.start <= last.end.saturating_add(COALESCE_GAP) => {
                last.end = last.end.max(r.end);
            }
            _ => out.push(r),
        }
    }
    out
}

/// Whether an If-Range value lets the Range through: an entity tag that matches ours
/// strongly, or an HTTP-date equal to Last-Modified.
pub fn if_range_holds(value: &[u8], etag: &str, last_modified: Option<SystemTime>) -> bool {
    let value = trim_ows(value);
    if value.starts_with(b"\"") || value.starts_with(b"W/") {
        return value == etag.as_bytes() && !etag.starts_with("W/");
    }
    match (parse_date(value), last_modified) {
        (Some(date), Some(lm)) => http_seconds(lm) == date,
        _ => false,
    }
}

/// Whether a `#entity-tag` list (or `*`) matches `etag`; strong comparison rejects weak tags
/// on either side, weak comparison ignores the `W/` prefix. An invalid list matches nothing.
pub fn etag_list_matches(list: &[u8], etag: &str, strong: bool) -> bool {
    let list = trim_ows(list);
    if list == b"*" {
        return true;
    }
    let (ours_weak, ours) = split_weak(etag.as_bytes());
    if strong && ours_weak {
        return false;
    }
    let mut rest = list;
    loop {
        rest = trim_ows(rest);
        while let Some(r) = rest.strip_prefix(b",") {
            rest = trim_ows(r);
        }
        if rest.is_empty() {
            return false;
        }
        let Some((tag, after)) = next_etag(rest) else {
            return false;
        };
        let (weak, opaque) = split_weak(tag);
        if opaque == ours && !(strong && weak) {
            return true;
        }
        rest = trim_ows(after);
        match rest.first() {
            None => return false,
            Some(b',') => {}
            Some(_) => return false,
        }
    }
}

/// Splits one `[W/]"etagc*"` off the front of `s`.
fn next_etag(s: &[u8]) -> Option<(&[u8], &[u8])> {
    let body = s.strip_prefix(b"W/").unwrap_or(s);
    let body = body.strip_prefix(b"\"")?;
    let close = body.iter().position(|&b| b == b'"')?;
    if !body[..close]
        .iter()
        .all(|&b| b == 0x21 || (0x23..=0x7e).contains(&b) || b >= 0x80)
    {
        return None;
    }
    let taglen = (s.len() - body.len()) + close + 1;
    Some((&s[..taglen], &s[taglen..]))
}

fn split_weak(tag: &[u8]) -> (bool, &[u8]) {
    match tag.strip_prefix(b"W/") {
        Some(t) => (true, t),
        None => (false, tag),
    }
}

/// An HTTP-date in any of the three forms RFC 9110 §5.6.7 makes recipients accept.
pub fn parse_date(value: &[u8]) -> Option<SystemTime> {
    let s = std::str::from_utf8(trim_ows(value)).ok()?;
    httpdate::parse_http_date(s).ok()
}

/// `t` truncated to whole seconds, as HTTP dates carry it.
pub fn http_seconds(t: SystemTime) -> SystemTime {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => UNIX_EPOCH + Duration::from_secs(d.as_secs()),
        Err(_) => UNIX_EPOCH,
    }
}

fn trim_ows(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = s {
        s = rest;
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(start: u64, end: u64) -> ByteRange {
        ByteRange { start, end }
    }

    fn ranges(v: &str, size: u64) -> RangeSet {
        parse_range(v.as_bytes(), size)
    }

    #[test]
    fn single_suffix_and_open_ranges() {
        assert_eq!(
            ranges("bytes=0-499", 10_000),
            RangeSet::Ranges(vec![r(0, 499)])
        );
        assert_eq!(
            ranges("bytes=9500-", 10_000),
            RangeSet::Ranges(vec![r(9500, 9999)])
        );
        assert_eq!(
            ranges("bytes=-500", 10_000),
            RangeSet::Ranges(vec![r(9500, 9999)])
        );
        assert_eq!(
            ranges("bytes=-50000", 10_000),
            RangeSet::Ranges(vec![r(0, 9999)])
        );
        assert_eq!(ranges("bytes=5-99999", 10), RangeSet::Ranges(vec![r(5, 9)]));
        assert_eq!(
            ranges("Bytes = 1-1", 10),
            RangeSet::Ignore,
            "no OWS around ="
        );
        assert_eq!(ranges("BYTES=1-1", 10), RangeSet::Ranges(vec![r(1, 1)]));
        assert_eq!(
            ranges(" bytes=1-2 ,, ", 10),
            RangeSet::Ranges(vec![r(1, 2)])
        );
    }

    #[test]
    fn unsatisfiable_and_invalid() {
        assert_eq!(ranges("bytes=10-", 10), RangeSet::Unsatisfiable);
        assert_eq!(ranges("bytes=-0", 10), RangeSet::Unsatisfiable);
        assert_eq!(ranges("bytes=10-20, 30-40", 10), RangeSet::Unsatisfiable);
        assert_eq!(
            ranges("bytes=99999999999999999999999-", 10),
            RangeSet::Unsatisfiable
        );
        for bad in [
            "bytes=5-4",
            "bytes=",
            "bytes=,",
            "bytes=a-b",
            "bytes=1-2-3",
            "bytes=--1",
            "bytes=-",
            "items=0-1",
            "bytes 0-1",
            "bytes=+1-2",
            "bytes=1 -2",
            "bytes=0-1,5-4",
            "",
        ] {
            assert_eq!(ranges(bad, 10), RangeSet::Ignore, "{bad:?}");
        }
        // An invalid spec spoils the whole set even when another one is fine.
        assert_eq!(ranges("bytes=0-1,x", 10), RangeSet::Ignore);
    }

    #[test]
    fn several_ranges_keep_order_or_merge() {
        assert_eq!(
            ranges("bytes=500-599,0-99", 10_000),
            RangeSet::Ranges(vec![r(500, 599), r(0, 99)])
        );
        // Overlapping and near ranges merge, sorted.
        assert_eq!(
            ranges("bytes=500-599,0-99,550-700,150-160", 10_000),
            RangeSet::Ranges(vec![r(0, 160), r(500, 700)])
        );
        assert_eq!(
            ranges("bytes=0-0,-1,0-0", 10_000),
            RangeSet::Ranges(vec![r(0, 0), r(9999, 9999)])
        );
        // Down to one range: a plain 206.
        assert_eq!(
            ranges("bytes=0-10,5-20", 100),
            RangeSet::Ranges(vec![r(0, 20)])
        );
        // More parts than MAX_PARTS after merging: the whole body.
        let many: Vec<String> = (0..=MAX_PARTS as u64)
            .map(|i| format!("{}-{}", i * 1000, i * 1000))
            .collect();
        assert_eq!(
            ranges(&format!("bytes={}", many.join(",")), 1 << 20),
            RangeSet::Ignore
        );
        let ok: Vec<String> = (0..MAX_PARTS as u64)
            .map(|i| format!("{}-{}", i * 1000, i * 1000))
            .collect();
        assert!(
            matches!(ranges(&format!("bytes={}", ok.join(",")), 1 << 20), RangeSet::Ranges(v) if v.len() == MAX_PARTS)
        );
    }

    #[test]
    fn etag_lists() {
        let tag = "\"abc\"";
        assert!(etag_list_matches(b"\"abc\"", tag, true));
        assert!(etag_list_matches(b"\"x\", \"abc\"", tag, true));
        assert!(etag_list_matches(b"*", tag, true));
        assert!(!etag_list_matches(b"W/\"abc\"", tag, true));
        assert!(etag_list_matches(b"W/\"abc\"", tag, false));
        assert!(!etag_list_matches(b"\"abcd\"", tag, false));
        assert!(!etag_list_matches(b"abc", tag, false));
        assert!(!etag_list_matches(b"\"abc", tag, false));
        assert!(!etag_list_matches(b"\"x\" \"abc\"", tag, false));
        assert!(etag_list_matches(b" , \"abc\" ,", tag, false));
    }

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn conditional_order() {
        let v = Validators {
            etag: "\"e1\"",
            last_modified: Some(at(784_111_777) + Duration::from_millis(300)),
        };
        let date = b"Sun, 06 Nov 1994 08:49:37 GMT"; // = 784111777
        let eval = |c: Conditions| evaluate(&c, &v, 100);
        assert_eq!(eval(Conditions::default()), Outcome::Full);
        assert_eq!(
            eval(Conditions {
                if_none_match: Some(b"\"e1\""),
                ..Default::default()
            }),
            Outcome::NotModified
        );
        assert_eq!(
            eval(Conditions {
                if_none_match: Some(b"W/\"e1\""),
                ..Default::default()
            }),
            Outcome::NotModified
        );
        assert_eq!(
            eval(Conditions {
                if_none_match: Some(b"\"e2\""),
                ..Default::default()
            }),
            Outcome::Full
        );
        assert_eq!(
            eval(Conditions {
                if_modified_since: Some(date),
                ..Default::default()
            }),
            Outcome::NotModified
        );
        // All three date formats.
        for d in [
            &b"Sunday, 06-Nov-94 08:49:37 GMT"[..],
            b"Sun Nov  6 08:49:37 1994",
        ] {
            assert_eq!(
                eval(Conditions {
                    if_modified_since: Some(d),
                    ..Default::default()
                }),
                Outcome::NotModified,
                "{d:?}"
            );
        }
        assert_eq!(
            eval(Conditions {
                if_modified_since: Some(b"Sun, 06 Nov 1994 08:49:36 GMT"),
                ..Default::default()
            }),
            Outcome::Full
        );
        assert_eq!(
            eval(Conditions {
                if_modified_since: Some(b"yesterday"),
                ..Default::default()
            }),
            Outcome::Full
        );
        // If-None-Match wins over If-Modified-Since.
        assert_eq!(
            eval(Conditions {
                if_none_match: Some(b"\"e2\""),
                if_modified_since: Some(date),
                ..Default::default()
            }),
            Outcome::Full
        );
        assert_eq!(
            eval(Conditions {
                if_match: Some(b"\"e2\""),
                ..Default::default()
            }),
            Outcome::PreconditionFailed
        );
        assert_eq!(
            eval(Conditions {
                if_match: Some(b"W/\"e1\""),
                ..Default::default()
            }),
            Outcome::PreconditionFailed
        );
        assert_eq!(
            eval(Conditions {
                if_match: Some(b"\"e1\""),
                range: Some(b"bytes=0-0"),
                ..Default::default()
            }),
            Outcome::Partial(vec![r(0, 0)])
        );
        assert_eq!(
            eval(Conditions {
                if_unmodified_since: Some(b"Sun, 06 Nov 1994 08:49:36 GMT"),
                ..Default::default()
            }),
            Outcome::PreconditionFailed
        );
        assert_eq!(
            eval(Conditions {
                if_unmodified_since: Some(date),
                ..Default::default()
            }),
            Outcome::Full
        );
        // 304 before Range; 412 before 304.
        assert_eq!(
            eval(Conditions {
                if_none_match: Some(b"*"),
                range: Some(b"bytes=0-0"),
                ..Default::default()
            }),
            Outcome::NotModified
        );
        assert_eq!(
            eval(Conditions {
                if_match: Some(b"\"x\""),
                if_none_match: Some(b"*"),
                ..Default::default()
            }),
            Outcome::PreconditionFailed
        );
    }

    #[test]
    fn if_range() {
        let v = Validators {
            etag: "\"e1\"",
            last_modified: Some(at(784_111_777)),
        };
        let eval = |ir: &[u8]| {
            evaluate(
                &Conditions {
                    if_range: Some(ir),
                    range: Some(b"bytes=1-2"),
                    ..Default::default()
                },
                &v,
                100,
            )
        };
        assert_eq!(eval(b"\"e1\""), Outcome::Partial(vec![r(1, 2)]));
        assert_eq!(eval(b"\"e2\""), Outcome::Full);
        assert_eq!(
            eval(b"W/\"e1\""),
            Outcome::Full,
            "weak tags never match If-Range"
        );
        assert_eq!(
            eval(b"Sun, 06 Nov 1994 08:49:37 GMT"),
            Outcome::Partial(vec![r(1, 2)])
        );
        assert_eq!(eval(b"Sun, 06 Nov 1994 08:49:38 GMT"), Outcome::Full);
        assert_eq!(eval(b""), Outcome::Full);
        // An unsatisfiable range with a stale If-Range is a 200, not a 416.
        let stale = Conditions {
            if_range: Some(b"\"old\""),
            range: Some(b"bytes=500-"),
            ..Default::default()
        };
        assert_eq!(evaluate(&stale, &v, 100), Outcome::Full);
        let fresh = Conditions {
            if_range: Some(b"\"e1\""),
            ..stale
        };
        assert_eq!(evaluate(&fresh, &v, 100), Outcome::NotSatisfiable);
    }

    #[test]
    fn empty_representation_ignores_range() {
        let v = Validators {
            etag: "\"e\"",
            last_modified: None,
        };
        let c = Conditions {
            range: Some(b"bytes=-5"),
            ..Default::default()
        };
        assert_eq!(evaluate(&c, &v, 0), Outcome::Full);
    }
}
