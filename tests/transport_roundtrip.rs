//! Transport round trips (every kind, both roles, both directions, arbitrary chunking),
//! byte-exact framings, the server's autodetection, and one negative test per error.

use bytes::{Bytes, BytesMut};
use rand::rngs::StdRng;
use rand::{Rng, RngCore, SeedableRng};
use tgmux::mtproto::transport::{
    ClientConfig, Codec, Frame, Kind, Obfuscation, ProxySecret, ServerConfig, TransportError,
    MAX_FRAME_LEN,
};

const KINDS: [Kind; 4] = [
    Kind::Abridged,
    Kind::Intermediate,
    Kind::PaddedIntermediate,
    Kind::Full,
];

/// Every client configuration: the four plain kinds, obfuscated2 around each of the three
/// taggable ones, with and without an MTProxy secret.
fn all_configs() -> Vec<ClientConfig> {
    let mut configs: Vec<ClientConfig> = KINDS
        .iter()
        .map(|&kind| ClientConfig {
            kind,
            obfuscation: None,
        })
        .collect();
    for kind in [Kind::Abridged, Kind::Intermediate, Kind::PaddedIntermediate] {
        for secret in [None, Some(ProxySecret::new([0x5a; 16]))] {
            configs.push(ClientConfig {
                kind,
                obfuscation: Some(Obfuscation { dc_id: -2, secret }),
            });
        }
    }
    configs
}

fn server_config(client: &ClientConfig) -> ServerConfig {
    ServerConfig {
        secret: client.obfuscation.as_ref().and_then(|o| o.secret.clone()),
    }
}

