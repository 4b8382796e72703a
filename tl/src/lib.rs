//! tgmux-tl: Telegram's TL layer 227 as Rust types, and the runtime that (de)serialises them.
//!
//! - [`types`]: a struct per constructor (`types::upload::File`), serialised *boxed* (with its
//!   constructor id) by [`Serializable`]; `serialize_bare` / `deserialize_bare` skip the id.
//! - [`enums`]: an enum per boxed type (`enums::upload::File`), one variant per constructor
//!   carrying its struct (`Box`ed only where the type is recursive); `From<struct>` for each.
//! - [`functions`]: a struct per RPC function with [`RemoteCall::Return`].
//! - [`service`]: the hand-written service objects (`message`, `msg_container`, `rpc_result`,
//!   `gzip_packed`) that the schema leaves to code.
//!
//! The generated code comes from `tl/mtproto.tl` and `tl/api.tl` through `tgmux-codegen`
//! (run by `build.rs` into `OUT_DIR`). Decoding goes through a bounded [`Reader`]: truncated
//! input, lengths beyond the input, unknown constructor ids and (in [`Deserializable::from_bytes`])
//! trailing bytes are typed [`DecodeError`]s, never panics. `bytes` fields are zero-copy
//! [`bytes::Bytes`] views into the buffer being decoded. TL `string`s that are not UTF-8 are
//! decoded lossily (U+FFFD), as the official clients do; use a `bytes` reading if exactness
//! matters.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

use std::fmt;

pub use bytes::Bytes;

mod reader;
pub mod service;

pub use reader::{Reader, MAX_DEPTH};

include!(concat!(env!("OUT_DIR"), "/generated.rs"));

/// Why a TL object could not be decoded. Each variant displays as one line.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeError {
    /// The input ended in the middle of an object.
    Truncated,
    /// A constructor id that is not one of the expected type's constructors.
    UnexpectedConstructor {
        /// The id read.
        id: u32,
        /// The TL type (or constructor) that was expected.
        expected: &'static str,
    },
    /// Bytes were left after a complete object where none may follow.
    TrailingBytes,
    /// A length or element count larger than the rest of the input (or negative).
    LengthBeyondInput,
    /// A gzip_packed payload that is not valid gzip.
    InvalidGzip,
    /// A gzip_packed payload that inflates beyond the allowed size.
    GzipTooLarge {
        /// The cap that was exceeded, in bytes.
        limit: usize,
    },
    /// Constructors nested deeper than the reader's depth budget ([`MAX_DEPTH`]).
    TooDeep {
        /// The budget, in levels.
        limit: u32,
    },
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::Truncated => f.write_str("TL input truncated"),
            DecodeError::UnexpectedConstructor { id, expected } => match name_for_id(*id) {
                Some(name) => write!(
                    f,
                    "unexpected TL constructor {id:#010x} ({name}), expected {expected}"
                ),
                None => write!(f, "unknown TL constructor {id:#010x}, expected {expected}"),
            },
            DecodeError::TrailingBytes => f.write_str("trailing bytes after TL object"),
            DecodeError::LengthBeyondInput => f.write_str("TL length or count beyond the input"),
            DecodeError::InvalidGzip => f.write_str("gzip_packed payload is not valid gzip"),
            DecodeError::GzipTooLarge { limit } => {
                write!(f, "gzip_packed payload inflates beyond {limit} bytes")
            }
            DecodeError::TooDeep { limit } => {
                write!(f, "TL objects nested more than {limit} levels deep")
            }
        }
    }
}

impl std::error::Error for DecodeError {}

/// Something that writes itself in TL wire format (boxed, with its constructor id, when it has one).
pub trait Serializable {
    /// Append the encoding to `out`.
    fn serialize(&self, out: &mut Vec<u8>);

    /// The encoding in a new buffer.
    fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.serialize(&mut out);
        out
    }
}

/// Something that reads itself from TL wire format (boxed, when it has a constructor id).
pub trait Deserializable: Sized {
    /// Read one value from `r`, leaving the reader after it.
    fn deserialize(r: &mut Reader) -> Result<Self, DecodeError>;

    /// Read one value that must span all of `b` (trailing bytes are an error).
    fn from_bytes(b: impl Into<Bytes>) -> Result<Self, DecodeError> {
        let mut r = Reader::new(b);
        let v = Self::deserialize(&mut r)?;
        r.finish()?;
        Ok(v)
    }
}

/// A TL constructor or function with a constructor id.
pub trait Identifiable {
    /// The constructor id written in front of the boxed object.
    const CONSTRUCTOR_ID: u32;
}

/// An RPC function: what is sent, and the type of its answer.
pub trait RemoteCall: Serializable {
    /// The answer's type.
    type Return: Deserializable;
}

/// The name of a constructor or function id of the built-in schema (including the
/// hand-written service objects), if known.
pub fn name_for_id(id: u32) -> Option<&'static str> {
    match CONSTRUCTORS.binary_search_by_key(&id, |&(i, _)| i) {
        Ok(i) => Some(CONSTRUCTORS[i].1),
        Err(_) => service::SERVICE_CONSTRUCTORS
            .iter()
            .find(|&&(i, _)| i == id)
            .map(|&(_, n)| n),
    }
}

