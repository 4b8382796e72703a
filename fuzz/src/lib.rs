//! Fuzz drivers for tgmux's sans-IO decoders; each target in `fuzz_targets/` is one call.
//!
//! Properties checked besides "no panic, no hang": decoded payloads are non-empty and within
//! `MAX_FRAME_LEN`, the receive buffer stays bounded by one frame plus one chunk, and (in the
//! obfuscated target) whatever our client encodes our server decodes unchanged.

use rand::rngs::StdRng;
use rand::SeedableRng;
use tgmux::mtproto::transport::{
    ClientConfig, Codec, Frame, Kind, Obfuscation, ProxySecret, ServerConfig, MAX_FRAME_LEN,
};

/// Pushes `data` in chunks of a size picked by `chunk_seed`, polling after each; stops at
/// the first error.
fn feed(codec: &mut Codec, data: &[u8], chunk_seed: u8) {
    let chunk = chunk_seed as usize * 37 + 1;
    for piece in data.chunks(chunk) {
        codec.push(piece);
        loop {
            match codec.poll_frame() {
                Ok(Some(Frame::Payload(p))) => {
                    assert!(!p.is_empty() && p.len() <= MAX_FRAME_LEN);
                }
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(_) => return,
            }
        }
        // Detection needs at most 64 bytes; a frame at most MAX_FRAME_LEN + 16.
        assert!(codec.buffered_len() <= MAX_FRAME_LEN + 64 + chunk);
    }
}

/// One plain framing: byte 0 picks the role (bit 0) and chunk size; the rest is the
/// stream after the transport header.
pub fn plain(kind: Kind, data: &[u8]) {
    let Some((&ctl, rest)) = data.split_first() else {
        return;
    };
    let mut codec = if ctl & 1 == 0 {
        let mut server = Codec::server(&ServerConfig::default());
        server.push(kind.plain_header());
        server
    } else {
        let config = ClientConfig {
            kind,
            obfuscation: None,
        };
        Codec::client(&config, &mut StdRng::seed_from_u64(0)).expect("plain client")
    };
    feed(&mut codec, rest, ctl >> 1);
}

/// The server's autodetection on a raw stream; bit 0 of byte 0 gives it an MTProxy secret.
pub fn detect(data: &[u8]) {
    let Some((&ctl, rest)) = data.split_first() else {
        return;
    };
    let secret = (ctl & 1 == 1).then(|| ProxySecret::new([0x42; 16]));
    let mut server = Codec::server(&ServerConfig { secret });
    feed(&mut server, rest, ctl >> 1);
}

/// Obfuscated2 end to end: byte 0 picks the framing and secret, bytes 1..9 seed the client's
/// randomness; then a series of payloads (one length byte, in words, then the bytes) that
/// our client encodes and our server must decode unchanged; finally the rest is pushed raw
/// into the server's (decrypting) stream.
pub fn obfuscated(data: &[u8]) {
    if data.len() < 9 {
        return;
    }
    let ctl = data[0];
    let kind = [Kind::Abridged, Kind::Intermediate, Kind::PaddedIntermediate][ctl as usize % 3];
    let secret = (ctl & 4 != 0).then(|| ProxySecret::new([0x24; 16]));
    let seed = u64::from_le_bytes(data[1..9].try_into().expect("8 bytes"));
    let mut rng = StdRng::seed_from_u64(seed);
    let config = ClientConfig {
        kind,
        obfuscation: Some(Obfuscation {
            dc_id: i16::from(ctl) - 100,
            secret: secret.clone(),
        }),
    };
    let mut client = Codec::client(&config, &mut rng).expect("obfuscated client");
    let mut server = Codec::server(&ServerConfig { secret });
    let mut rest = &data[9..];
    let mut wire = Vec::new();
    while let Some((&words, tail)) = rest.split_first() {
        if words == 0 {
            rest = tail;
            break;
        }
        let len = (words as usize * 4).min(tail.len() / 4 * 4);
        if len == 0 {
            rest = tail;
            break;
        }
        let (payload, tail) = tail.split_at(len);
        rest = tail;
        wire.clear();
        if let Err(e) = client.encode(payload, &mut rng, &mut wire) {
            // Only short payloads that would read as a transport error frame are refused.
            assert!(payload.len() < 24 && payload[3] & 0x80 != 0, "{e}");
            assert!(wire.is_empty());
            continue;
        }
        server.push(&wire);
        match server.poll_frame() {
            Ok(Some(Frame::Payload(got))) => {
                assert_eq!(&got[..payload.len()], payload);
                assert!(got.len() - payload.len() <= 15);
            }
            other => panic!("our client's frame did not decode: {other:?}"),
        }
        assert_eq!(server.kind(), Some(kind));
    }
    feed(&mut server, rest, ctl >> 3);
}