fn payload(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

/// Pushes `bytes` cut at the given positions and polls after every chunk.
fn receive(codec: &mut Codec, bytes: &[u8], cuts: &[usize]) -> Vec<Frame> {
    let mut frames = Vec::new();
    let mut at = 0;
    for &cut in cuts.iter().chain(std::iter::once(&bytes.len())) {
        codec.push(&bytes[at..cut]);
        at = cut;
        while let Some(frame) = codec.poll_frame().expect("valid stream") {
            frames.push(frame);
        }
    }
    frames
}

/// Payload of a frame; for padded intermediate, checks and strips the 0..15 padding bytes.
fn payload_of(frame: &Frame, kind: Kind, expected_len: usize) -> Bytes {
    let Frame::Payload(p) = frame else {
        panic!("expected a payload, got {frame:?}")
    };
    if kind == Kind::PaddedIntermediate {
        assert!(p.len() >= expected_len && p.len() <= expected_len + 15);
        Bytes::copy_from_slice(&p[..expected_len])
    } else {
        Bytes::copy_from_slice(p)
    }
}

/// A deterministic client/server pair that has completed detection (one frame client to
/// server), plus the wire bytes of that first frame.
fn connected(config: &ClientConfig, seed: u64) -> (Codec, Codec, StdRng) {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut client = Codec::client(config, &mut rng).unwrap();
    let mut server = Codec::server(&server_config(config));
    let mut wire = Vec::new();
    client.encode(&payload(24, 9), &mut rng, &mut wire).unwrap();
    let frames = receive(&mut server, &wire, &[]);
    assert_eq!(frames.len(), 1);
    assert_eq!(server.kind(), Some(config.kind));
    (client, server, rng)
}

#[test]
fn small_frames_survive_every_split_point_both_directions() {
    let sizes = [4usize, 8, 24, 504, 508, 512];
    for config in all_configs() {
        // Client to server, including the header/init, split at every byte.
        let mut rng = StdRng::seed_from_u64(1);
        let mut wire = Vec::new();
        {
            let mut client = Codec::client(&config, &mut rng).unwrap();
            for (i, &n) in sizes.iter().enumerate() {
                client
                    .encode(&payload(n, i as u8), &mut rng, &mut wire)
                    .unwrap();
            }
        }
        for cut in 0..=wire.len() {
            let mut server = Codec::server(&server_config(&config));
            let frames = receive(&mut server, &wire, &[cut]);
            assert_eq!(frames.len(), sizes.len(), "{config:?} cut {cut}");
            for (i, (frame, &n)) in frames.iter().zip(&sizes).enumerate() {
                assert_eq!(payload_of(frame, config.kind, n), payload(n, i as u8));
            }
            assert_eq!(server.buffered_len(), 0);
            assert_eq!(server.is_obfuscated(), Some(config.obfuscation.is_some()));
            assert_eq!(server.dc_id(), config.obfuscation.as_ref().map(|o| o.dc_id));
        }

        // Server to client, split at every byte.
        let (_, mut server, mut rng) = connected(&config, 2);
        let mut wire = Vec::new();
        for (i, &n) in sizes.iter().enumerate() {
            server
                .encode(&payload(n, i as u8), &mut rng, &mut wire)
                .unwrap();
        }
        for cut in 0..=wire.len() {
            let (mut client, _, _) = connected(&config, 2);
            let frames = receive(&mut client, &wire, &[cut]);
            assert_eq!(frames.len(), sizes.len(), "{config:?} cut {cut}");
            for (i, (frame, &n)) in frames.iter().zip(&sizes).enumerate() {
                assert_eq!(payload_of(frame, config.kind, n), payload(n, i as u8));
            }
        }
    }
}

#[test]
fn large_frames_in_random_chunks_both_directions() {
    let sizes = [1 << 20, 4, 100_000, 1 << 20];
    for config in all_configs() {
        let (mut client, mut server, mut rng) = connected(&config, 3);
        for round in 0..2u8 {
            let mut up = Vec::new();
            let mut down = Vec::new();
            for (i, &n) in sizes.iter().enumerate() {
                client
                    .encode(&payload(n, round + i as u8), &mut rng, &mut up)
                    .unwrap();
                server
                    .encode(&payload(n, round ^ i as u8), &mut rng, &mut down)
                    .unwrap();
            }
            for (wire, to, xor) in [(&up, &mut server, false), (&down, &mut client, true)] {
                let mut cuts: Vec<usize> = (0..20).map(|_| rng.gen_range(0..=wire.len())).collect();
                cuts.sort_unstable();
                let frames = receive(to, wire, &cuts);
                assert_eq!(frames.len(), sizes.len(), "{config:?}");
                for (i, (frame, &n)) in frames.iter().zip(&sizes).enumerate() {
                    let seed = if xor {
                        round ^ i as u8
                    } else {
                        round + i as u8
                    };
                    assert_eq!(payload_of(frame, config.kind, n), payload(n, seed));
                }
            }
        }
    }
}

#[test]
fn transport_errors_are_values_both_ways() {
    for config in all_configs() {
        let (mut client, mut server, _) = connected(&config, 4);
        let mut wire = Vec::new();
        for code in [-404, -429, -444] {
            server.encode_transport_error(code, &mut wire).unwrap();
        }
        let frames = receive(&mut client, &wire, &[]);
        assert_eq!(
            frames,
            vec![
                Frame::TransportError(-404),
                Frame::TransportError(-429),
                Frame::TransportError(-444)
            ],
            "{config:?}"
        );
        assert!(matches!(
            server.encode_transport_error(404, &mut wire),
            Err(TransportError::Unsupported { .. })
        ));
        // A client may send one too; the server sees the same value.
        let mut wire = Vec::new();
        client.encode_transport_error(-404, &mut wire).unwrap();
        assert_eq!(
            receive(&mut server, &wire, &[]),
            vec![Frame::TransportError(-404)]
        );
    }
}

#[test]
fn known_framings_byte_exact() {
    let mut rng = StdRng::seed_from_u64(5);
    let cases: [(Kind, &[u8], &[u8]); 4] = [
        (Kind::Abridged, &[1, 2, 3, 4], &[0xef, 0x01, 1, 2, 3, 4]),
        (
            Kind::Intermediate,
            &[1, 2, 3, 4],
            &[0xee, 0xee, 0xee, 0xee, 4, 0, 0, 0, 1, 2, 3, 4],
        ),
        (
            Kind::Full,
            &[0x2a; 4],
            // len 16, seq 0, payload, CRC32 of the first 12 bytes.
            &[],
        ),
        (Kind::PaddedIntermediate, &[1, 2, 3, 4], &[]),
    ];
    for (kind, input, expected) in cases {
        let config = ClientConfig {
            kind,
            obfuscation: None,
        };
        let mut client = Codec::client(&config, &mut rng).unwrap();
        let mut out = Vec::new();
        client.encode(input, &mut rng, &mut out).unwrap();
        match kind {
            Kind::Full => {
                let mut head = vec![16, 0, 0, 0, 0, 0, 0, 0, 0x2a, 0x2a, 0x2a, 0x2a];
                let crc = crc32fast::hash(&head);
                head.extend_from_slice(&crc.to_le_bytes());
                assert_eq!(out, head);
            }
            Kind::PaddedIntermediate => {
                assert_eq!(&out[..4], &[0xdd; 4]);
                let len = u32::from_le_bytes(out[4..8].try_into().unwrap()) as usize;
                assert_eq!(out.len(), 8 + len);
                assert!((4..=19).contains(&len));
                assert_eq!(&out[8..12], input);
            }
            _ => assert_eq!(out, expected),
        }
    }
    // Abridged: 126 words fit the one-byte length, 127 words need 7f + 3 bytes.
    let config = ClientConfig {
        kind: Kind::Abridged,
        obfuscation: None,
    };
    let mut client = Codec::client(&config, &mut rng).unwrap();
    let mut out = Vec::new();
    client.encode(&[0; 504], &mut rng, &mut out).unwrap();
    assert_eq!(&out[..2], &[0xef, 126]);
    out.clear();
    client.encode(&[0; 508], &mut rng, &mut out).unwrap();
    assert_eq!(&out[..4], &[0x7f, 127, 0, 0]);
    out.clear();
    client
        .encode(&vec![0; 1 << 20], &mut rng, &mut out)
        .unwrap();
    assert_eq!(&out[..4], &[0x7f, 0, 0, 4]);
    // Server encoders send no header.
    let mut server = Codec::server(&ServerConfig::default());
    server.push(&[0xee; 4]);
    assert_eq!(server.poll_frame(), Ok(None));
    let mut out = Vec::new();
    server.encode(&[9; 8], &mut rng, &mut out).unwrap();
    assert_eq!(out, [8, 0, 0, 0, 9, 9, 9, 9, 9, 9, 9, 9]);
    server.encode_transport_error(-404, &mut out).unwrap();
    assert_eq!(&out[12..], &[4, 0, 0, 0, 0x6c, 0xfe, 0xff, 0xff]);
}

#[test]
fn full_transport_counts_seq_nos_in_each_direction() {
    let config = ClientConfig {
        kind: Kind::Full,
        obfuscation: None,
    };
    let (mut client, mut server, mut rng) = connected(&config, 6);
    for seq in 1u32..4 {
        let mut out = Vec::new();
        client.encode(&[7; 8], &mut rng, &mut out).unwrap();
        assert_eq!(&out[4..8], &seq.to_le_bytes());
        assert_eq!(receive(&mut server, &out, &[]).len(), 1);
    }
    let mut out = Vec::new();
    server.encode(&[7; 8], &mut rng, &mut out).unwrap();
    assert_eq!(&out[4..8], &0u32.to_le_bytes());
}

#[test]
fn quick_acks() {
    // A client asking for a quick ack: the server clears the bit and reads the frame.
    let mut server = Codec::server(&ServerConfig::default());
    let frames = receive(&mut server, &[0xef, 0x81, 1, 2, 3, 4], &[]);
    assert_eq!(
        frames,
        vec![Frame::Payload(BytesMut::from(&[1, 2, 3, 4][..]))]
    );
    // The long form with the quick-ack bit: ff + 3-byte word count.
    let mut wire = vec![0xff, 127, 0, 0];
    wire.extend_from_slice(&[6; 508]);
    let frames = receive(&mut server, &wire, &[]);
    assert_eq!(
        frames,
        vec![Frame::Payload(BytesMut::from(&[6u8; 508][..]))]
    );
    let mut server = Codec::server(&ServerConfig::default());
    let frames = receive(
        &mut server,
        &[0xee, 0xee, 0xee, 0xee, 4, 0, 0, 0x80, 1, 2, 3, 4],
        &[],
    );
    assert_eq!(
        frames,
        vec![Frame::Payload(BytesMut::from(&[1, 2, 3, 4][..]))]
    );
    // A server's quick ack reaching a client: abridged big-endian, intermediate little-endian.
    let mut rng = StdRng::seed_from_u64(7);
    for (kind, wire, token) in [
        (Kind::Abridged, [0x81, 0x02, 0x03, 0x04], 0x8102_0304u32),
        (Kind::Intermediate, [0x04, 0x03, 0x02, 0x81], 0x8102_0304),
        (
            Kind::PaddedIntermediate,
            [0x04, 0x03, 0x02, 0x81],
            0x8102_0304,
        ),
    ] {
        let config = ClientConfig {
            kind,
            obfuscation: None,
        };
        let mut client = Codec::client(&config, &mut rng).unwrap();
        assert_eq!(
            receive(&mut client, &wire, &[1, 2]),
            vec![Frame::QuickAck(token)]
        );
    }
}

#[test]
fn server_detects_each_kind() {
    let mut rng = StdRng::seed_from_u64(8);
    for config in all_configs() {
        let mut client = Codec::client(&config, &mut rng).unwrap();
        let mut wire = Vec::new();
        client.encode(&[1; 32], &mut rng, &mut wire).unwrap();
        let mut server = Codec::server(&server_config(&config));
        assert_eq!(server.kind(), None);
        // Byte by byte: nothing is decided before enough bytes are in.
        for (i, b) in wire.iter().enumerate() {
            server.push(&[*b]);
            let frame = server.poll_frame().unwrap();
            assert_eq!(frame.is_some(), i == wire.len() - 1);
        }
        assert_eq!(server.kind(), Some(config.kind));
        assert_eq!(server.is_obfuscated(), Some(config.obfuscation.is_some()));
    }
}

#[test]
fn client_config_by_name() {
    for (name, kind, obfuscated) in [
        ("abridged", Kind::Abridged, false),
        ("intermediate", Kind::Intermediate, false),
        ("padded", Kind::PaddedIntermediate, false),
        ("full", Kind::Full, false),
        ("obfuscated", Kind::Intermediate, true),
    ] {
        let c = ClientConfig::named(name, 2, None).unwrap();
        assert_eq!(c.kind, kind);
        assert_eq!(c.obfuscation.is_some(), obfuscated);
        assert_eq!(kind.name(), if obfuscated { "intermediate" } else { name });
    }
    let dd = ProxySecret::parse(&[[0xdd].as_slice(), &[1; 16]].concat()).unwrap();
    let c = ClientConfig::named("obfuscated", 2, Some(dd)).unwrap();
    assert_eq!(c.kind, Kind::PaddedIntermediate);
    assert!(matches!(
        ClientConfig::named("http", 2, None),
        Err(TransportError::Unsupported { .. })
    ));
}

// ---- negative tests, one per error ----

/// Feeds `wire` to a fresh server and returns the first error.
fn server_error(wire: &[u8]) -> TransportError {
    let mut server = Codec::server(&ServerConfig::default());
    server.push(wire);
    loop {
        match server.poll_frame() {
            Ok(Some(_)) => continue,
            Ok(None) => panic!("no error for {wire:02x?}"),
            Err(e) => {
                // The codec is closed afterwards.
                assert_eq!(server.poll_frame(), Err(TransportError::Closed));
                server.push(&[1, 2, 3]);
                assert_eq!(server.buffered_len(), 0, "bytes after an error are dropped");
                assert_eq!(server.poll_frame(), Err(TransportError::Closed));
                return e;
            }
        }
    }
}

fn full_frame(len_field: u32, seq: u32, payload: &[u8]) -> Vec<u8> {
    let mut f = len_field.to_le_bytes().to_vec();
    f.extend_from_slice(&seq.to_le_bytes());
    f.extend_from_slice(payload);
    let crc = crc32fast::hash(&f);
    f.extend_from_slice(&crc.to_le_bytes());
    f
}

#[test]
fn oversized_frames_are_refused_before_buffering() {
    let too_big = (MAX_FRAME_LEN + 4) as u64;
    let words = (MAX_FRAME_LEN / 4 + 1) as u32;
    let w = words.to_le_bytes();
    assert_eq!(
        server_error(&[0xef, 0x7f, w[0], w[1], w[2]]),
        TransportError::FrameTooLarge { len: too_big }
    );
    let mut wire = vec![0xee; 4];
    wire.extend_from_slice(&(MAX_FRAME_LEN as u32 + 4).to_le_bytes());
    assert_eq!(
        server_error(&wire),
        TransportError::FrameTooLarge { len: too_big }
    );
    let mut wire = vec![0xdd; 4];
    wire.extend_from_slice(&0x7fff_ffffu32.to_le_bytes());
    assert_eq!(
        server_error(&wire),
        TransportError::FrameTooLarge { len: 0x7fff_ffff }
    );
    let mut wire = (MAX_FRAME_LEN as u32 + 16).to_le_bytes().to_vec();
    wire.extend_from_slice(&[0; 4]);
    assert_eq!(
        server_error(&wire),
        TransportError::FrameTooLarge { len: too_big }
    );
    // The largest allowed payload is accepted, one more word is refused on encode.
    let mut rng = StdRng::seed_from_u64(9);
    for kind in KINDS {
        let config = ClientConfig {
            kind,
            obfuscation: None,
        };
        let mut client = Codec::client(&config, &mut rng).unwrap();
        let mut out = Vec::new();
        assert_eq!(
            client.encode(&vec![0; MAX_FRAME_LEN + 4], &mut rng, &mut out),
            Err(TransportError::FrameTooLarge { len: too_big })
        );
        assert!(out.is_empty());
        client
            .encode(&vec![0; MAX_FRAME_LEN], &mut rng, &mut out)
            .unwrap();
    }
}

#[test]
fn bad_lengths_are_refused() {
    for wire in [
        &[0xef, 0x00][..],                        // abridged zero words
        &[0xef, 0x7f, 0, 0, 0],                   // abridged extended zero words
        &[0xee, 0xee, 0xee, 0xee, 0, 0, 0, 0],    // intermediate zero
        &[0xee, 0xee, 0xee, 0xee, 5, 0, 0, 0],    // intermediate not % 4
        &[0xdd, 0xdd, 0xdd, 0xdd, 0, 0, 0, 0],    // padded zero
        &[0xdd, 0xdd, 0xdd, 0xdd, 0, 0, 0, 0x80], // padded zero with quick-ack bit
        &[12, 0, 0, 0, 0, 0, 0, 0],               // full: empty payload
        &[13, 1, 0, 0, 0, 0, 0, 0],               // full: not % 4
    ] {
        assert!(
            matches!(server_error(wire), TransportError::BadLength { .. }),
            "{wire:02x?}"
        );
    }
    // A padded length need not be a multiple of 4.
    let mut server = Codec::server(&ServerConfig::default());
    assert_eq!(
        receive(
            &mut server,
            &[0xdd, 0xdd, 0xdd, 0xdd, 5, 0, 0, 0, 1, 2, 3, 4, 5],
            &[]
        ),
        vec![Frame::Payload(BytesMut::from(&[1, 2, 3, 4, 5][..]))]
    );
    // Encoders refuse empty and unaligned payloads (padded: only empty).
    let mut rng = StdRng::seed_from_u64(10);
    for kind in KINDS {
        let config = ClientConfig {
            kind,
            obfuscation: None,
        };
        let mut client = Codec::client(&config, &mut rng).unwrap();
        let mut out = Vec::new();
        assert!(matches!(
            client.encode(&[], &mut rng, &mut out),
            Err(TransportError::BadLength { .. })
        ));
        let odd = client.encode(&[1, 2, 3], &mut rng, &mut out);
        if kind == Kind::PaddedIntermediate {
            odd.unwrap();
        } else {
            assert!(
                matches!(odd, Err(TransportError::BadLength { .. })),
                "{kind:?}"
            );
            assert!(out.is_empty(), "a refused payload writes nothing");
        }
    }
}

#[test]
fn bad_crc_and_bad_seq_no() {
    let mut frame = full_frame(16, 0, &[1, 2, 3, 4]);
    frame[9] ^= 1;
    assert!(matches!(
        server_error(&frame),
        TransportError::BadCrc { .. }
    ));
    let mut frame = full_frame(16, 0, &[1, 2, 3, 4]);
    let last = frame.len() - 1;
    frame[last] ^= 0x80;
    let crc = crc32fast::hash(&frame[..12]);
    assert_eq!(
        server_error(&frame),
        TransportError::BadCrc {
            expected: crc,
            got: crc ^ 0x8000_0000
        }
    );
    // Seq 0, then seq 2 where 1 is due.
    let mut wire = full_frame(16, 0, &[1, 2, 3, 4]);
    wire.extend(full_frame(16, 2, &[1, 2, 3, 4]));
    assert_eq!(
        server_error(&wire),
        TransportError::BadSeqNo {
            expected: 1,
            got: 2
        }
    );
    // A client receiving a replayed seq no.
    let mut rng = StdRng::seed_from_u64(11);
    let config = ClientConfig {
        kind: Kind::Full,
        obfuscation: None,
    };
    let mut client = Codec::client(&config, &mut rng).unwrap();
    client.push(&full_frame(16, 0, &[1, 2, 3, 4]));
    client.push(&full_frame(16, 0, &[1, 2, 3, 4]));
    assert!(client.poll_frame().unwrap().is_some());
    assert_eq!(
        client.poll_frame(),
        Err(TransportError::BadSeqNo {
            expected: 1,
            got: 0
        })
    );
}

#[test]
fn bad_obfuscated_tags_and_secrets() {
    let mut rng = StdRng::seed_from_u64(12);
    let secret = ProxySecret::new([7; 16]);
    let config = ClientConfig {
        kind: Kind::Intermediate,
        obfuscation: Some(Obfuscation {
            dc_id: 2,
            secret: Some(secret.clone()),
        }),
    };
    let mut client = Codec::client(&config, &mut rng).unwrap();
    let mut wire = Vec::new();
    client.encode(&[1; 8], &mut rng, &mut wire).unwrap();
    // Wrong secret, no secret: the tag decrypts to garbage.
    for server_secret in [Some(ProxySecret::new([8; 16])), None] {
        let mut server = Codec::server(&ServerConfig {
            secret: server_secret,
        });
        server.push(&wire);
        assert!(matches!(
            server.poll_frame(),
            Err(TransportError::BadObfuscatedTag { .. })
        ));
    }
    // One flipped bit in the encrypted tag.
    let mut bad = wire.clone();
    bad[57] ^= 1;
    let mut server = Codec::server(&ServerConfig {
        secret: Some(secret),
    });
    server.push(&bad);
    let err = server.poll_frame().unwrap_err();
    assert_eq!(
        err,
        TransportError::BadObfuscatedTag {
            got: [0xee, 0xef, 0xee, 0xee]
        }
    );
    // A dd secret admits padded intermediate only.
    let dd = ProxySecret::parse(&[[0xdd].as_slice(), &[7; 16]].concat()).unwrap();
    let mut server = Codec::server(&ServerConfig { secret: Some(dd) });
    server.push(&wire);
    assert_eq!(
        server.poll_frame(),
        Err(TransportError::BadObfuscatedTag { got: [0xee; 4] })
    );
    // Secrets that cannot be used.
    for bad in [&[1u8; 15][..], &[1; 17], &[0xee; 20]] {
        assert!(matches!(
            ProxySecret::parse(bad),
            Err(TransportError::Unsupported { .. })
        ));
    }
    // Full has no obfuscated2 tag.
    let config = ClientConfig {
        kind: Kind::Full,
        obfuscation: Some(Obfuscation {
            dc_id: 2,
            secret: None,
        }),
    };
    assert!(matches!(
        Codec::client(&config, &mut rng),
        Err(TransportError::Unsupported { .. })
    ));
}

#[test]
fn obfuscated_init_avoids_forbidden_patterns() {
    /// Replays scripted 64-byte blocks, then a fixed valid one.
    struct Scripted(Vec<[u8; 64]>);
    impl RngCore for Scripted {
        fn next_u32(&mut self) -> u32 {
            0
        }
        fn next_u64(&mut self) -> u64 {
            0
        }
        fn fill_bytes(&mut self, dest: &mut [u8]) {
            let block = if self.0.is_empty() {
                [0x42; 64]
            } else {
                self.0.remove(0)
            };
            dest.copy_from_slice(&block[..dest.len()]);
        }
        fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand::Error> {
            self.fill_bytes(dest);
            Ok(())
        }
    }
    let with_start = |start: &[u8]| {
        let mut b = [0x42u8; 64];
        b[..start.len()].copy_from_slice(start);
        b
    };
    let forbidden = vec![
        with_start(&[0xef]),
        with_start(b"HEAD"),
        with_start(b"POST"),
        with_start(b"GET "),
        with_start(b"OPTI"),
        with_start(&[0xdd; 4]),
        with_start(&[0xee; 4]),
        with_start(&[0x16, 0x03, 0x01, 0x02]),
        with_start(&[0x42, 0x42, 0x42, 0x42, 0, 0, 0, 0]),
    ];
    let config = ClientConfig {
        kind: Kind::Abridged,
        obfuscation: Some(Obfuscation {
            dc_id: 4,
            secret: None,
        }),
    };
    let mut rng = Scripted(forbidden);
    let mut client = Codec::client(&config, &mut rng).unwrap();
    assert!(rng.0.is_empty(), "every forbidden init was skipped");
    let mut out = Vec::new();
    client.encode(&[1; 4], &mut rng, &mut out).unwrap();
    assert_eq!(&out[..56], &[0x42; 56]);
    // A random source that never yields a valid init is an error, not a hang.
    struct Stuck;
    impl RngCore for Stuck {
        fn next_u32(&mut self) -> u32 {
            0
        }
        fn next_u64(&mut self) -> u64 {
            0
        }
        fn fill_bytes(&mut self, dest: &mut [u8]) {
            dest.fill(0xef);
        }
        fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand::Error> {
            self.fill_bytes(dest);
            Ok(())
        }
    }
    assert!(matches!(
        Codec::client(&config, &mut Stuck),
        Err(TransportError::Unsupported { .. })
    ));
}

#[test]
fn http_and_tls_are_unsupported_and_server_cannot_send_early() {
    for wire in [
        &b"GET / HTTP/1.1\r\n"[..],
        b"POST /api",
        b"HEAD /",
        b"OPTIONS",
        &[0x16, 3, 1, 2, 0],
    ] {
        assert!(matches!(
            server_error(wire),
            TransportError::UnsupportedTransport { .. }
        ));
    }
    let mut server = Codec::server(&ServerConfig::default());
    let mut rng = StdRng::seed_from_u64(13);
    let mut out = Vec::new();
    assert_eq!(
        server.encode(&[0; 4], &mut rng, &mut out),
        Err(TransportError::NotDetected)
    );
    assert_eq!(
        server.encode_transport_error(-404, &mut out),
        Err(TransportError::NotDetected)
    );
    assert!(out.is_empty());
}

#[test]
fn garbage_never_panics() {
    let mut rng = StdRng::seed_from_u64(14);
    for round in 0..3000 {
        let len = rng.gen_range(0..200);
        let mut wire = vec![0u8; len];
        rng.fill_bytes(&mut wire);
        // Bias towards each detector branch.
        match round % 5 {
            0 => wire.insert(0, 0xef),
            1 => wire.splice(0..0, [0xee; 4]).for_each(drop),
            2 => wire.splice(0..0, [0xdd; 4]).for_each(drop),
            3 => wire
                .splice(0..0, [rng.gen_range(0..64), 0, 0, 0, 0, 0, 0, 0])
                .for_each(drop),
            _ => {}
        }
        let mut server = Codec::server(&ServerConfig::default());
        let mut at = 0;
        while at < wire.len() {
            let next = rng.gen_range(at..=wire.len());
            server.push(&wire[at..next]);
            at = next.max(at + 1).min(wire.len());
            while let Ok(Some(_)) = server.poll_frame() {}
        }
        let mut client = Codec::client(
            &ClientConfig {
                kind: KINDS[round % 4],
                obfuscation: None,
            },
            &mut rng,
        )
        .unwrap();
        client.push(&wire);
        while let Ok(Some(_)) = client.poll_frame() {}
    }
}

#[test]
fn payloads_that_read_as_transport_errors_are_refused() {
    // Found by fuzzing: a 4-byte payload starting with a negative int32 (or, padded, up to
    // 23 bytes) is indistinguishable from a transport error frame, so `encode` refuses it.
    let mut rng = StdRng::seed_from_u64(15);
    for config in all_configs() {
        let (mut client, _, _) = connected(&config, 16);
        let mut out = Vec::new();
        let negative = (-5i32).to_le_bytes();
        assert!(
            matches!(
                client.encode(&negative, &mut rng, &mut out),
                Err(TransportError::BadLength { .. })
            ),
            "{config:?}"
        );
        let mut twenty = [0u8; 20];
        twenty[..4].copy_from_slice(&negative);
        let r = client.encode(&twenty, &mut rng, &mut out);
        assert_eq!(
            r.is_err(),
            config.kind == Kind::PaddedIntermediate,
            "{config:?}"
        );
        assert_eq!(
            out.is_empty(),
            r.is_err(),
            "a refused payload writes nothing"
        );
        // 24 bytes is always a packet, as is a short payload starting non-negative.
        let mut twenty_four = [0u8; 24];
        twenty_four[..4].copy_from_slice(&negative);
        client.encode(&twenty_four, &mut rng, &mut out).unwrap();
        client.encode(&[1, 0, 0, 0], &mut rng, &mut out).unwrap();
    }
}