/// The TL lines (as [`DEFINITIONS`] writes them) of the constructors and functions with this
/// id, including the hand-written service objects; usually one, two for TDLib's twins.
pub fn definitions_for_id(id: u32) -> impl Iterator<Item = &'static str> {
    let start = DEFINITIONS.partition_point(|&(i, _)| i < id);
    DEFINITIONS[start..]
        .iter()
        .take_while(move |&&(i, _)| i == id)
        .chain(
            service::SERVICE_DEFINITIONS
                .iter()
                .filter(move |&&(i, _)| i == id),
        )
        .map(|&(_, line)| line)
}

/// Write a vector length (bare vector count).
pub fn write_len(len: usize, out: &mut Vec<u8>) {
    let n = i32::try_from(len).expect("TL vector longer than i32::MAX");
    out.extend_from_slice(&n.to_le_bytes());
}

/// Write TL `bytes` / `string`: a 1-byte length (or 0xfe and a 3-byte length), the data, and
/// zero padding to a multiple of 4.
pub fn write_tl_bytes(data: &[u8], out: &mut Vec<u8>) {
    let len = data.len();
    let head = if len < 254 {
        out.push(len as u8);
        1
    } else {
        assert!(len < 1 << 24, "TL bytes longer than 16 MiB");
        out.push(0xfe);
        out.extend_from_slice(&(len as u32).to_le_bytes()[..3]);
        4
    };
    out.extend_from_slice(data);
    let pad = (4 - (head + len) % 4) % 4;
    out.extend(std::iter::repeat_n(0u8, pad));
}

/// An already-encoded TL object, written verbatim; decoding takes the rest of the input.
///
/// Used as the `X` of generic functions (`invokeWithLayer`...) when the inner query is not a
/// concrete type, e.g. on the server side or in `decode_any`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Raw(pub Bytes);

impl Serializable for Raw {
    fn serialize(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.0);
    }
}

impl Deserializable for Raw {
    fn deserialize(r: &mut Reader) -> Result<Self, DecodeError> {
        Ok(Raw(r.read_rest()))
    }
}

impl RemoteCall for Raw {
    type Return = Raw;
}

macro_rules! number {
    ($t:ty, $n:expr) => {
        impl Serializable for $t {
            fn serialize(&self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_le_bytes());
            }
        }
        impl Deserializable for $t {
            fn deserialize(r: &mut Reader) -> Result<Self, DecodeError> {
                Ok(<$t>::from_le_bytes(r.read_array::<$n>()?))
            }
        }
    };
}

number!(i32, 4);
number!(u32, 4);
number!(i64, 8);
number!(f64, 8);

impl<const N: usize> Serializable for [u8; N] {
    fn serialize(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self);
    }
}

impl<const N: usize> Deserializable for [u8; N] {
    fn deserialize(r: &mut Reader) -> Result<Self, DecodeError> {
        r.read_array::<N>()
    }
}

/// `boolTrue`.
pub const BOOL_TRUE_ID: u32 = 0x997275b5;
/// `boolFalse`.
pub const BOOL_FALSE_ID: u32 = 0xbc799737;
/// `vector`.
pub const VECTOR_ID: u32 = 0x1cb5c415;

impl Serializable for bool {
    fn serialize(&self, out: &mut Vec<u8>) {
        let id = if *self { BOOL_TRUE_ID } else { BOOL_FALSE_ID };
        out.extend_from_slice(&id.to_le_bytes());
    }
}

impl Deserializable for bool {
    fn deserialize(r: &mut Reader) -> Result<Self, DecodeError> {
        match r.read_u32()? {
            BOOL_TRUE_ID => Ok(true),
            BOOL_FALSE_ID => Ok(false),
            id => Err(DecodeError::UnexpectedConstructor {
                id,
                expected: "Bool",
            }),
        }
    }
}

impl Serializable for String {
    fn serialize(&self, out: &mut Vec<u8>) {
        write_tl_bytes(self.as_bytes(), out);
    }
}

impl Deserializable for String {
    fn deserialize(r: &mut Reader) -> Result<Self, DecodeError> {
        let b = r.read_tl_bytes()?;
        Ok(match std::str::from_utf8(&b) {
            Ok(s) => s.to_owned(),
            Err(_) => String::from_utf8_lossy(&b).into_owned(),
        })
    }
}

impl Serializable for Bytes {
    fn serialize(&self, out: &mut Vec<u8>) {
        write_tl_bytes(self, out);
    }
}

impl Deserializable for Bytes {
    fn deserialize(r: &mut Reader) -> Result<Self, DecodeError> {
        r.read_tl_bytes()
    }
}

/// Boxed `Vector<T>`: the vector id, a count, the elements.
impl<T: Serializable> Serializable for Vec<T> {
    fn serialize(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&VECTOR_ID.to_le_bytes());
        write_len(self.len(), out);
        for x in self {
            x.serialize(out);
        }
    }
}

impl<T: Deserializable> Deserializable for Vec<T> {
    fn deserialize(r: &mut Reader) -> Result<Self, DecodeError> {
        r.expect_id(VECTOR_ID, "Vector")?;
        let n = r.read_len()?;
        let mut v = Vec::with_capacity(n.min(r.remaining() / 4));
        for _ in 0..n {
            v.push(T::deserialize(r)?);
        }
        Ok(v)
    }
}
