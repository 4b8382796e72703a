//! Crypto benchmarks (criterion). Run: `cargo bench --bench crypto -- --measurement-time 2`.
//!
//! Targets (issue 3): AES-256-IGE decrypt of 1 MiB ≥ 0.9× a serial chain of raw AES-256 block
//! decryptions of the same length (IGE is serial, that chain is its floor); decrypt+verify of a
//! 1 MiB MTProto message ≤ 1.3× IGE + SHA-256 of the same bytes. After the criterion groups, a
//! short interleaved timing prints both ratios directly.

use std::hint::black_box;
use std::time::{Duration, Instant};

use aes::cipher::inout::InOut;
use aes::cipher::{
    consts::U16, generic_array::GenericArray, BlockBackend, BlockClosure, BlockDecrypt,
    BlockSizeUser, KeyInit,
};
use criterion::{criterion_group, BatchSize, Criterion, Throughput};
use num_bigint::BigUint;
use rand::{rngs::StdRng, RngCore, SeedableRng};
use tgmux::crypto::rsa::rsa_pad_encrypt;
use tgmux::crypto::{
    aes_ige_decrypt, decrypt_message_in_place, encrypt_message, factorize, pad_message, sha256,
    AesCtr256, AuthKey, DhGroup, RsaPrivateKey, Side,
};

const MIB: usize = 1 << 20;

fn random_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut v = vec![0u8; len];
    StdRng::seed_from_u64(seed).fill_bytes(&mut v);
    v
}

/// The floor of IGE decryption: a serial chain of raw AES-256 block decryptions, each block's
/// input depending on the previous output, run in the cipher's backend closure exactly like our
/// IGE loop (so both get AES-NI without per-block dispatch).
struct RawChain<'a>(&'a mut [u8]);

impl BlockSizeUser for RawChain<'_> {
    type BlockSize = U16;
}

impl BlockClosure for RawChain<'_> {
    #[inline(always)]
    fn call<B: BlockBackend<BlockSize = U16>>(self, backend: &mut B) {
        let mut prev = 0u128;
        let mut block = GenericArray::from([0u8; 16]);
        for chunk in self.0.chunks_exact_mut(16) {
            let mut w = [0u8; 16];
            w.copy_from_slice(chunk);
            block.copy_from_slice(&(u128::from_ne_bytes(w) ^ prev).to_ne_bytes());
            backend.proc_block(InOut::from(&mut block));
            chunk.copy_from_slice(&block);
            w.copy_from_slice(&block);
            prev = u128::from_ne_bytes(w);
        }
    }
}

fn raw_aes_chain(cipher: &aes::Aes256, data: &mut [u8]) {
    cipher.decrypt_with_backend(RawChain(data));
}

/// The same chain through `decrypt_block` per block (the aes crate's one-block API, which
/// re-dispatches on CPU features every call): shows why the backend closure matters.
fn raw_aes_chain_per_call(cipher: &aes::Aes256, data: &mut [u8]) {
    let mut prev = [0u8; 16];
    let mut block = GenericArray::from([0u8; 16]);
    for chunk in data.chunks_exact_mut(16) {
        for i in 0..16 {
            block[i] = chunk[i] ^ prev[i];
        }
        cipher.decrypt_block(&mut block);
        chunk.copy_from_slice(&block);
        prev.copy_from_slice(&block);
    }
}

fn ige_and_sha(data: &mut [u8], key: &[u8; 32], iv: &[u8; 32]) -> [u8; 32] {
    aes_ige_decrypt(data, key, iv).unwrap();
    sha256(data)
}

/// A 1 MiB MTProto 2.0 server→client message (like an `upload.file` answer) and its key.
fn big_message() -> (AuthKey, Vec<u8>) {
    let mut raw = [0u8; 256];
    StdRng::seed_from_u64(1).fill_bytes(&mut raw);
    let key = AuthKey::from_bytes(raw);
    let body_len = MIB;
    let mut plain = random_bytes(32 + body_len, 2);
    plain[28..32].copy_from_slice(&(body_len as u32).to_le_bytes());
    pad_message(&mut plain, &mut StdRng::seed_from_u64(3));
    let packet = encrypt_message(&key, Side::Server, &plain).unwrap();
    (key, packet)
}

