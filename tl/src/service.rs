//! The MTProto service objects the schema leaves to hand-written code.
//!
//! `message`, `msg_container`, `rpc_result` and `gzip_packed` carry "any object" (`Object`),
//! which a typed generator cannot express: here their payloads stay as [`Bytes`] views of the
//! received buffer, to be decoded by whoever knows the expected type.
//!
//! ```text
//! message msg_id:long seqno:int bytes:int body:Object = Message;             (bare only)
//! msg_container#73f1f8dc messages:vector<message> = MessageContainer;
//! rpc_result#f35c6d01 req_msg_id:long result:Object = RpcResult;
//! gzip_packed#3072cfa1 packed_data:bytes = Object;
//! ```

use std::io::Read as _;

use bytes::Bytes;

use crate::{DecodeError, Deserializable, Identifiable, Reader, Serializable};

/// The hand-written service constructors: (id, TL name), for `name_for_id` and `tgmux tl ids`.
pub static SERVICE_CONSTRUCTORS: &[(u32, &str)] = &[
    (MsgContainer::CONSTRUCTOR_ID, "msg_container"),
    (RpcResult::CONSTRUCTOR_ID, "rpc_result"),
    (GzipPacked::CONSTRUCTOR_ID, "gzip_packed"),
    (MSG_COPY_ID, "msg_copy"),
];

/// The TL lines of the hand-written service constructors, for `definitions_for_id`.
pub static SERVICE_DEFINITIONS: &[(u32, &str)] = &[
    (
        MsgContainer::CONSTRUCTOR_ID,
        "msg_container#73f1f8dc messages:vector<message> = MessageContainer;",
    ),
    (
        RpcResult::CONSTRUCTOR_ID,
        "rpc_result#f35c6d01 req_msg_id:long result:Object = RpcResult;",
    ),
    (
        GzipPacked::CONSTRUCTOR_ID,
        "gzip_packed#3072cfa1 packed_data:bytes = Object;",
    ),
    (
        MSG_COPY_ID,
        "msg_copy#e06046b2 orig_message:Message = MessageCopy;",
    ),
];

/// `msg_copy#e06046b2`: obsolete (never sent by servers); listed for `name_for_id` only.
pub const MSG_COPY_ID: u32 = 0xe06046b2;

/// Largest number of messages accepted in one container (Telegram's documented limit is 1020).
pub const MAX_CONTAINER_MESSAGES: usize = 1024;

/// One message inside a container (`message`, always bare).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// The message id.
    pub msg_id: i64,
    /// The sequence number.
    pub seqno: i32,
    /// The serialised body (a boxed object).
    pub body: Bytes,
}

impl Message {
    /// Append `msg_id seqno bytes body`.
    pub fn serialize_bare(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.msg_id.to_le_bytes());
        out.extend_from_slice(&self.seqno.to_le_bytes());
        crate::write_len(self.body.len(), out);
        out.extend_from_slice(&self.body);
    }

    /// Read `msg_id seqno bytes body`; the body is a zero-copy view.
    pub fn deserialize_bare(r: &mut Reader) -> Result<Self, DecodeError> {
        let msg_id = r.read_i64()?;
        let seqno = r.read_i32()?;
        let len = r.read_len()?;
        if len % 4 != 0 {
            return Err(DecodeError::LengthBeyondInput);
        }
        let body = r.read_bytes(len)?;
        Ok(Message {
            msg_id,
            seqno,
            body,
        })
    }
}

/// `msg_container#73f1f8dc messages:vector<message>`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MsgContainer {
    /// The contained messages, in order.
    pub messages: Vec<Message>,
}

impl Identifiable for MsgContainer {
    const CONSTRUCTOR_ID: u32 = 0x73f1f8dc;
}

impl Serializable for MsgContainer {
    fn serialize(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&Self::CONSTRUCTOR_ID.to_le_bytes());
        crate::write_len(self.messages.len(), out);
        for m in &self.messages {
            m.serialize_bare(out);
        }
    }
}

impl Deserializable for MsgContainer {
    fn deserialize(r: &mut Reader) -> Result<Self, DecodeError> {
        r.expect_id(Self::CONSTRUCTOR_ID, "msg_container")?;
        let n = r.read_len()?;
        if n > MAX_CONTAINER_MESSAGES || n > r.remaining() / 16 {
            return Err(DecodeError::LengthBeyondInput);
        }
        let mut messages = Vec::with_capacity(n);
        for _ in 0..n {
            messages.push(Message::deserialize_bare(r)?);
        }
        Ok(MsgContainer { messages })
    }
}

/// `rpc_result#f35c6d01 req_msg_id:long result:Object`: the result spans the rest of the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RpcResult {
    /// The msg_id of the request this answers.
    pub req_msg_id: i64,
    /// The serialised result (a boxed object, `rpc_error`, or `gzip_packed`), zero-copy.
    pub result: Bytes,
}

impl Identifiable for RpcResult {
    const CONSTRUCTOR_ID: u32 = 0xf35c6d01;
}

