//! A hostile server (or a path that tampers with the plain handshake) against our client's
//! auth-key exchange, and a tampering client against our server: each forged field is
//! refused by the state machines, at the step that carries it.

mod mtproto_util;

use std::sync::Arc;

use num_bigint::BigUint;
use rand::rngs::StdRng;
use rand::SeedableRng;
use tgmux::crypto::{self, RsaPublicKey};
use tgmux::mtproto::auth::client::{self, AwaitDhGen, ClientConfig, DhGenOutcome, MAX_RETRIES};
use tgmux::mtproto::auth::server::{self, ServerConfig, ServerOutcome};
use tgmux::mtproto::auth::AuthError;
use tgmux::tl::{enums, functions, types, Bytes, Deserializable, Serializable};

use mtproto_util::pair::server_key;

const NOW: i64 = 1_700_000_000;

/// The exchange up to the client's `req_DH_params`: (client state, server state, request).
fn up_to_req_dh(seed: u64) -> (client::AwaitDhParams, server::AwaitReqDh, Vec<u8>, StdRng) {
    let mut rng = StdRng::seed_from_u64(seed);
    let srv = server::start(Arc::new(ServerConfig {
        keys: vec![server_key().clone()],
    }));
    let public: RsaPublicKey = server_key().public_key().clone();
    let (req_pq, c) = client::start(
        ClientConfig {
            keys: vec![public],
            dc: Some(2),
            temp_expires_in: None,
        },
        &mut rng,
    );
    let (res_pq, srv) = srv.handle(&req_pq, &mut rng).unwrap();
    let (req_dh, c) = c.handle(&res_pq, &mut rng).unwrap();
    (c, srv, req_dh, rng)
}

/// The new_nonce the client put in its p_q_inner_data_dc.
fn new_nonce(c: &client::AwaitDhParams) -> [u8; 32] {
    match enums::PQInnerData::from_bytes(c.inner_data().to_vec()).unwrap() {
        enums::PQInnerData::PQInnerDataDc(d) => d.new_nonce,
        other => panic!("{other:?}"),
    }
}

/// The server's real server_DH_params_ok, decoded.
fn server_dh_params(
    srv: server::AwaitReqDh,
    req_dh: &[u8],
    rng: &mut StdRng,
) -> (types::ServerDhParamsOk, server::AwaitSetClientDh) {
    let (answer, srv) = srv.handle(req_dh, NOW, rng).unwrap();
    match enums::ServerDhParams::from_bytes(answer).unwrap() {
        enums::ServerDhParams::ServerDhParamsOk(ok) => (ok, srv),
        other => panic!("{other:?}"),
    }
}

/// The server_DH_inner_data inside server_DH_params_ok (what a holder of new_nonce reads).
fn decrypt_inner(ok: &types::ServerDhParamsOk, new_nonce: &[u8; 32]) -> types::ServerDhInnerData {
    let (key, iv) = crypto::nonce_aes_key_iv(&ok.server_nonce, new_nonce);
    let mut plain = ok.encrypted_answer.to_vec();
    crypto::aes_ige_decrypt(&mut plain, &key, &iv).unwrap();
    let mut reader = tgmux::tl::Reader::new(Bytes::from(plain).slice(20..));
    let enums::ServerDhInnerData::ServerDhInnerData(inner) =
        enums::ServerDhInnerData::deserialize(&mut reader).unwrap();
    inner
}

/// Decrypts server_DH_params_ok's answer, lets `edit` change it, and encrypts it again the way
/// a server holding new_nonce would (valid SHA1 and padding): only the DH checks stand.
fn forge_inner(
    ok: &types::ServerDhParamsOk,
    new_nonce: &[u8; 32],
    edit: impl FnOnce(&mut types::ServerDhInnerData),
) -> Vec<u8> {
    let (key, iv) = crypto::nonce_aes_key_iv(&ok.server_nonce, new_nonce);
    let mut inner = decrypt_inner(ok, new_nonce);
    edit(&mut inner);
    let data = inner.to_bytes();
    let mut buf = crypto::sha1(&data).to_vec();
    buf.extend_from_slice(&data);
    buf.resize(buf.len().div_ceil(16) * 16, 0);
    crypto::aes_ige_encrypt(&mut buf, &key, &iv).unwrap();
    types::ServerDhParamsOk {
        nonce: ok.nonce,
        server_nonce: ok.server_nonce,
        encrypted_answer: Bytes::from(buf),
    }
    .to_bytes()
}

