//! TL decoding on the download path: an `upload.file` carrying 1 MiB (its `bytes` field is a
//! zero-copy view into the received buffer, so the cost must not grow with the payload), and a
//! large `messages.channelMessages` (100 messages with documents, as `tgmux local-dc` answers
//! `messages.getHistory`), the object a channel archiver decodes most.

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

mod common;

use common::LocalWorld;
use tgmux::localdc::{Library, Reply};
use tgmux::tl::{enums, functions, types, Deserializable, Serializable};

fn upload_file(len: usize) -> Bytes {
    let file = enums::upload::File::File(types::upload::File {
        r#type: enums::storage::FileType::FilePartial(types::storage::FilePartial {}),
        mtime: 0,
        bytes: Bytes::from(vec![0x5a; len]),
    });
    Bytes::from(file.to_bytes())
}

/// The answer of our own server to `messages.getHistory(limit=100)` over 100 documents.
fn channel_messages() -> Bytes {
    let dir = std::env::temp_dir().join(format!("tgmux-bench-tl-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("archive")).unwrap();
    for id in 1..=100 {
        std::fs::write(dir.join(format!("archive/{id}.mkv")), [0u8; 64]).unwrap();
    }
    let library = Library::scan(&dir, 3).unwrap();
    let channel = library.channel_by_username("archive").unwrap();
    let (channel_id, access_hash) = (channel.id, channel.access_hash);
    let mut world = LocalWorld::new(library, 3);
    let history = functions::messages::GetHistory {
        peer: enums::InputPeer::InputPeerChannel(types::InputPeerChannel {
            channel_id,
            access_hash,
        }),
        offset_id: 0,
        offset_date: 0,
        add_offset: 0,
        limit: 100,
        max_id: 0,
        min_id: 0,
        hash: 0,
    };
    let Reply::Result(answer) = world.call(history.to_bytes()) else {
        panic!("getHistory failed")
    };
    let _ = std::fs::remove_dir_all(&dir);
    Bytes::from(answer)
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("tl_decode");
    for len in [4 << 10, 1 << 20] {
        let wire = upload_file(len);
        g.throughput(Throughput::Bytes(wire.len() as u64));
        g.bench_function(format!("upload_file_{}KiB", len >> 10), |b| {
            b.iter(|| enums::upload::File::from_bytes(wire.clone()).unwrap())
        });
    }

    let wire = channel_messages();
    let enums::messages::Messages::ChannelMessages(m) =
        enums::messages::Messages::from_bytes(wire.clone()).unwrap()
    else {
        panic!("not channelMessages")
    };
    assert_eq!(m.messages.len(), 100);
    eprintln!(
        "channelMessages: {} messages, {} bytes",
        m.messages.len(),
        wire.len()
    );
    g.throughput(Throughput::Bytes(wire.len() as u64));
    g.bench_function("channel_messages_100", |b| {
        b.iter(|| enums::messages::Messages::from_bytes(wire.clone()).unwrap())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