// ---- MTProto messages: the session decryptor and what follows it ----

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tgmux::crypto::{AuthKey, RsaPrivateKey, Side};
use tgmux::mtproto::auth;
use tgmux::tl::Serializable;
use tgmux::mtproto::session::{
    wire, ClientSession, ClientSessionConfig, SaltSchedule, ServerSession, ServerSessionConfig,
};

const SESSION_ID: i64 = 0x0102_0304_0506_0708;
const SALT: i64 = 0x1111_2222_3333_4444;
/// A fixed "now" (2023-11-14): msg_ids near it are inside the receive window.
const NOW: Duration = Duration::from_secs(1_700_000_000);

fn fuzz_key() -> AuthKey {
    let mut k = [0u8; 256];
    for (i, b) in k.iter_mut().enumerate() {
        *b = (i as u8).wrapping_mul(151).wrapping_add(7);
    }
    AuthKey::from_bytes(k)
}

/// Turns fuzz bytes into packets for a session receiving from `from`. Each record is a control
/// byte then a length byte then that many bytes: control bit 0 set = the bytes are a raw packet
/// (exercises auth_key_id, msg_key and length checks); clear = they are a message body, with a
/// header taken from the control byte, encrypted with the right key so the decrypted-side
/// parsing (msg_id window, seq_no, containers, gzip, service messages) is reached.
fn packets(data: &[u8], from: Side, key: &AuthKey) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut rest = data;
    let mut rng = StdRng::seed_from_u64(0);
    let mut n = 0i64;
    while let [ctl, len, tail @ ..] = rest {
        let len = (*len as usize * 8).min(tail.len());
        let (chunk, after) = tail.split_at(len);
        rest = after;
        n += 1;
        if ctl & 1 == 1 {
            out.push(chunk.to_vec());
            continue;
        }
        let mut body = chunk.to_vec();
        body.truncate(body.len() / 4 * 4);
        if body.is_empty() {
            continue;
        }
        // msg_id: time-based around NOW, with the low bits the sender's role requires unless
        // the control byte asks for a bad one; occasionally far in the past or future.
        let skew = match ctl >> 5 {
            0 => -400,
            1 => 400,
            _ => 0,
        };
        let secs = NOW.as_secs() as i64 + skew;
        let low = if ctl & 2 == 0 {
            match from {
                Side::Client => 0,
                Side::Server => 1,
            }
        } else {
            i64::from(ctl >> 2 & 3)
        };
        let msg_id = (secs << 32) | (n << 4) | low;
        let seq_no = i32::from(ctl >> 3 & 3) + 2 * n as i32;
        let session_id = if ctl & 0x10 == 0 { SESSION_ID } else { !SESSION_ID };
        let mut packet = Vec::new();
        if wire::encrypt(key, from, SALT, session_id, msg_id, seq_no, &body, &mut rng, &mut packet)
            .is_ok()
        {
            out.push(packet);
        }
    }
    out
}