fn symmetric(c: &mut Criterion) {
    let key = [7u8; 32];
    let iv = [9u8; 32];
    let cipher = aes::Aes256::new(GenericArray::from_slice(&key));
    let mut data = random_bytes(MIB, 4);

    let mut g = c.benchmark_group("1MiB");
    g.throughput(Throughput::Bytes(MIB as u64));
    g.bench_function("aes256_ige_decrypt", |b| {
        b.iter(|| aes_ige_decrypt(black_box(&mut data), &key, &iv).unwrap())
    });
    g.bench_function("raw_aes256_serial_chain", |b| {
        b.iter(|| raw_aes_chain(&cipher, black_box(&mut data)))
    });
    g.bench_function("raw_aes256_serial_chain_decrypt_block_per_call", |b| {
        b.iter(|| raw_aes_chain_per_call(&cipher, black_box(&mut data)))
    });
    g.bench_function("sha256", |b| b.iter(|| sha256(black_box(&data))));
    g.bench_function("ige_decrypt_plus_sha256", |b| {
        b.iter(|| ige_and_sha(black_box(&mut data), &key, &iv))
    });
    g.bench_function("aes256_ctr", |b| {
        b.iter(|| AesCtr256::new(&key, &[1u8; 16]).apply(black_box(&mut data)))
    });
    let (auth_key, packet) = big_message();
    g.bench_function("mtproto_decrypt_and_verify", |b| {
        b.iter_batched_ref(
            || packet.clone(),
            |p| {
                decrypt_message_in_place(&auth_key, Side::Server, p)
                    .map(|plain| plain.len())
                    .unwrap()
            },
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

fn asymmetric(c: &mut Criterion) {
    let server = RsaPrivateKey::generate(2048, &mut StdRng::seed_from_u64(0x007e_57dc)).unwrap();
    let data = random_bytes(96, 5);
    let mut rng = StdRng::seed_from_u64(6);
    let encrypted = rsa_pad_encrypt(&data, server.public_key(), &mut rng).unwrap();
    c.bench_function("rsa_pad_encrypt_2048", |b| {
        b.iter(|| rsa_pad_encrypt(black_box(&data), server.public_key(), &mut rng).unwrap())
    });
    c.bench_function("rsa_pad_decrypt_2048_crt", |b| {
        b.iter(|| server.rsa_pad_decrypt(black_box(&encrypted)).unwrap())
    });
    c.bench_function("pq_factorize_62bit", |b| {
        b.iter(|| factorize(black_box(2804275833720261793)).unwrap())
    });
    let group = DhGroup::telegram();
    let (_, g_a) = group.generate_keypair(&mut StdRng::seed_from_u64(7));
    let b_secret = BigUint::from_bytes_be(&random_bytes(256, 8));
    c.bench_function("dh_shared_key_2048", |b| {
        b.iter(|| group.shared_key(black_box(&g_a), &b_secret).unwrap())
    });
    c.bench_function("dh_public_value_g3_2048", |b| {
        b.iter(|| group.public_value(black_box(&b_secret)).unwrap())
    });
    // The crypto of one auth-key exchange, both roles: RSA_PAD encrypt (client) and decrypt
    // (server), the server's a and g_a, the client's b, g_b and auth key, the server's auth key.
    let mut rng = StdRng::seed_from_u64(9);
    c.bench_function("auth_exchange_crypto_client_plus_server", |b| {
        b.iter(|| {
            let enc = rsa_pad_encrypt(&data, server.public_key(), &mut rng).unwrap();
            server.rsa_pad_decrypt(&enc).unwrap();
            let (a, g_a) = group.generate_keypair(&mut rng);
            let (b_key, g_b) = group.generate_keypair(&mut rng);
            let client = group.shared_key(&g_a, &b_key).unwrap();
            let server_key = group.shared_key(&g_b, &a).unwrap();
            assert_eq!(client, server_key);
        })
    });
}

/// Best of `rounds` interleaved timings of `a` and `b`; returns `(a, b)` minima.
fn best_of(rounds: usize, mut a: impl FnMut(), mut b: impl FnMut()) -> (Duration, Duration) {
    let (mut best_a, mut best_b) = (Duration::MAX, Duration::MAX);
    for _ in 0..rounds {
        let t = Instant::now();
        a();
        best_a = best_a.min(t.elapsed());
        let t = Instant::now();
        b();
        best_b = best_b.min(t.elapsed());
    }
    (best_a, best_b)
}

fn ratios() {
    let key = [7u8; 32];
    let iv = [9u8; 32];
    let cipher = aes::Aes256::new(GenericArray::from_slice(&key));
    let mut d1 = random_bytes(MIB, 4);
    let mut d2 = d1.clone();
    let (ige, raw) = best_of(
        30,
        || aes_ige_decrypt(black_box(&mut d1), &key, &iv).unwrap(),
        || raw_aes_chain(&cipher, black_box(&mut d2)),
    );
    println!(
        "ratio: IGE decrypt 1 MiB {:?}, raw AES-256 chain {:?}: throughput ratio {:.3} (target >= 0.9)",
        ige,
        raw,
        raw.as_secs_f64() / ige.as_secs_f64()
    );
    let (auth_key, packet) = big_message();
    let mut copies: Vec<Vec<u8>> = (0..30).map(|_| packet.clone()).collect();
    let mut d3 = random_bytes(packet.len() - 24, 4);
    let mut i = 0;
    let (msg, base) = best_of(
        30,
        || {
            let p = &mut copies[i];
            i += 1;
            decrypt_message_in_place(&auth_key, Side::Server, p).unwrap();
        },
        || {
            black_box(ige_and_sha(black_box(&mut d3), &key, &iv));
        },
    );
    println!(
        "ratio: decrypt+verify 1 MiB message {:?}, IGE+SHA-256 {:?}: time ratio {:.3} (target <= 1.3)",
        msg,
        base,
        msg.as_secs_f64() / base.as_secs_f64()
    );
}

/// CPU time this thread has run, in ns (Linux `schedstat`), so the summary stays meaningful on
/// a loaded machine; `None` elsewhere.
fn thread_cpu_ns() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_whitespace().next()?.parse().ok()
}

/// Mean CPU time of `f` over at least 300 ms of CPU, best of three such rounds.
fn cpu_per_op(mut f: impl FnMut()) -> Option<Duration> {
    let mut best = Duration::MAX;
    for _ in 0..3 {
        let start = thread_cpu_ns()?;
        let mut n = 0u32;
        let mut spent = 0;
        while spent < 300_000_000 {
            f();
            n += 1;
            spent = thread_cpu_ns()? - start;
        }
        best = best.min(Duration::from_nanos(spent / u64::from(n)));
    }
    Some(best)
}

fn cpu_summary() {
    let key = [7u8; 32];
    let iv = [9u8; 32];
    let cipher = aes::Aes256::new(GenericArray::from_slice(&key));
    let mut data = random_bytes(MIB, 4);
    let (auth_key, packet) = big_message();
    let mut scratch = packet.clone();
    let server = RsaPrivateKey::generate(2048, &mut StdRng::seed_from_u64(0x007e_57dc)).unwrap();
    let inner = random_bytes(96, 5);
    let mut rng = StdRng::seed_from_u64(6);
    let encrypted = rsa_pad_encrypt(&inner, server.public_key(), &mut rng).unwrap();
    let group = DhGroup::telegram();
    let (_, g_a) = group.generate_keypair(&mut rng);
    let secret = BigUint::from_bytes_be(&random_bytes(256, 8));
    let mut rng2 = StdRng::seed_from_u64(10);
    type Case<'a> = (&'a str, Box<dyn FnMut() + 'a>);
    let cases: Vec<Case> = vec![
        (
            "aes256_ige_decrypt 1 MiB",
            Box::new(|| aes_ige_decrypt(&mut data, &key, &iv).unwrap()),
        ),
        (
            "raw_aes256_serial_chain 1 MiB",
            Box::new(|| raw_aes_chain(&cipher, black_box(&mut scratch))),
        ),
        (
            "sha256 1 MiB",
            Box::new(|| {
                black_box(sha256(black_box(&packet)));
            }),
        ),
        (
            "mtproto_decrypt_and_verify 1 MiB (incl. 1 MiB copy)",
            Box::new(|| {
                let mut p = packet.clone();
                decrypt_message_in_place(&auth_key, Side::Server, &mut p).unwrap();
            }),
        ),
        (
            "rsa_pad_encrypt 2048",
            Box::new(|| {
                rsa_pad_encrypt(&inner, server.public_key(), &mut rng).unwrap();
            }),
        ),
        (
            "rsa_pad_decrypt 2048 (CRT)",
            Box::new(|| {
                server.rsa_pad_decrypt(&encrypted).unwrap();
            }),
        ),
        (
            "pq_factorize 62-bit",
            Box::new(|| {
                factorize(black_box(2804275833720261793)).unwrap();
            }),
        ),
        (
            "dh g^x, g = 3 (fixed-base table)",
            Box::new(|| {
                group.public_value(&secret).unwrap();
            }),
        ),
        (
            "dh g_a^x (2048-bit base and exponent)",
            Box::new(|| {
                group.shared_key(&g_a, &secret).unwrap();
            }),
        ),
        (
            "auth-key exchange crypto, client + server",
            Box::new(|| {
                let enc = rsa_pad_encrypt(&inner, server.public_key(), &mut rng2).unwrap();
                server.rsa_pad_decrypt(&enc).unwrap();
                let (a, g_a) = group.generate_keypair(&mut rng2);
                let (b, g_b) = group.generate_keypair(&mut rng2);
                let k1 = group.shared_key(&g_a, &b).unwrap();
                let k2 = group.shared_key(&g_b, &a).unwrap();
                assert_eq!(k1, k2);
            }),
        ),
    ];
    println!("CPU time per operation (thread schedstat, best of 3 rounds of >= 300 ms):");
    for (name, mut f) in cases {
        match cpu_per_op(&mut f) {
            Some(d) => println!("  {name:<55} {d:>12.3?}"),
            None => println!("  {name:<55} (no schedstat on this OS)"),
        }
    }
}

criterion_group!(benches, symmetric, asymmetric);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    ratios();
    cpu_summary();
}