fn flip(mut x: [u8; 16]) -> [u8; 16] {
    x[7] ^= 0x20;
    x
}

#[test]
fn res_pq_with_another_nonce_is_refused() {
    let mut rng = StdRng::seed_from_u64(1);
    let srv = server::start(Arc::new(ServerConfig {
        keys: vec![server_key().clone()],
    }));
    let (req_pq, c) = client::start(
        ClientConfig {
            keys: vec![server_key().public_key().clone()],
            dc: Some(2),
            temp_expires_in: None,
        },
        &mut rng,
    );
    let (res_pq, _) = srv.handle(&req_pq, &mut rng).unwrap();
    let enums::ResPq::ResPq(mut r) = enums::ResPq::from_bytes(res_pq).unwrap();
    r.nonce = flip(r.nonce);
    assert_eq!(
        c.handle(&r.to_bytes(), &mut rng).unwrap_err(),
        AuthError::NonceMismatch
    );
}

/// The server_nonce of resPQ is the server's to choose; a req_DH_params that does not repeat
/// it is refused by the server.
#[test]
fn req_dh_params_with_another_server_nonce_than_res_pq_is_refused() {
    let (_, srv, req_dh, mut rng) = up_to_req_dh(2);
    let mut r = functions::ReqDhParams::from_bytes(req_dh).unwrap();
    r.server_nonce = flip(r.server_nonce);
    assert_eq!(
        srv.handle(&r.to_bytes(), NOW, &mut rng).unwrap_err(),
        AuthError::ServerNonceMismatch
    );
}

#[test]
fn server_dh_params_with_another_server_nonce_is_refused() {
    // In the clear part.
    let (c, srv, req_dh, mut rng) = up_to_req_dh(3);
    let (mut ok, _) = server_dh_params(srv, &req_dh, &mut rng);
    ok.server_nonce = flip(ok.server_nonce);
    assert_eq!(
        c.handle(&ok.to_bytes(), NOW, &mut rng).unwrap_err(),
        AuthError::ServerNonceMismatch
    );
    // Inside the encrypted answer, with a valid hash.
    let (c, srv, req_dh, mut rng) = up_to_req_dh(4);
    let nn = new_nonce(&c);
    let (ok, _) = server_dh_params(srv, &req_dh, &mut rng);
    let forged = forge_inner(&ok, &nn, |i| i.server_nonce = flip(i.server_nonce));
    assert_eq!(
        c.handle(&forged, NOW, &mut rng).unwrap_err(),
        AuthError::ServerNonceMismatch
    );
    // The same forging path with nothing changed is accepted: the refusals above are the
    // nonce checks, not the forging.
    let (c, srv, req_dh, mut rng) = up_to_req_dh(4);
    let (ok, _) = server_dh_params(srv, &req_dh, &mut rng);
    assert!(c
        .handle(&forge_inner(&ok, &nn, |_| {}), NOW, &mut rng)
        .is_ok());
}

#[test]
fn hostile_dh_prime_generator_and_g_a_are_refused() {
    let p = crypto::dh::telegram_dh_prime();
    let p_minus_1 = Bytes::from((&p - 1u32).to_bytes_be());
    let composite = Bytes::from((&p + 2u32).to_bytes_be());
    let short_prime = Bytes::from((BigUint::from(1u32) << 1023u32).to_bytes_be());
    type Edit = Box<dyn Fn(&mut types::ServerDhInnerData)>;
    let cases: Vec<(&str, Edit)> = vec![
        (
            "composite dh_prime",
            Box::new(move |i| i.dh_prime = composite.clone()),
        ),
        (
            "1024-bit dh_prime",
            Box::new(move |i| i.dh_prime = short_prime.clone()),
        ),
        ("g = 1", Box::new(|i| i.g = 1)),
        ("g = 8", Box::new(|i| i.g = 8)),
        ("g = -3", Box::new(|i| i.g = -3)),
        ("g_a = 1", Box::new(|i| i.g_a = Bytes::from_static(&[1]))),
        ("g_a = p - 1", Box::new(move |i| i.g_a = p_minus_1.clone())),
        (
            "g_a = 2^64",
            Box::new(|i| i.g_a = Bytes::from((BigUint::from(1u32) << 64u32).to_bytes_be())),
        ),
        (
            "g_a of 257 bytes",
            Box::new(|i| i.g_a = Bytes::from(vec![1u8; 257])),
        ),
    ];
    for (seed, (what, edit)) in cases.into_iter().enumerate() {
        let (c, srv, req_dh, mut rng) = up_to_req_dh(10 + seed as u64);
        let nn = new_nonce(&c);
        let (ok, _) = server_dh_params(srv, &req_dh, &mut rng);
        let forged = forge_inner(&ok, &nn, |i| edit(i));
        match c.handle(&forged, NOW, &mut rng) {
            Err(AuthError::DhCheck(_) | AuthError::Crypto(_)) => {}
            other => panic!("{what}: {other:?}"),
        }
    }
}