/// Our server session fed fuzzed client packets: errors are fine, panics are not, and every
/// answer it queues must encrypt.
pub fn session_server(data: &[u8]) {
    let key = fuzz_key();
    let mut s = ServerSession::new(
        ServerSessionConfig {
            auth_key: key.clone(),
            salts: SaltSchedule::new(3600, 1),
        },
        Box::new(StdRng::seed_from_u64(1)),
    );
    let mut out = Vec::new();
    for (i, p) in packets(data, Side::Client, &key).into_iter().enumerate() {
        let now = NOW + Duration::from_millis(i as u64);
        let _ = s.handle_input(bytes::BytesMut::from(&p[..]), now);
        while let Some(ev) = s.poll_event() {
            if let tgmux::mtproto::session::Event::Request { msg_id, .. } = ev {
                s.respond(msg_id, bytes::Bytes::from_static(&[1, 2, 3, 4]), i % 2 == 0);
            }
        }
        out.clear();
        while s.poll_transmit(now, &mut out) {}
        if let Some(t) = s.poll_timeout() {
            s.handle_timeout(t);
        }
    }
}

/// Our client session, with a few requests in flight, fed fuzzed server packets.
pub fn session_client(data: &[u8]) {
    let key = fuzz_key();
    let mut c = ClientSession::new(
        ClientSessionConfig {
            auth_key: key.clone(),
            session_id: SESSION_ID,
            server_salt: SALT,
            time_offset: 0,
        },
        Box::new(StdRng::seed_from_u64(2)),
    );
    for i in 0..3u32 {
        let _ = c.request(i.to_le_bytes().repeat(2));
    }
    c.ping(7);
    let mut out = Vec::new();
    while c.poll_transmit(NOW, &mut out) {}
    for (i, p) in packets(data, Side::Server, &key).into_iter().enumerate() {
        let now = NOW + Duration::from_millis(i as u64);
        let _ = c.handle_input(bytes::BytesMut::from(&p[..]), now);
        while c.poll_event().is_some() {}
        out.clear();
        while c.poll_transmit(now, &mut out) {}
        if let Some(t) = c.poll_timeout() {
            c.handle_timeout(t);
        }
    }
}

// ---- the auth-key exchange: handshake messages from a hostile peer ----

fn server_config() -> Arc<auth::server::ServerConfig> {
    static CONFIG: OnceLock<Arc<auth::server::ServerConfig>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let key = RsaPrivateKey::generate(2048, &mut StdRng::seed_from_u64(0xf022))
                .expect("seeded RSA key");
            Arc::new(auth::server::ServerConfig { keys: vec![key] })
        })
        .clone()
}

/// Splits fuzz bytes into up to three messages (u16 little-endian length prefixes).
fn messages(data: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut rest = data;
    while out.len() < 3 {
        let [a, b, tail @ ..] = rest else { break };
        let len = (usize::from(*a) | usize::from(*b) << 8).min(tail.len());
        out.push(&tail[..len]);
        rest = &tail[len..];
    }
    out
}

/// The server side of the exchange fed hostile req_pq / req_DH_params / set_client_DH_params
/// bodies (the first is usually a real req_pq_multi so the later steps are reached).
pub fn auth_server(data: &[u8]) {
    let msgs = messages(data);
    let mut rng = StdRng::seed_from_u64(3);
    let first: Vec<u8> = match msgs.first() {
        Some(m) if m.first() == Some(&0) => {
            tgmux::tl::functions::ReqPqMulti { nonce: [9; 16] }.to_bytes()
        }
        Some(m) => m.to_vec(),
        None => return,
    };
    let Ok((_, s)) = auth::server::start(server_config()).handle(&first, &mut rng) else {
        return;
    };
    let Some(m) = msgs.get(1) else { return };
    let Ok((_, s)) = s.handle(m, 1_700_000_000, &mut rng) else {
        return;
    };
    let Some(m) = msgs.get(2) else { return };
    let _ = s.handle(m, |_| false);
}

/// The client side fed hostile resPQ / server_DH_params / dh_gen answers.
pub fn auth_client(data: &[u8]) {
    let msgs = messages(data);
    let mut rng = StdRng::seed_from_u64(4);
    let config = auth::client::ClientConfig {
        keys: vec![server_config().keys[0].public_key().clone()],
        dc: Some(2),
        temp_expires_in: None,
    };
    let (_, s) = auth::client::start(config, &mut rng);
    let Some(m) = msgs.first() else { return };
    let Ok((_, s)) = s.handle(m, &mut rng) else {
        return;
    };
    let Some(m) = msgs.get(1) else { return };
    let Ok((_, s)) = s.handle(m, 1_700_000_000, &mut rng) else {
        return;
    };
    let Some(m) = msgs.get(2) else { return };
    let _ = s.handle(m, &mut rng);
}

