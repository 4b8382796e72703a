//! Transports against oracles we did not write:
//! - grammers-mtproto 0.7 frames (abridged, intermediate, full): theirs decoded by ours, ours
//!   decoded by theirs, in both roles;
//! - gotd's MTProxy obfuscated2 vectors (`mtproxy/obfuscated2/obfuscated2_test.go`): init
//!   header, first encrypted and decrypted bytes with a secret;
//! - obfuscated2 both ways against an independent implementation of the spec written here
//!   with the `ctr`/`sha2` crates directly (grammers-mtproto 0.7 has no obfuscated transport).

use aes::Aes256;
use ctr::cipher::{KeyIvInit, StreamCipher};
use grammers_crypto::DequeBuffer;
use grammers_mtproto::transport::{self as theirs};
use hex_literal::hex;
use rand::rngs::StdRng;
use rand::{Rng, RngCore, SeedableRng};
use sha2::{Digest, Sha256};
use tgmux::mtproto::transport::{
    ClientConfig, Codec, Frame, Kind, Obfuscation, ProxySecret, ServerConfig,
};

type Ctr = ctr::Ctr128BE<Aes256>;

const SIZES: [usize; 5] = [8, 504, 508, 1 << 20, 40];

/// A test payload. Its first int32 is kept non-negative: grammers' abridged reads any
/// short frame starting with a negative int32 as a transport error.
fn payload(len: usize, seed: u8) -> Vec<u8> {
    let mut p: Vec<u8> = (0..len)
        .map(|i| (i as u8).wrapping_mul(13) ^ seed)
        .collect();
    if len >= 4 {
        p[3] &= 0x7f;
    }
    p
}

fn grammers(kind: Kind) -> Box<dyn theirs::Transport> {
    match kind {
        Kind::Abridged => Box::new(theirs::Abridged::new()),
        Kind::Intermediate | Kind::PaddedIntermediate => Box::new(theirs::Intermediate::new()),
        Kind::Full => Box::new(theirs::Full::new()),
    }
}

/// Frames `payloads` with grammers; with `strip_header`, drops the header their first
/// frame carries (for a stream whose header was already sent, or inside obfuscated2).
fn their_pack(kind: Kind, payloads: &[Vec<u8>], strip_header: bool) -> Vec<u8> {
    let mut t = grammers(kind);
    let mut wire = Vec::new();
    for (i, p) in payloads.iter().enumerate() {
        let mut buf = DequeBuffer::with_capacity(p.len(), 8);
        buf.extend(p.iter());
        t.pack(&mut buf);
        let skip = if i == 0 && strip_header {
            kind.plain_header().len()
        } else {
            0
        };
        wire.extend_from_slice(&buf[skip..]);
    }
    wire
}

/// Unframes a whole stream (no header) with grammers.
fn their_unpack(kind: Kind, mut wire: &[u8]) -> Vec<Vec<u8>> {
    let mut t = grammers(kind);
    let mut out = Vec::new();
    while !wire.is_empty() {
        let o = t.unpack(wire).expect("grammers accepts our frames");
        out.push(wire[o.data_start..o.data_end].to_vec());
        wire = &wire[o.next_offset..];
    }
    out
}

fn our_receive(codec: &mut Codec, wire: &[u8], rng: &mut StdRng) -> Vec<Frame> {
    let mut frames = Vec::new();
    let mut at = 0;
    while at < wire.len() {
        let next = (at + rng.gen_range(1..70_000)).min(wire.len());
        codec.push(&wire[at..next]);
        at = next;
        while let Some(f) = codec.poll_frame().expect("valid stream") {
            frames.push(f);
        }
    }
    frames
}

fn payloads_of(frames: &[Frame]) -> Vec<Vec<u8>> {
    frames
        .iter()
        .map(|f| match f {
            Frame::Payload(p) => p.to_vec(),
            other => panic!("expected a payload, got {other:?}"),
        })
        .collect()
}

fn plain(kind: Kind) -> ClientConfig {
    ClientConfig {
        kind,
        obfuscation: None,
    }
}

