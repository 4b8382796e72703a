//! What one core of `tgmux local-dc` spends serving `upload.getFile` 1 MiB parts from the page
//! cache: the API call alone (positional read + TL serialisation), and the whole connection
//! path (deframing, decryption and checks, the call, rpc_result, encryption, framing), whose
//! floor is one SHA-256 and one AES-256-IGE pass over the part. Throughput is in bytes of file
//! served.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rand::rngs::StdRng;
use rand::SeedableRng;

use common::LocalWorld;
use tgmux::crypto::AuthKey;
use tgmux::localdc::{Connection, KeyStore, Library, Reply, Shared};
use tgmux::mtproto::auth::server::ServerConfig as AuthConfig;
use tgmux::mtproto::session::{ClientSession, ClientSessionConfig, Event, SaltSchedule};
use tgmux::mtproto::transport::{ClientConfig, Codec, Frame};
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
        .document
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
    g.bench_function("serve_1MiB_through_connection", |b| {
        b.iter_custom(|iters| serve_through_connection(&world, &request, iters))
    });
    g.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

/// The whole server path of one part, as a socket would see it: framed encrypted request bytes
/// into `localdc::conn::Connection` (transport deframing, MTProto decryption and checks, the
/// API call, rpc_result, encryption, framing) and the answer's bytes out. Only `on_bytes` is
/// timed; our client session makes the requests and reads the answers outside the clock.
fn serve_through_connection(
    world: &LocalWorld,
    request: &dyn Fn(i64) -> Vec<u8>,
    iters: u64,
) -> Duration {
    let now = SystemTime::now();
    let unix = now.duration_since(UNIX_EPOCH).unwrap();
    let key = AuthKey::from_bytes([7u8; 256]);
    let salts = SaltSchedule::new(3600, 9);
    let shared = Arc::new(Shared {
        world: world.world.clone(),
        auth: Arc::new(AuthConfig { keys: Vec::new() }),
        cdn_auth: None,
        keys: KeyStore::default(),
        salts: salts.clone(),
        seed: 0,
        proxy_secret: None,
    });
    shared.keys.insert(1, key.clone());
    let mut conn = Connection::new(shared, 1, 1);
    let mut rng = StdRng::seed_from_u64(3);
    let mut codec = Codec::client(
        &ClientConfig::named("intermediate", 1, None).unwrap(),
        &mut rng,
    )
    .unwrap();
    let mut client = ClientSession::new(
        ClientSessionConfig {
            auth_key: key,
            session_id: 0x5e55_1011,
            server_salt: salts.at(unix.as_secs() as i64).salt,
            time_offset: 0,
        },
        Box::new(StdRng::seed_from_u64(4)),
    );
    let (mut wire, mut packet, mut answer) = (Vec::new(), Vec::new(), Vec::new());
    // One request through the connection: returns the time `on_bytes` took and the results.
    let mut round_trip = |body: Vec<u8>| {
        let _ = client.request(body);
        wire.clear();
        while {
            packet.clear();
            client.poll_transmit(unix, &mut packet)
        } {
            codec.encode(&packet, &mut rng, &mut wire).unwrap();
        }
        answer.clear();
        let start = Instant::now();
        conn.on_bytes(&wire, now, &mut rng, &mut answer).unwrap();
        let spent = start.elapsed();
        codec.push(&answer);
        let mut results = Vec::new();
        while let Some(Frame::Payload(p)) = codec.poll_frame().unwrap() {
            client.handle_input(p, unix).unwrap();
            while let Some(ev) = client.poll_event() {
                match ev {
                    Event::RpcResult { body, .. } => results.push(body.len()),
                    Event::RpcError { code, message, .. } => panic!("{code} {message}"),
                    _ => {}
                }
            }
        }
        (spent, results)
    };
    let login = functions::auth::ImportBotAuthorization {
        flags: 0,
        api_id: 1,
        api_hash: "x".into(),
        bot_auth_token: "1:x".into(),
    };
    assert_eq!(round_trip(login.to_bytes()).1.len(), 1, "bot login");
    let mut spent = Duration::ZERO;
    for i in 0..iters {
        let (t, results) = round_trip(request((i % 8) as i64 * PART as i64));
        assert!(
            matches!(results[..], [n] if n > PART as usize),
            "{results:?}"
        );
        spent += t;
    }
    spent
}

criterion_group!(benches, bench);
criterion_main!(benches);
