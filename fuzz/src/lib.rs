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
