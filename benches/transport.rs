//! Transport throughput: framing + deframing of 1 MiB payloads (the upload.getFile block
//! size), client encode → server push/poll, for intermediate and obfuscated2-intermediate.
//! A raw AES-256-CTR pass over 1 MiB is measured alongside: obfuscated2 costs one such pass
//! per direction, so 1 MiB round trip through it cannot beat one CTR pass.
//!
//!     cargo bench --bench transport

use std::time::Duration;

use aes::Aes256;
use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use ctr::cipher::{KeyIvInit, StreamCipher};
use rand::rngs::StdRng;
use rand::SeedableRng;
use tgmux::mtproto::transport::{ClientConfig, Codec, Frame, Kind, Obfuscation, ServerConfig};

const LEN: usize = 1 << 20;

fn round_trip(c: &mut Criterion, name: &str, config: ClientConfig) {
    let mut rng = StdRng::seed_from_u64(1);
    let mut client = Codec::client(&config, &mut rng).unwrap();
    let mut server = Codec::server(&ServerConfig::default());
    let payload = vec![0x5au8; LEN];
    let mut wire = Vec::with_capacity(LEN + 128);
    let mut group = c.benchmark_group("transport_1MiB");
    group.throughput(Throughput::Bytes(LEN as u64));
    group.bench_function(name, |b| {
        b.iter(|| {
            wire.clear();
            client.encode(&payload, &mut rng, &mut wire).unwrap();
            server.push(&wire);
            match server.poll_frame() {
                Ok(Some(Frame::Payload(p))) => assert_eq!(black_box(p).len(), LEN),
                other => panic!("{other:?}"),
            }
        })
    });
    group.finish();
}

fn benches(c: &mut Criterion) {
    round_trip(
        c,
        "intermediate_encode_decode",
        ClientConfig {
            kind: Kind::Intermediate,
            obfuscation: None,
        },
    );
    round_trip(
        c,
        "obfuscated2_intermediate_encode_decode",
        ClientConfig {
            kind: Kind::Intermediate,
            obfuscation: Some(Obfuscation {
                dc_id: 2,
                secret: None,
            }),
        },
    );
    let mut group = c.benchmark_group("transport_1MiB");
    group.throughput(Throughput::Bytes(LEN as u64));
    let mut cipher = ctr::Ctr128BE::<Aes256>::new(&[7u8; 32].into(), &[9u8; 16].into());
    let mut buf = vec![0u8; LEN];
    group.bench_function("aes256_ctr_one_pass", |b| {
        b.iter(|| cipher.apply_keystream(black_box(&mut buf)))
    });
    group.finish();
}

criterion_group! {
    name = transport;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = benches
}
criterion_main!(transport);