#[test]
fn grammers_frames_decode_with_ours_both_roles() {
    let mut rng = StdRng::seed_from_u64(1);
    for kind in [Kind::Abridged, Kind::Intermediate, Kind::Full] {
        let payloads: Vec<Vec<u8>> = SIZES.iter().map(|&n| payload(n, n as u8)).collect();
        // Their client stream (with header) to our autodetecting server.
        let wire = their_pack(kind, &payloads, false);
        let mut server = Codec::server(&ServerConfig::default());
        let frames = our_receive(&mut server, &wire, &mut rng);
        assert_eq!(server.kind(), Some(kind));
        assert_eq!(payloads_of(&frames), payloads, "{kind:?}");
        // The same frames as a server stream (no header) to our client.
        let wire = their_pack(kind, &payloads, true);
        let mut client = Codec::client(&plain(kind), &mut rng).unwrap();
        let frames = our_receive(&mut client, &wire, &mut rng);
        assert_eq!(payloads_of(&frames), payloads, "{kind:?}");
    }
}

#[test]
fn our_frames_decode_with_grammers_both_roles() {
    let mut rng = StdRng::seed_from_u64(2);
    for kind in [
        Kind::Abridged,
        Kind::Intermediate,
        Kind::PaddedIntermediate,
        Kind::Full,
    ] {
        let payloads: Vec<Vec<u8>> = SIZES.iter().map(|&n| payload(n, 3 * n as u8)).collect();
        let mut client = Codec::client(&plain(kind), &mut rng).unwrap();
        let mut up = Vec::new();
        for p in &payloads {
            client.encode(p, &mut rng, &mut up).unwrap();
        }
        let header = kind.plain_header();
        assert_eq!(&up[..header.len()], header);
        let mut server = Codec::server(&ServerConfig::default());
        server.push(&up);
        while server.poll_frame().unwrap().is_some() {}
        let mut down = Vec::new();
        for p in &payloads {
            server.encode(p, &mut rng, &mut down).unwrap();
        }
        for wire in [&up[header.len()..], &down[..]] {
            let got = their_unpack(kind, wire);
            assert_eq!(got.len(), payloads.len());
            for (g, p) in got.iter().zip(&payloads) {
                if kind == Kind::PaddedIntermediate {
                    // grammers has no padded transport; its intermediate reads our frames
                    // with the padding included.
                    assert!(g.len() - p.len() <= 15);
                    assert_eq!(&g[..p.len()], &p[..]);
                } else {
                    assert_eq!(g, p, "{kind:?}");
                }
            }
        }
    }
}

#[test]
fn transport_errors_match_grammers() {
    let mut rng = StdRng::seed_from_u64(3);
    // Our server's error frames read by grammers' abridged and intermediate as status 404.
    for kind in [Kind::Abridged, Kind::Intermediate] {
        let mut server = Codec::server(&ServerConfig::default());
        server.push(kind.plain_header());
        assert_eq!(server.poll_frame(), Ok(None));
        let mut wire = Vec::new();
        server.encode_transport_error(-404, &mut wire).unwrap();
        assert_eq!(
            grammers(kind).unpack(&wire),
            Err(theirs::Error::BadStatus { status: 404 })
        );
    }
    // grammers' full transport reads a bare negative length as the error; so do we.
    let mut client = Codec::client(&plain(Kind::Full), &mut rng).unwrap();
    let bare = (-429i32).to_le_bytes();
    assert_eq!(
        grammers(Kind::Full).unpack(&bare),
        Err(theirs::Error::BadStatus { status: 429 })
    );
    client.push(&bare);
    assert_eq!(client.poll_frame(), Ok(Some(Frame::TransportError(-429))));
}