impl Serializable for RpcResult {
    fn serialize(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&Self::CONSTRUCTOR_ID.to_le_bytes());
        out.extend_from_slice(&self.req_msg_id.to_le_bytes());
        out.extend_from_slice(&self.result);
    }
}

impl Deserializable for RpcResult {
    /// Consumes the rest of the reader (the result's length is not on the wire).
    fn deserialize(r: &mut Reader) -> Result<Self, DecodeError> {
        r.expect_id(Self::CONSTRUCTOR_ID, "rpc_result")?;
        let req_msg_id = r.read_i64()?;
        Ok(RpcResult {
            req_msg_id,
            result: r.read_rest(),
        })
    }
}

/// `gzip_packed#3072cfa1 packed_data:bytes`: a gzip-compressed serialised object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GzipPacked {
    /// The gzip stream, zero-copy.
    pub packed_data: Bytes,
}

impl Identifiable for GzipPacked {
    const CONSTRUCTOR_ID: u32 = 0x3072cfa1;
}

impl GzipPacked {
    /// Compress `data` (a serialised object).
    pub fn pack(data: &[u8]) -> Self {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        std::io::Write::write_all(&mut enc, data).expect("writing to a Vec cannot fail");
        GzipPacked {
            packed_data: Bytes::from(enc.finish().expect("writing to a Vec cannot fail")),
        }
    }

    /// Inflate, refusing output larger than `limit` bytes (a zip bomb is an error, not an OOM).
    pub fn unpack(&self, limit: usize) -> Result<Vec<u8>, DecodeError> {
        let mut out = Vec::new();
        let dec = flate2::read::GzDecoder::new(&self.packed_data[..]);
        let cap = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
        dec.take(cap)
            .read_to_end(&mut out)
            .map_err(|_| DecodeError::InvalidGzip)?;
        if out.len() > limit {
            return Err(DecodeError::GzipTooLarge { limit });
        }
        Ok(out)
    }
}

impl Serializable for GzipPacked {
    fn serialize(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&Self::CONSTRUCTOR_ID.to_le_bytes());
        crate::write_tl_bytes(&self.packed_data, out);
    }
}

impl Deserializable for GzipPacked {
    fn deserialize(r: &mut Reader) -> Result<Self, DecodeError> {
        r.expect_id(Self::CONSTRUCTOR_ID, "gzip_packed")?;
        Ok(GzipPacked {
            packed_data: r.read_tl_bytes()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn container_round_trip_and_zero_copy_bodies() {
        let c = MsgContainer {
            messages: vec![
                Message {
                    msg_id: 1 << 32,
                    seqno: 1,
                    body: Bytes::from_static(&[1, 2, 3, 4]),
                },
                Message {
                    msg_id: 2 << 32,
                    seqno: 3,
                    body: Bytes::from_static(&[5, 6, 7, 8, 9, 10, 11, 12]),
                },
            ],
        };
        let wire = Bytes::from(c.to_bytes());
        assert_eq!(&wire[..8], &[0xdc, 0xf8, 0xf1, 0x73, 2, 0, 0, 0]);
        let back = MsgContainer::from_bytes(wire.clone()).unwrap();
        assert_eq!(back, c);
        let body = &back.messages[1].body;
        assert!(wire.as_ptr_range().contains(&body.as_ptr()));
    }

    #[test]
    fn container_rejects_bad_lengths() {
        let mut wire = MsgContainer {
            messages: vec![Message {
                msg_id: 1,
                seqno: 1,
                body: Bytes::from_static(&[0; 4]),
            }],
        }
        .to_bytes();
        let len_at = 4 + 4 + 8 + 4;
        wire[len_at] = 200;
        assert_eq!(
            MsgContainer::from_bytes(wire.clone()),
            Err(DecodeError::LengthBeyondInput)
        );
        wire[len_at] = 3;
        assert_eq!(
            MsgContainer::from_bytes(wire),
            Err(DecodeError::LengthBeyondInput)
        );
    }

    #[test]
    fn rpc_result_takes_the_rest() {
        let r = RpcResult {
            req_msg_id: 42,
            result: Bytes::from_static(&[0x15, 0xc4, 0xb5, 0x1c, 0, 0, 0, 0]),
        };
        assert_eq!(RpcResult::from_bytes(r.to_bytes()).unwrap(), r);
    }

    #[test]
    fn gzip_round_trip_and_cap() {
        let data = vec![0x61u8; 100_000];
        let g = GzipPacked::pack(&data);
        assert!(g.packed_data.len() < 1000);
        let back = GzipPacked::from_bytes(g.to_bytes()).unwrap();
        assert_eq!(back.unpack(100_000).unwrap(), data);
        assert_eq!(
            back.unpack(99_999),
            Err(DecodeError::GzipTooLarge { limit: 99_999 })
        );
        let junk = GzipPacked {
            packed_data: Bytes::from_static(b"not gzip at all"),
        };
        assert_eq!(junk.unpack(1000), Err(DecodeError::InvalidGzip));
    }
}