/// The exchange up to the client waiting for dh_gen_*, with the server's finished key (the
/// server answered dh_gen_ok, which the test holds back).
fn up_to_dh_gen(seed: u64) -> (AwaitDhGen, [u8; 32], types::DhGenOk, tgmux::crypto::AuthKey) {
    let (c, srv, req_dh, mut rng) = up_to_req_dh(seed);
    let nn = new_nonce(&c);
    let (answer, srv) = srv.handle(&req_dh, NOW, &mut rng).unwrap();
    let (set_dh, c) = c.handle(&answer, NOW, &mut rng).unwrap();
    let (gen, outcome) = srv.handle(&set_dh, |_| false).unwrap();
    let ServerOutcome::Done(done) = outcome else {
        panic!("retry")
    };
    let enums::SetClientDhParamsAnswer::DhGenOk(ok) =
        enums::SetClientDhParamsAnswer::from_bytes(gen).unwrap()
    else {
        panic!("not dh_gen_ok")
    };
    (c, nn, ok, done.auth_key)
}

#[test]
fn dh_gen_retry_and_fail_are_checked_by_their_new_nonce_hash() {
    let mut rng = StdRng::seed_from_u64(30);
    let retry = |ok: &types::DhGenOk, hash: [u8; 16]| {
        types::DhGenRetry {
            nonce: ok.nonce,
            server_nonce: ok.server_nonce,
            new_nonce_hash2: hash,
        }
        .to_bytes()
    };
    let fail = |ok: &types::DhGenOk, hash: [u8; 16]| {
        types::DhGenFail {
            nonce: ok.nonce,
            server_nonce: ok.server_nonce,
            new_nonce_hash3: hash,
        }
        .to_bytes()
    };
    // hash1 in place of hash2 / hash3, and a flipped hash: refused as forged.
    for (what, forged) in [
        ("retry with hash1", 2u8),
        ("retry with a flipped hash2", 2),
        ("fail with hash1", 3),
        ("fail with a flipped hash3", 3),
    ] {
        let (c, nn, ok, key) = up_to_dh_gen(31);
        let hash = if what.contains("hash1") {
            key.new_nonce_hash(&nn, 1)
        } else {
            flip(key.new_nonce_hash(&nn, forged))
        };
        let body = if forged == 2 {
            retry(&ok, hash)
        } else {
            fail(&ok, hash)
        };
        assert_eq!(
            c.handle(&body, &mut rng).unwrap_err(),
            AuthError::NewNonceHashMismatch,
            "{what}"
        );
    }
    // Genuine ones: dh_gen_fail ends the exchange, dh_gen_retry starts another attempt.
    let (c, nn, ok, key) = up_to_dh_gen(32);
    assert_eq!(
        c.handle(&fail(&ok, key.new_nonce_hash(&nn, 3)), &mut rng)
            .unwrap_err(),
        AuthError::DhGenFail
    );
    let (c, nn, ok, key) = up_to_dh_gen(33);
    let outcome = c
        .handle(&retry(&ok, key.new_nonce_hash(&nn, 2)), &mut rng)
        .unwrap();
    let DhGenOutcome::Retry(set_dh, _) = outcome else {
        panic!("not a retry")
    };
    let set_dh = functions::SetClientDhParams::from_bytes(set_dh).unwrap();
    assert_eq!(set_dh.server_nonce, ok.server_nonce);
}

