//! What one core of `tgmux local-dc` spends serving `upload.getFile` 1 MiB parts from the page
//! cache: the API call alone (positional read + TL serialisation), and the API call plus the
//! MTProto 2.0 encryption of the answer (msg_key SHA-256 + AES-256-IGE), which is what goes on
//! the wire. Throughput is in bytes of file served.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rand::SeedableRng;

use tgmux::crypto::{encrypt_message, pad_message, AuthKey, Side};
mod common;

use common::LocalWorld;
use tgmux::localdc::handler::Reply;
use tgmux::localdc::media::Library;
use tgmux::tl::{enums, functions, types, Deserializable, Serializable};

const PART: i32 = 1 << 20;

fn bench(c: &mut Criterion) {
    let dir = std::env::temp_dir().join(format!("tgmux-bench-getfile-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("chan")).unwrap();
    let data: Vec<u8> = (0..8 * PART as u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(dir.join("chan/1.mp4"), &data).unwrap();
    let library = Library::scan(&dir, 1).unwrap();
    let mut world = LocalWorld::new(library, 1);
    let doc = world
        .world
        .library
        .channel_by_username("chan")
        .unwrap()
        .messages[&1]
        .clone();
    let reference = world.world.refs.issue(doc.id, 1_700_000_000);
    let request = |offset: i64| {
        functions::upload::GetFile {
            precise: false,
            cdn_supported: false,
            location: enums::InputFileLocation::InputDocumentFileLocation(
                types::InputDocumentFileLocation {
                    id: doc.id,
                    access_hash: doc.access_hash,
                    file_reference: reference.clone(),
                    thumb_size: String::new(),
                },
            ),
            offset,
            limit: PART,
        }
        .to_bytes()
    };
    let Reply::Result(first) = world.call(request(0)) else {
        panic!("getFile failed")
    };
    let enums::upload::File::File(f) = enums::upload::File::from_bytes(first).unwrap() else {
        panic!()
    };
    assert_eq!(&f.bytes[..], &data[..PART as usize]);

    let key = AuthKey::from_bytes([7u8; 256]);
    let mut g = c.benchmark_group("localdc_getfile");
    g.throughput(Throughput::Bytes(PART as u64));
    g.sample_size(20);
    let mut i = 0i64;
    g.bench_function("handle_1MiB", |b| {
        b.iter(|| {
            i = (i + 1) % 8;
            world.call(request(i * PART as i64))
        })
    });
    g.bench_function("handle_and_encrypt_1MiB", |b| {
        b.iter(|| {
            i = (i + 1) % 8;
            let Reply::Result(v) = world.call(request(i * PART as i64)) else {
                panic!()
            };
            // The session header (salt, session_id, msg_id, seq_no, length) + rpc_result header.
            let mut plain = Vec::with_capacity(v.len() + 32 + 1024 + 12);
            plain.extend_from_slice(&[0u8; 32]);
            plain.extend_from_slice(&[0u8; 12]);
            plain.extend_from_slice(&v);
            pad_message(&mut plain, &mut rand::rngs::StdRng::seed_from_u64(2));
            encrypt_message(&key, Side::Server, &plain).unwrap()
        })
    });
    g.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, bench);
criterion_main!(benches);
