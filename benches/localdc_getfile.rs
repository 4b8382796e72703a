//! What one core of `tgmux local-dc` spends serving `upload.getFile` 1 MiB parts from the page
//! cache: the API call alone (positional read + TL serialisation), and the API call plus the
//! MTProto 2.0 encryption of the answer (msg_key SHA-256 + AES-256-IGE), which is what goes on
//! the wire. Throughput is in bytes of file served.

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rand::SeedableRng;

use tgmux::crypto::{encrypt_message, pad_message, AuthKey, Side};
use tgmux::localdc::faults::{FaultSpec, Faults};
use tgmux::localdc::handler::{Ctx, Reply, World};
use tgmux::localdc::media::Library;
use tgmux::localdc::objects::DcAddress;
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
    let dcs = vec![DcAddress {
        id: 1,
        ip: "127.0.0.1".into(),
        port: 1,
        cdn: false,
    }];
    let world = World::new(library, dcs, FaultSpec::default());
    let mut faults = Faults::new(FaultSpec::default(), 0, 1, 1);
    let mut rng = rand::rngs::StdRng::seed_from_u64(1);
    let mut call = |body: Vec<u8>| {
        let mut ctx = Ctx {
            dc_id: 1,
            auth_key_id: 1,
            now: 1_700_000_000,
            faults: &mut faults,
            rng: &mut rng,
            layer: None,
            method: 0,
        };
        world.handle(&mut ctx, Bytes::from(body))
    };
    let login = functions::auth::ImportBotAuthorization {
        flags: 0,
        api_id: 1,
        api_hash: "x".into(),
        bot_auth_token: "1:x".into(),
    };
    assert!(matches!(call(login.to_bytes()), Reply::Result(_)));
    let doc = world.library.channel_by_username("chan").unwrap().messages[&1].clone();
    let reference = world.refs.issue(doc.id, 1_700_000_000);
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
    let Reply::Result(first) = call(request(0)) else {
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
            call(request(i * PART as i64))
        })
    });
    g.bench_function("handle_and_encrypt_1MiB", |b| {
        b.iter(|| {
            i = (i + 1) % 8;
            let Reply::Result(v) = call(request(i * PART as i64)) else {
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