/// A server whose key ids are always taken answers dh_gen_retry until its own cap; a server
/// that keeps going (forged, with valid hashes) is refused by the client's cap.
#[test]
fn endless_dh_gen_retry_stops_at_the_retry_caps() {
    let (c, srv, req_dh, mut rng) = up_to_req_dh(40);
    let nn = new_nonce(&c);
    let (answer, mut srv) = srv.handle(&req_dh, NOW, &mut rng).unwrap();
    let enums::ServerDhParams::ServerDhParamsOk(ok) =
        enums::ServerDhParams::from_bytes(answer.clone()).unwrap()
    else {
        panic!("not server_DH_params_ok")
    };
    let g_a = decrypt_inner(&ok, &nn).g_a;
    // The client draws its secret b first from its rng at each attempt: a copy of the rng
    // taken before the step knows the candidate key.
    let mut before = rng.clone();
    let (mut set_dh, mut c) = c.handle(&answer, NOW, &mut rng).unwrap();
    for _ in 0..MAX_RETRIES {
        let (gen, outcome) = srv.handle(&set_dh, |_| true).unwrap();
        let ServerOutcome::Retry(next) = outcome else {
            panic!("the server did not retry")
        };
        srv = next;
        before = rng.clone();
        let Ok(DhGenOutcome::Retry(body, next)) = c.handle(&gen, &mut rng) else {
            panic!("the client did not retry")
        };
        set_dh = body;
        c = next;
    }
    assert_eq!(
        srv.handle(&set_dh, |_| true).unwrap_err(),
        AuthError::TooManyRetries
    );
    let mut b = [0u8; 256];
    rand::RngCore::fill_bytes(&mut before, &mut b);
    let key = crypto::DhGroup::telegram()
        .shared_key(&g_a, &BigUint::from_bytes_be(&b))
        .unwrap();
    let retry = types::DhGenRetry {
        nonce: ok.nonce,
        server_nonce: ok.server_nonce,
        new_nonce_hash2: crypto::AuthKey::from_bytes(key).new_nonce_hash(&nn, 2),
    }
    .to_bytes();
    assert_eq!(
        c.handle(&retry, &mut rng).unwrap_err(),
        AuthError::TooManyRetries
    );
}

#[test]
fn dh_gen_answers_with_another_server_nonce_are_refused() {
    let mut rng = StdRng::seed_from_u64(50);
    let (c, _, mut ok, _) = up_to_dh_gen(51);
    ok.server_nonce = flip(ok.server_nonce);
    assert_eq!(
        c.handle(&ok.to_bytes(), &mut rng).unwrap_err(),
        AuthError::ServerNonceMismatch
    );
}

/// fuzz/seeds/auth_client/exchange_{ok,retry}: real exchanges (resPQ, server_DH_params_ok,
/// dh_gen_ok or dh_gen_retry) in the auth_client fuzz target's layout (u16 little-endian length
/// before each), with its server key and client rng, so the fuzzer starts past resPQ. The
/// checked-in files must be what the machines produce today (`TGMUX_WRITE_FUZZ_SEEDS=1`
/// rewrites them).
#[test]
fn auth_client_fuzz_seeds_are_a_real_exchange() {
    let key =
        tgmux::crypto::RsaPrivateKey::generate(2048, &mut StdRng::seed_from_u64(0xf022)).unwrap();
    let config = Arc::new(ServerConfig {
        keys: vec![key.clone()],
    });
    for (name, retry) in [("exchange_ok", false), ("exchange_retry", true)] {
        let mut rng = StdRng::seed_from_u64(4); // fuzz/src/lib.rs, auth_client
        let mut srng = StdRng::seed_from_u64(5);
        let client_config = ClientConfig {
            keys: vec![key.public_key().clone()],
            dc: Some(2),
            temp_expires_in: None,
        };
        let (req, c) = client::start(client_config, &mut rng);
        let (res_pq, srv) = server::start(config.clone())
            .handle(&req, &mut srng)
            .unwrap();
        let (req, c) = c.handle(&res_pq, &mut rng).unwrap();
        let (dh_params, srv) = srv.handle(&req, NOW, &mut srng).unwrap();
        let (req, c) = c.handle(&dh_params, NOW, &mut rng).unwrap();
        let (dh_gen, _) = srv.handle(&req, |_| retry).unwrap();
        match c.handle(&dh_gen, &mut rng).unwrap() {
            DhGenOutcome::Done(_) => assert!(!retry),
            DhGenOutcome::Retry(..) => assert!(retry),
        }
        let mut seed = Vec::new();
        for m in [&res_pq, &dh_params, &dh_gen] {
            seed.extend_from_slice(&u16::try_from(m.len()).unwrap().to_le_bytes());
            seed.extend_from_slice(m);
        }
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fuzz/seeds/auth_client")
            .join(name);
        if std::env::var_os("TGMUX_WRITE_FUZZ_SEEDS").is_some() {
            std::fs::write(&path, &seed).unwrap();
        }
        let checked_in = std::fs::read(&path).unwrap_or_default();
        assert!(
            checked_in == seed,
            "{} is stale: run with TGMUX_WRITE_FUZZ_SEEDS=1",
            path.display()
        );
    }
}