/// Largest object `tl_decode` builds from a nesting recipe: one message body.
const MAX_NESTED: usize = (1 << 20) + 64 * 1024;

/// Any bytes through the generated TL decoder (every constructor of layer 227) and the
/// hand-written service objects: typed errors only, never a panic, a stack overflow or an
/// allocation beyond the input.
///
/// An input starting with 0xff is a nesting recipe instead, so that hostile depths (tens of
/// thousands of levels, far past the fuzzer's input cap) are reached from a few bytes: a
/// little-endian u16 repeat count, a length byte, that many bytes of prefix, and the rest as
/// suffix; the object decoded is prefix × count + suffix (at most one message body).
pub fn tl_decode(data: &[u8]) {
    let bytes = match data {
        [0xff, lo, hi, len, rest @ ..] => {
            let count = usize::from(u16::from_le_bytes([*lo, *hi]));
            let (prefix, suffix) = rest.split_at(usize::from(*len).min(rest.len()));
            let count = count.min(MAX_NESTED / prefix.len().max(1));
            let mut nested = prefix.repeat(count);
            nested.extend_from_slice(suffix);
            bytes::Bytes::from(nested)
        }
        _ => bytes::Bytes::copy_from_slice(data),
    };
    let _ = tgmux::tl::decode_any(bytes.clone());
    let _ = <tgmux::tl::service::MsgContainer as tgmux::tl::Deserializable>::from_bytes(bytes.clone());
    if let Ok(g) = <tgmux::tl::service::GzipPacked as tgmux::tl::Deserializable>::from_bytes(bytes) {
        let _ = g.unpack(1 << 20);
    }
}

/// Any bytes as an embedded store file (`tgmux::store::file::replay`) and as one change
/// record: typed errors only, never a panic; whatever replays re-encodes to the same changes.
pub fn store_file(data: &[u8]) {
    use tgmux::store::Change;
    let _ = Change::decode(data);
    if let Ok(r) = tgmux::store::file::replay(data) {
        assert!(r.good_len <= data.len() as u64);
        for c in r.maps.live(0) {
            assert_eq!(Change::decode(&c.encode()).as_ref(), Ok(&c));
        }
    }
}

/// Any bytes as an RSA private key: as PEM text, and as the DER body of a PKCS#8 and a PKCS#1
/// PEM block (so the DER readers see arbitrary bytes): typed errors only, never a panic.
pub fn rsa_pem(data: &[u8]) {
    use tgmux::crypto::RsaPrivateKey;
    let _ = RsaPrivateKey::from_pem(&String::from_utf8_lossy(data));
    let body = tgmux::crypto::rsa::base64_encode(data);
    for label in ["PRIVATE KEY", "RSA PRIVATE KEY"] {
        let pem = format!("-----BEGIN {label}-----\n{body}\n-----END {label}-----\n");
        let _ = RsaPrivateKey::from_pem(&pem);
    }
}

