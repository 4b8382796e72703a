//! The downloader's own cost, without sockets: the sliding window driven over an in-memory
//! [`Rpc`] that answers every part at once (what is left is scheduling, TL decoding of the
//! answer and the in-order release), and the floor a real download cannot go below on the
//! client: AES-256-IGE decryption + SHA-256 of every byte (`floor`; scripts/bench-download
//! compares tgmux's CPU per GiB with it).

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use tgmux::crypto::hash::sha256;
use tgmux::crypto::ige::aes_ige_decrypt;
use tgmux::download::rpc::{BoxFuture, Route, Rpc};
use tgmux::download::{download, Options};
use tgmux::net::InvokeError;
use tgmux::resolve::{Location, Media, Origin};
use tgmux::tl::{enums, functions, types, Deserializable, Serializable};

const MIB: usize = 1 << 20;

/// Answers every `upload.getFile` from one shared 1 MiB block.
struct Memory {
    block: Bytes,
}

impl Rpc for Memory {
    fn call(&self, _route: Route, body: Vec<u8>) -> BoxFuture<'_, Result<Bytes, InvokeError>> {
        Box::pin(async move {
            let r = functions::upload::GetFile::from_bytes(body).map_err(InvokeError::Decode)?;
            let f = enums::upload::File::File(types::upload::File {
                r#type: enums::storage::FileType::FilePartial(types::storage::FilePartial {}),
                mtime: 0,
                bytes: self.block.slice(..r.limit as usize),
            });
            Ok(f.to_bytes().into())
        })
    }

    fn replace(&self, _route: Route) -> BoxFuture<'_, Result<(), InvokeError>> {
        Box::pin(async { Ok(()) })
    }

    fn account(&self) -> Option<i64> {
        Some(1)
    }

    fn cdn_supported(&self) -> bool {
        false
    }
}

fn media(size: u64) -> Media {
    Media {
        location: Location::Document {
            id: 1,
            access_hash: 1,
        },
        file_reference: vec![0; 13],
        dc_id: 1,
        size,
        mime_type: "application/octet-stream".into(),
        file_name: "x".into(),
        date: 0,
        video: None,
        audio: None,
        origin: Origin {
            channel_id: 1,
            access_hash: 1,
            msg_id: 1,
        },
        grouped_id: None,
    }
}

fn window(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let rpc: Arc<dyn Rpc> = Arc::new(Memory {
        block: Bytes::from(vec![7u8; MIB]),
    });
    let size = 64 * MIB as u64;
    let m = media(size);
    let mut g = c.benchmark_group("download");
    g.throughput(Throughput::Bytes(size));
    g.measurement_time(Duration::from_secs(5));
    g.bench_function("window_64MiB_in_memory_to_sink", |b| {
        b.iter(|| {
            rt.block_on(async {
                let mut sink = tokio::io::sink();
                download(rpc.clone(), &m, &mut sink, &Options::default())
                    .await
                    .unwrap()
            })
        })
    });
    g.finish();
}

fn floor(c: &mut Criterion) {
    let mut data = vec![3u8; MIB];
    let key = [1u8; 32];
    let iv = [2u8; 32];
    let mut g = c.benchmark_group("floor");
    g.throughput(Throughput::Bytes(MIB as u64));
    g.bench_function("ige_decrypt_sha256_1MiB", |b| {
        b.iter(|| {
            aes_ige_decrypt(&mut data, &key, &iv).unwrap();
            sha256(&data)
        })
    });
    g.finish();
}

criterion_group!(benches, window, floor);
criterion_main!(benches);
