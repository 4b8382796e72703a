//! From one received message to the plain messages it carries, with the checks both roles
//! share (core.telegram.org/mtproto/service_messages and the security guidelines):
//!
//! - a `msg_container` holds messages whose msg_ids are all below the container's, of the
//!   sender's parity and inside the receive window's time bounds; one failing message refuses
//!   the whole container. A container inside a container is refused; ids already received
//!   are skipped (a resent message).
//! - a `gzip_packed` is inflated within the packet's budget ([`MAX_INFLATED`], shared by every
//!   gzip_packed of the packet, rpc_result's included, and by what the session still holds in
//!   events not yet polled). What it inflates to may be a container (once) but never
//!   another gzip_packed.

use bytes::Bytes;

use super::window::ReceiveWindow;
use super::SessionError;
use crate::tl::service::{GzipPacked, MsgContainer};
use crate::tl::{DecodeError, Deserializable, Identifiable, Reader};

/// The most bytes a session inflates from gzip_packed for one received packet, together with
/// the inflated bytes it still holds in events the driver has not polled: a 1 MiB file part
/// plus its overhead fits several times; a packet of gzip bombs stops here.
pub const MAX_INFLATED: usize = 4 << 20;

/// What is left of the inflation budget while one packet is read.
#[derive(Debug)]
pub(crate) struct Inflater {
    left: usize,
}

impl Inflater {
    /// The budget of a packet, when the session still holds `held` inflated bytes.
    pub(crate) fn new(held: usize) -> Self {
        Inflater {
            left: MAX_INFLATED.saturating_sub(held),
        }
    }

    /// Inflates the `gzip_packed` object `packed`, spending the budget.
    pub(crate) fn inflate(&mut self, packed: Bytes) -> Result<Bytes, SessionError> {
        let inner = GzipPacked::from_bytes(packed)?
            .unpack(self.left)
            .map_err(|e| match e {
                DecodeError::GzipTooLarge { .. } => SessionError::InflateBudget {
                    limit: MAX_INFLATED,
                },
                e => SessionError::Decode(e),
            })?;
        self.left -= inner.len();
        Ok(Bytes::from(inner))
    }
}

/// One plain message: neither a container nor gzip_packed.
#[derive(Debug)]
pub(crate) struct Plain {
    pub(crate) msg_id: i64,
    pub(crate) seq_no: i32,
    /// The constructor id as received (`gzip_packed` for an inflated message): what its
    /// seq_no parity is checked against.
    pub(crate) wire_id: u32,
    /// The message body (inflated if it came as gzip_packed).
    pub(crate) body: Bytes,
    /// How many bytes of `body` were inflated (0 if it was not compressed).
    pub(crate) inflated: usize,
}

/// Splits the message `msg_id` (already accepted by `window`) into its plain messages, in
/// order. `server_now` is the server time in seconds for the inner time check, `None` when
/// the caller has accepted the message outside the window (a clock correction).
pub(crate) fn unwrap(
    msg_id: i64,
    seq_no: i32,
    body: Bytes,
    window: &mut ReceiveWindow,
    server_now: Option<i64>,
    inflater: &mut Inflater,
) -> Result<Vec<Plain>, SessionError> {
    let mut out = Vec::new();
    Unwrapper {
        window,
        server_now,
        inflater,
    }
    .walk(msg_id, seq_no, body, Within::Nothing, None, &mut out)?;
    Ok(out)
}

/// What the message being unwrapped is inside of.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Within {
    Nothing,
    Container,
    Gzip,
    GzipInContainer,
}

struct Unwrapper<'a> {
    window: &'a mut ReceiveWindow,
    server_now: Option<i64>,
    inflater: &'a mut Inflater,
}

impl Unwrapper<'_> {
    /// Appends the plain messages of one message to `out`. `wire` is the constructor id the
    /// message arrived with and the inflated length, when `body` was inflated from it.
    #[allow(clippy::too_many_arguments)]
    fn walk(
        &mut self,
        msg_id: i64,
        seq_no: i32,
        body: Bytes,
        within: Within,
        wire: Option<(u32, usize)>,
        out: &mut Vec<Plain>,
    ) -> Result<(), SessionError> {
        let id = Reader::new(body.clone()).peek_u32()?;
        match id {
            MsgContainer::CONSTRUCTOR_ID => {
                if matches!(within, Within::Container | Within::GzipInContainer) {
                    return Err(SessionError::BadContainer("container inside a container"));
                }
                let container = MsgContainer::from_bytes(body)?;
                for m in &container.messages {
                    self.check_inner(msg_id, m.msg_id)?;
                }
                let inner = if within == Within::Gzip {
                    Within::GzipInContainer
                } else {
                    Within::Container
                };
                for m in container.messages {
                    if self.window.accept_unchecked_time(m.msg_id).is_err() {
                        continue; // received before: a resend, skipped
                    }
                    self.walk(m.msg_id, m.seqno, m.body, inner, None, out)?;
                }
                Ok(())
            }
            GzipPacked::CONSTRUCTOR_ID => {
                if matches!(within, Within::Gzip | Within::GzipInContainer) {
                    return Err(SessionError::BadContainer("gzip_packed inside gzip_packed"));
                }
                let inflated = self.inflater.inflate(body)?;
                let len = inflated.len();
                let inner = if within == Within::Container {
                    Within::GzipInContainer
                } else {
                    Within::Gzip
                };
                self.walk(msg_id, seq_no, inflated, inner, Some((id, len)), out)
            }
            _ => {
                let (wire_id, inflated) = wire.unwrap_or((id, 0));
                out.push(Plain {
                    msg_id,
                    seq_no,
                    wire_id,
                    body,
                    inflated,
                });
                Ok(())
            }
        }
    }

    /// The guideline's checks of a contained message's msg_id.
    fn check_inner(&self, container: i64, inner: i64) -> Result<(), SessionError> {
        if inner >= container {
            return Err(SessionError::BadContainer(
                "inner msg_id not below the container's",
            ));
        }
        if self.window.check_parity(inner).is_err() {
            return Err(SessionError::BadContainer(
                "inner msg_id with the wrong parity",
            ));
        }
        if let Some(now) = self.server_now {
            if self.window.check_time(inner, now).is_err() {
                return Err(SessionError::BadContainer(
                    "inner msg_id outside the time window",
                ));
            }
        }
        Ok(())
    }
}
