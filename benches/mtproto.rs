//! MTProto core benchmarks: the full auth-key exchange (client and server CPU together), and
//! decrypt + verify of a 1 MiB upload.file answer through the client session, next to its
//! floor (AES-256-IGE decrypt + SHA-256 of the same bytes).
//!
//! `cargo bench --bench mtproto` (short measurement times: a 2-core shared machine).

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};
use tgmux::crypto::{self, AuthKey, RsaPrivateKey};
use tgmux::mtproto::auth::client::{self, ClientConfig, DhGenOutcome};
use tgmux::mtproto::auth::server::{self, ServerConfig, ServerOutcome};
use tgmux::mtproto::session::{
    ClientSession, ClientSessionConfig, Event, SaltSchedule, ServerSession, ServerSessionConfig,
};

const NOW: u64 = 1_700_000_000;

fn exchange(config: &Arc<ServerConfig>, public: &crypto::RsaPublicKey, seed: u64) -> AuthKey {
    let mut crng = StdRng::seed_from_u64(seed);
    let mut srng = StdRng::seed_from_u64(!seed);
    let (req, c) = client::start(
        ClientConfig {
            keys: vec![public.clone()],
            dc: Some(2),
            temp_expires_in: None,
        },
        &mut crng,
    );
    let (res, s) = server::start(config.clone())
        .handle(&req, &mut srng)
        .unwrap();
    let (req, c) = c.handle(&res, &mut crng).unwrap();
    let (res, s) = s.handle(&req, NOW as i64, &mut srng).unwrap();
    let (req, c) = c.handle(&res, NOW as i64, &mut crng).unwrap();
    let (res, ServerOutcome::Done(_)) = s.handle(&req, |_| false).unwrap() else {
        panic!()
    };
    let DhGenOutcome::Done(done) = c.handle(&res, &mut crng).unwrap() else {
        panic!()
    };
    done.auth_key
}

fn bench_auth(c: &mut Criterion) {
    let key = RsaPrivateKey::generate(2048, &mut StdRng::seed_from_u64(1)).unwrap();
    let public = key.public_key().clone();
    let config = Arc::new(ServerConfig { keys: vec![key] });
    let mut seed = 0u64;
    c.bench_function("auth_key_exchange_client_and_server", |b| {
        b.iter(|| {
            seed += 1;
            exchange(&config, &public, seed)
        })
    });
}

fn client_config(auth_key: AuthKey, salt: i64) -> ClientSessionConfig {
    ClientSessionConfig {
        auth_key,
        session_id: 0x5e55_1011,
        server_salt: salt,
        time_offset: 0,
    }
}

fn bench_session(c: &mut Criterion) {
    let mut raw = [0u8; 256];
    StdRng::seed_from_u64(3).fill_bytes(&mut raw);
    let auth_key = AuthKey::from_bytes(raw);
    let salts = SaltSchedule::new(3600, 1);
    let salt = salts.at(NOW as i64).salt;
    let now = Duration::from_secs(NOW);

    // upload.file#96a18d5 type:storage.FileType mtime:int bytes:bytes, with 1 MiB of data.
    let mut file = 0x096a_18d5u32.to_le_bytes().to_vec();
    file.extend_from_slice(&0x40c8_3e0au32.to_le_bytes()); // storage.filePartial
    file.extend_from_slice(&0i32.to_le_bytes());
    let mut data = vec![0u8; 1 << 20];
    StdRng::seed_from_u64(4).fill_bytes(&mut data);
    tgmux::tl::write_tl_bytes(&data, &mut file);
    let file = Bytes::from(file);

    // One real round trip to capture the server's packet carrying the answer.
    let request = [0xbe77_e5aeu32.to_le_bytes(), [0; 4]].concat();
    let mut a = ClientSession::new(
        client_config(auth_key.clone(), salt),
        Box::new(StdRng::seed_from_u64(5)),
    );
    let _ = a.request(request.clone());
    let mut pkt = Vec::new();
    assert!(a.poll_transmit(now, &mut pkt));
    let mut server = ServerSession::new(
        ServerSessionConfig {
            auth_key: auth_key.clone(),
            salts,
        },
        Box::new(StdRng::seed_from_u64(6)),
    );
    server
        .handle_input(bytes::BytesMut::from(&pkt[..]), now)
        .unwrap();
    let Some(Event::Request { msg_id, .. }) = server.poll_event() else {
        panic!("no request")
    };
    server.respond(msg_id, file.clone(), false);
    let mut answer = Vec::new();
    let mut out = Vec::new();
    while server.poll_transmit(now, &mut out) {
        if out.len() > answer.len() {
            answer = out.clone();
        }
    }
    assert!(answer.len() > 1 << 20);

    let mut group = c.benchmark_group("upload_file_1mib");
    group.throughput(Throughput::Bytes(answer.len() as u64));
    group.bench_function("session_decrypt_verify_dispatch", |b| {
        b.iter_batched(
            || {
                let mut s = ClientSession::new(
                    client_config(auth_key.clone(), salt),
                    Box::new(StdRng::seed_from_u64(5)),
                );
                let _ = s.request(request.clone());
                let mut p = Vec::new();
                assert!(s.poll_transmit(now, &mut p));
                (s, bytes::BytesMut::from(&answer[..]))
            },
            |(mut s, packet)| {
                s.handle_input(packet, now).unwrap();
                match s.poll_event() {
                    Some(Event::RpcResult { body, .. }) => body.len(),
                    other => panic!("{other:?}"),
                }
            },
            BatchSize::LargeInput,
        )
    });
    // The floor: AES-256-IGE decryption and one SHA-256 over the same bytes.
    let (k, iv) = ([7u8; 32], [9u8; 32]);
    group.bench_function("floor_ige_decrypt_plus_sha256", |b| {
        b.iter_batched(
            || answer[24..].to_vec(),
            |mut buf| {
                crypto::aes_ige_decrypt(&mut buf, &k, &iv).unwrap();
                crypto::sha256(&buf)
            },
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10).measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    targets = bench_auth, bench_session
}
criterion_main!(benches);