#[test]
fn grammers_bad_seq_and_crc_vectors() {
    // grammers' full-transport test vectors: 128 bytes 0..127, CRCs of frames seq 0 and 1.
    let p: Vec<u8> = (0..128).collect();
    let mut rng = StdRng::seed_from_u64(4);
    let mut client = Codec::client(&plain(Kind::Full), &mut rng).unwrap();
    let mut out = Vec::new();
    client.encode(&p, &mut rng, &mut out).unwrap();
    assert_eq!(&out[..8], &[140, 0, 0, 0, 0, 0, 0, 0]);
    assert_eq!(&out[136..], &[134, 115, 149, 55]);
    out.clear();
    client.encode(&p, &mut rng, &mut out).unwrap();
    assert_eq!(&out[4..8], &[1, 0, 0, 0]);
    assert_eq!(&out[136..], &[150, 9, 240, 74]);
}

// ---- obfuscated2: gotd vectors ----

/// Yields the scripted bytes, then zeros.
struct Script(Vec<u8>);

impl RngCore for Script {
    fn next_u32(&mut self) -> u32 {
        let mut b = [0; 4];
        self.fill_bytes(&mut b);
        u32::from_le_bytes(b)
    }
    fn next_u64(&mut self) -> u64 {
        let mut b = [0; 8];
        self.fill_bytes(&mut b);
        u64::from_le_bytes(b)
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for d in dest {
            *d = if self.0.is_empty() {
                0
            } else {
                self.0.remove(0)
            };
        }
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

fn padded_obfuscated(secret: [u8; 16]) -> ClientConfig {
    ClientConfig {
        kind: Kind::PaddedIntermediate,
        obfuscation: Some(Obfuscation {
            dc_id: 2,
            secret: Some(ProxySecret::new(secret)),
        }),
    }
}

#[test]
fn gotd_vector_generate_keys_all_a() {
    // Test_generateKeys: random source all 'a', protocol dddddddd, secret 16 × 0xaa, DC 2.
    let config = padded_obfuscated([0xaa; 16]);
    let mut rng = Script(vec![b'a'; 64]);
    let mut client = Codec::client(&config, &mut rng).unwrap();
    let mut out = Vec::new();
    client.encode(&[0; 4], &mut rng, &mut out).unwrap();
    let mut expected = [b'a'; 64];
    expected[56..].copy_from_slice(&[171, 65, 98, 66, 79, 102, 253, 220]);
    assert_eq!(out[..64], expected);
    // The independent implementation agrees.
    let (header, _) = spec_client(&[b'a'; 64], [0xdd; 4], 2, Some(&[0xaa; 16]));
    assert_eq!(header, expected);
}

#[test]
fn gotd_vector_encrypt_and_decrypt() {
    // TestEncrypt: secret 8a96ef6e42a18c21837580cd1c91c5a8, the given random bytes.
    let secret = hex!("8a96ef6e42a18c21837580cd1c91c5a8");
    let random: [u8; 64] = [
        245, 118, 143, 80, 183, 49, 38, 10, 70, 190, 16, 39, 194, 238, 170, 57, 53, 6, 36, 240,
        182, 218, 89, 235, 165, 108, 129, 254, 69, 16, 194, 224, 182, 29, 61, 211, 35, 238, 2, 56,
        134, 51, 227, 131, 122, 12, 28, 36, 250, 111, 41, 204, 215, 36, 190, 111, 65, 111, 247,
        176, 38, 246, 204, 230,
    ];
    let mut expected = random;
    expected[56..].copy_from_slice(&[190, 162, 221, 225, 109, 197, 157, 210]);
    let config = padded_obfuscated(secret);
    // After the init, `next_u32` reads zeros: no padding.
    let mut rng = Script(random.to_vec());
    let mut client = Codec::client(&config, &mut rng).unwrap();
    let mut out = Vec::new();
    client.encode(&[1, 2, 3, 4], &mut rng, &mut out).unwrap();
    assert_eq!(out[..64], expected);
    // gotd: the client stream turns "abcd" right after the init into ca 7a 82 26, so its
    // keystream there is their XOR; our first encrypted bytes are the length field 4.
    let keystream: Vec<u8> = b"abcd"
        .iter()
        .zip([202u8, 122, 130, 38])
        .map(|(a, b)| a ^ b)
        .collect();
    let length_field = [4u8, 0, 0, 0];
    let want: Vec<u8> = length_field
        .iter()
        .zip(&keystream)
        .map(|(a, b)| a ^ b)
        .collect();
    assert_eq!(&out[64..68], &want[..]);
    // gotd: the receive stream turns "abcd" into 8f 71 19 82. Feed our client the bytes
    // that decrypt to a quick-ack word 0x80000004 and read it back.
    let rx_keystream: Vec<u8> = b"abcd"
        .iter()
        .zip([143u8, 113, 25, 130])
        .map(|(a, b)| a ^ b)
        .collect();
    let word = 0x8000_0004u32.to_le_bytes();
    let wire: Vec<u8> = word.iter().zip(&rx_keystream).map(|(a, b)| a ^ b).collect();
    client.push(&wire);
    assert_eq!(client.poll_frame(), Ok(Some(Frame::QuickAck(0x8000_0004))));
    // Our server with the same secret accepts gotd's init: padded intermediate, DC 2.
    let mut server = Codec::server(&ServerConfig {
        secret: Some(ProxySecret::new(secret)),
    });
    server.push(&out);
    assert_eq!(
        server.poll_frame(),
        Ok(Some(Frame::Payload(bytes::BytesMut::from(
            &[1u8, 2, 3, 4][..]
        ))))
    );
    assert_eq!(server.kind(), Some(Kind::PaddedIntermediate));
    assert_eq!(server.dc_id(), Some(2));
    // The independent implementation reproduces the vector too.
    let (header, _) = spec_client(&random, [0xdd; 4], 2, Some(&secret));
    assert_eq!(header, expected);
}

// ---- obfuscated2: an independent implementation from the spec ----

/// The stream for a 48-byte key‖IV, with the secret hashed into the key.
fn spec_stream(key_iv: &[u8], secret: Option<&[u8; 16]>) -> Ctr {
    let key: [u8; 32] = match secret {
        Some(s) => Sha256::new()
            .chain_update(&key_iv[..32])
            .chain_update(s)
            .finalize()
            .into(),
        None => key_iv[..32].try_into().unwrap(),
    };
    let iv: [u8; 16] = key_iv[32..48].try_into().unwrap();
    Ctr::new(&key.into(), &iv.into())
}

/// Client→server and server→client streams of an init, per the spec.
fn spec_streams(init: &[u8], secret: Option<&[u8; 16]>) -> (Ctr, Ctr) {
    let reversed: Vec<u8> = init[8..56].iter().rev().copied().collect();
    (
        spec_stream(&init[8..56], secret),
        spec_stream(&reversed, secret),
    )
}

/// A spec client: the header to send, and (send stream, receive stream).
fn spec_client(
    random: &[u8; 64],
    tag: [u8; 4],
    dc: i16,
    secret: Option<&[u8; 16]>,
) -> ([u8; 64], (Ctr, Ctr)) {
    let mut init = *random;
    init[56..60].copy_from_slice(&tag);
    init[60..62].copy_from_slice(&dc.to_le_bytes());
    let (mut send, recv) = spec_streams(&init, secret);
    let mut enc = init;
    send.apply_keystream(&mut enc);
    let mut header = init;
    header[56..].copy_from_slice(&enc[56..]);
    (header, (send, recv))
}

/// A spec server: tag, DC id, (receive stream, send stream).
fn spec_server(header: &[u8], secret: Option<&[u8; 16]>) -> ([u8; 4], i16, (Ctr, Ctr)) {
    let (mut recv, send) = spec_streams(&header[..64], secret);
    let mut plain = [0u8; 64];
    plain.copy_from_slice(&header[..64]);
    recv.apply_keystream(&mut plain);
    (
        plain[56..60].try_into().unwrap(),
        i16::from_le_bytes([plain[60], plain[61]]),
        (recv, send),
    )
}

/// Frames for the spec side: grammers for abridged/intermediate, by hand for padded.
fn spec_frames(kind: Kind, payloads: &[Vec<u8>]) -> Vec<u8> {
    if kind == Kind::PaddedIntermediate {
        let mut wire = Vec::new();
        for (i, p) in payloads.iter().enumerate() {
            let pad = i % 16;
            wire.extend_from_slice(&((p.len() + pad) as u32).to_le_bytes());
            wire.extend_from_slice(p);
            wire.extend(std::iter::repeat_n(0x55, pad));
        }
        wire
    } else {
        their_pack(kind, payloads, true)
    }
}

fn check_payloads(kind: Kind, got: &[Vec<u8>], want: &[Vec<u8>]) {
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(want) {
        if kind == Kind::PaddedIntermediate {
            assert!(g.len() - w.len() <= 15);
            assert_eq!(&g[..w.len()], &w[..]);
        } else {
            assert_eq!(g, w, "{kind:?}");
        }
    }
}

#[test]
fn obfuscated_spec_client_to_our_server_and_back() {
    let mut rng = StdRng::seed_from_u64(5);
    for kind in [Kind::Abridged, Kind::Intermediate, Kind::PaddedIntermediate] {
        for secret in [None, Some([0x3c; 16])] {
            let payloads: Vec<Vec<u8>> = SIZES.iter().map(|&n| payload(n, 7)).collect();
            let mut random = [0u8; 64];
            rng.fill_bytes(&mut random);
            random[0] = 0x11; // a valid init (not ef, not a forbidden word, 4..8 non-zero)
            random[4] = 0x22;
            let tag = kind.obfuscated_tag().unwrap();
            let (header, (mut send, mut recv)) = spec_client(&random, tag, -3, secret.as_ref());
            let mut body = spec_frames(kind, &payloads);
            send.apply_keystream(&mut body);
            let mut wire = header.to_vec();
            wire.extend(body);

            let mut server = Codec::server(&ServerConfig {
                secret: secret.map(ProxySecret::new),
            });
            let frames = our_receive(&mut server, &wire, &mut rng);
            assert_eq!(server.kind(), Some(kind));
            assert_eq!(server.dc_id(), Some(-3));
            check_payloads(kind, &payloads_of(&frames), &payloads);

            // Our server's answers, decrypted by the spec client, unframed by grammers.
            let mut down = Vec::new();
            for p in &payloads {
                server.encode(p, &mut rng, &mut down).unwrap();
            }
            recv.apply_keystream(&mut down);
            check_payloads(kind, &their_unpack(kind, &down), &payloads);
        }
    }
}

#[test]
fn our_obfuscated_client_to_spec_server_and_back() {
    let mut rng = StdRng::seed_from_u64(6);
    for kind in [Kind::Abridged, Kind::Intermediate, Kind::PaddedIntermediate] {
        for secret in [None, Some([0xc3; 16])] {
            let payloads: Vec<Vec<u8>> = SIZES.iter().map(|&n| payload(n, 9)).collect();
            let config = ClientConfig {
                kind,
                obfuscation: Some(Obfuscation {
                    dc_id: 10002,
                    secret: secret.map(ProxySecret::new),
                }),
            };
            let mut client = Codec::client(&config, &mut rng).unwrap();
            let mut up = Vec::new();
            for p in &payloads {
                client.encode(p, &mut rng, &mut up).unwrap();
            }
            let (tag, dc, (mut recv, mut send)) = spec_server(&up, secret.as_ref());
            assert_eq!(tag, kind.obfuscated_tag().unwrap());
            assert_eq!(dc, 10002);
            let mut body = up[64..].to_vec();
            recv.apply_keystream(&mut body);
            check_payloads(kind, &their_unpack(kind, &body), &payloads);

            // The spec server answers with grammers frames; our client reads them.
            let mut down = spec_frames(kind, &payloads);
            send.apply_keystream(&mut down);
            let frames = our_receive(&mut client, &down, &mut rng);
            check_payloads(kind, &payloads_of(&frames), &payloads);
        }
    }
}