/// RFC 9110 range and conditional evaluation (`tgmux::serve::range`). Bytes 0..8: the
/// representation size (u64 LE); the rest: Range, If-Range, If-None-Match, If-Match,
/// If-Modified-Since and If-Unmodified-Since, separated by `\n` (empty = absent).
/// Properties: every range lies inside the representation, ranges never overlap, at most
/// `MAX_PARTS` of them, and a 206 only for a non-empty representation.
pub fn http_range(data: &[u8]) {
    use std::time::{Duration, UNIX_EPOCH};
    use tgmux::serve::range::{evaluate, parse_range, ByteRange, Conditions, Outcome, RangeSet, Validators, MAX_PARTS};
    let Some((size, rest)) = data.split_first_chunk::<8>() else {
        return;
    };
    // Small sizes are the interesting ones more often than not.
    let size = match size[0] & 3 {
        0 => u64::from_le_bytes(*size),
        _ => u64::from_le_bytes(*size) % 100_000,
    };
    let fields: Vec<&[u8]> = rest.splitn(6, |&b| b == b'\n').collect();
    let field = |i: usize| fields.get(i).copied().filter(|f| !f.is_empty());
    let check = |ranges: &[ByteRange]| {
        assert!(!ranges.is_empty() && ranges.len() <= MAX_PARTS);
        for (i, r) in ranges.iter().enumerate() {
            assert!(r.start <= r.end && r.end < size, "{r:?} of {size}");
            for o in &ranges[i + 1..] {
                assert!(r.end < o.start || o.end < r.start, "{r:?} overlaps {o:?}");
            }
        }
    };
    let c = Conditions {
        range: field(0),
        if_range: field(1),
        if_none_match: field(2),
        if_match: field(3),
        if_modified_since: field(4),
        if_unmodified_since: field(5),
    };
    let v = Validators {
        etag: "\"00000000000000ab-1f\"",
        last_modified: Some(UNIX_EPOCH + Duration::from_secs(784_111_777)),
    };
    if let Outcome::Partial(r) = evaluate(&c, &v, size) {
        assert!(size > 0);
        check(&r);
    }
    if let (Some(r), true) = (field(0), size > 0) {
        if let RangeSet::Ranges(r) = parse_range(r, size) {
            check(&r);
        }
    }
}

/// The URL contract and the signed-link check (`tgmux::serve::{route, auth}`): the input is
/// `<path>[?<query>]` then, after a `\n`, an Authorization value. Properties: a parsed
/// document link prints a path that parses back to it; a link we sign is accepted until it
/// expires; one flipped bit of the signature is refused.
pub fn http_link(data: &[u8]) {
    use tgmux::serve::auth::{Access, Credentials};
    use tgmux::serve::route;
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let (target, authorization) = s.split_once('\n').unwrap_or((s, ""));
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (target, None),
    };
    let Ok((r, q)) = route::parse(path, query) else {
        return;
    };
    let access = Access::new(Some("token"), Some(b"key"));
    let doc_path = r.link().map(|l| l.path());
    let creds = Credentials {
        authorization: Some(authorization.as_bytes()),
        token: q.token.as_deref(),
        signed: q.signed,
    };
    let _ = access.check(&creds, path, doc_path.as_deref(), 1_000);
    let Some(link) = r.link() else {
        return;
    };
    let p = link.path();
    let (again, _) = route::parse(&p, None).expect("a link's own path parses");
    assert_eq!(again.link(), Some(link));
    let sig = access.sign(&p, 2_000).expect("a key is set");
    let signed = |sig, now| {
        let c = Credentials {
            signed: Some((2_000, sig)),
            ..Credentials::default()
        };
        access.check(&c, path, Some(&p), now)
    };
    assert!(signed(sig, 2_000).is_ok());
    assert!(signed(sig, 2_001).is_err());
    let mut bad = sig;
    bad[data.len() % 32] ^= 1 << (data.len() % 8);
    assert!(signed(bad, 1_000).is_err());
}

/// The fragmented-MP4 reader behind the HLS plan (`tgmux::serve::fmp4`). Properties: the
/// init segment, fragments and text samples it reports lie inside the input, fragments in
/// order and apart.
pub fn fmp4_read(data: &[u8]) {
    let Ok(layout) = tgmux::serve::fmp4::parse(data) else {
        return;
    };
    assert!(layout.init_end <= data.len());
    let mut at = layout.init_end;
    for f in &layout.fragments {
        assert!(at <= f.bytes.start && f.bytes.start < f.bytes.end && f.bytes.end <= data.len());
        at = f.bytes.end;
        for s in f.runs.iter().flat_map(|r| r.text.iter()) {
            assert!(s.bytes.start <= s.bytes.end && s.bytes.end <= data.len());
        }
    }
}
