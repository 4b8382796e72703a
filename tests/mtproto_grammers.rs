//! Cross-checks with an implementation we did not write: grammers (crates.io, dev-dependency).
//!
//! - A client made of grammers-crypto primitives (their RSA_PAD, IGE, nonce KDF, PQ
//!   factorisation, new_nonce_hash) runs a full key exchange against OUR server machine, once
//!   with RSA_PAD and once with the old RSA scheme (built here from the spec).
//! - grammers-mtproto's encrypted MTP client (`mtp::Encrypted`) talks to OUR server session in
//!   memory: its requests decrypt and dispatch on our side, our rpc_results decrypt on theirs.

mod mtproto_util;

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::{Bytes, BytesMut};
use grammers_crypto::DequeBuffer;
use grammers_mtproto::mtp::{Deserialization, Encrypted, Mtp};
use mtproto_util::pair::{handshake, server_key};
use num_bigint::BigUint;
use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};
use sha1::{Digest, Sha1};
use tgmux::mtproto::auth::server::{self, ServerConfig, ServerOutcome};
use tgmux::mtproto::session::{Event, SaltSchedule, ServerSession, ServerSessionConfig};
use tgmux::tl::{enums, functions, types, Bytes as TlBytes, Deserializable, Reader, Serializable};

fn sha1(data: &[u8]) -> [u8; 20] {
    Sha1::digest(data).into()
}

fn be(v: u64) -> TlBytes {
    let b = v.to_be_bytes();
    TlBytes::copy_from_slice(&b[b.iter().position(|&x| x != 0).unwrap()..])
}

/// The spec's old scheme: RSA(SHA1(data) | data | random padding to 255 bytes), raw.
fn old_rsa(data: &[u8], n: &BigUint, e: &BigUint, rng: &mut StdRng) -> Vec<u8> {
    let mut block = sha1(data).to_vec();
    block.extend_from_slice(data);
    let start = block.len();
    block.resize(255, 0);
    rng.fill_bytes(&mut block[start..]);
    let c = BigUint::from_bytes_be(&block).modpow(e, n).to_bytes_be();
    let mut out = vec![0u8; 256 - c.len()];
    out.extend_from_slice(&c);
    out
}

fn exchange_with_grammers_primitives(old_scheme: bool, seed: u64) {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut srng = StdRng::seed_from_u64(seed + 1);
    let now = 1_700_000_000i64;
    let state = server::start(Arc::new(ServerConfig {
        keys: vec![server_key().clone()],
    }));

    let mut nonce = [0u8; 16];
    rng.fill_bytes(&mut nonce);
    let (res, state) = state
        .handle(&functions::ReqPqMulti { nonce }.to_bytes(), &mut srng)
        .unwrap();
    let res_pq = types::ResPq::from_bytes(TlBytes::from(res)).unwrap();
    assert_eq!(res_pq.nonce, nonce);
    let pq = u64::from_be_bytes(res_pq.pq.as_ref().try_into().unwrap());
    let (p, q) = grammers_crypto::factorize::factorize(pq);
    assert_eq!(p * q, pq);
    let mut new_nonce = [0u8; 32];
    rng.fill_bytes(&mut new_nonce);
    let server_nonce = res_pq.server_nonce;
    let inner = types::PQInnerDataDc {
        pq: res_pq.pq.clone(),
        p: be(p),
        q: be(q),
        nonce,
        server_nonce,
        new_nonce,
        dc: 2,
    }
    .to_bytes();
    let public = server_key().public_key();
    assert_eq!(
        res_pq.server_public_key_fingerprints,
        vec![public.fingerprint() as i64]
    );
    let encrypted = if old_scheme {
        old_rsa(&inner, public.n(), public.e(), &mut rng)
    } else {
        let key = grammers_crypto::rsa::Key::new(
            &public.n().to_str_radix(10),
            &public.e().to_str_radix(10),
        )
        .unwrap();
        let mut random = [0u8; 224];
        rng.fill_bytes(&mut random);
        grammers_crypto::rsa::encrypt_hashed(&inner, &key, &random)
    };
    let req = functions::ReqDhParams {
        nonce,
        server_nonce,
        p: be(p),
        q: be(q),
        public_key_fingerprint: public.fingerprint() as i64,
        encrypted_data: TlBytes::from(encrypted),
    };
    let (res, state) = state.handle(&req.to_bytes(), now, &mut srng).unwrap();
    assert_eq!(state.request().old_rsa, old_scheme);
    assert_eq!(state.request().dc, Some(2));

    let enums::ServerDhParams::ServerDhParamsOk(ok) =
        enums::ServerDhParams::from_bytes(TlBytes::from(res)).unwrap()
    else {
        panic!("server_DH_params_fail")
    };
    let (key, iv) = grammers_crypto::generate_key_data_from_nonce(&server_nonce, &new_nonce);
    let answer = grammers_crypto::decrypt_ige(&ok.encrypted_answer, &key, &iv);
    let mut r = Reader::new(TlBytes::copy_from_slice(&answer[20..]));
    let inner = types::ServerDhInnerData::deserialize(&mut r).unwrap();
    assert_eq!(sha1(&answer[20..20 + r.position()]), answer[..20]);
    assert!(r.remaining() < 16);
    assert_eq!(inner.server_time as i64, now);
    let dh_prime = BigUint::from_bytes_be(&inner.dh_prime);
    let g_a = BigUint::from_bytes_be(&inner.g_a);
    let mut b = [0u8; 256];
    rng.fill_bytes(&mut b);
    let b = BigUint::from_bytes_be(&b);
    let g_b = BigUint::from(inner.g as u32).modpow(&b, &dh_prime);
    let auth_key = {
        let k = g_a.modpow(&b, &dh_prime).to_bytes_be();
        let mut out = [0u8; 256];
        out[256 - k.len()..].copy_from_slice(&k);
        out
    };
    let client_inner = types::ClientDhInnerData {
        nonce,
        server_nonce,
        retry_id: 0,
        g_b: TlBytes::from(g_b.to_bytes_be()),
    }
    .to_bytes();
    let mut data = sha1(&client_inner).to_vec();
    data.extend_from_slice(&client_inner);
    while data.len() % 16 != 0 {
        data.push(rng.next_u32() as u8);
    }
    let encrypted = grammers_crypto::encrypt_ige(&data, &key, &iv);
    let set = functions::SetClientDhParams {
        nonce,
        server_nonce,
        encrypted_data: TlBytes::from(encrypted),
    }
    .to_bytes();
    let (res, outcome) = state.handle(&set, |_| false).unwrap();
    let ServerOutcome::Done(done) = outcome else {
        panic!("retry")
    };
    assert_eq!(
        done.auth_key.as_bytes(),
        &auth_key,
        "our server derived another key"
    );
    let enums::SetClientDhParamsAnswer::DhGenOk(gen) =
        enums::SetClientDhParamsAnswer::from_bytes(TlBytes::from(res)).unwrap()
    else {
        panic!("not dh_gen_ok")
    };
    let theirs = grammers_crypto::AuthKey::from_bytes(auth_key);
    assert_eq!(
        gen.new_nonce_hash1,
        theirs.calc_new_nonce_hash(&new_nonce, 1)
    );
    let mut salt = [0u8; 8];
    for i in 0..8 {
        salt[i] = new_nonce[i] ^ server_nonce[i];
    }
    assert_eq!(done.server_salt, i64::from_le_bytes(salt));
}

#[test]
fn grammers_primitives_client_against_our_server_rsa_pad() {
    exchange_with_grammers_primitives(false, 1);
    exchange_with_grammers_primitives(false, 2);
}

#[test]
fn old_rsa_scheme_client_against_our_server() {
    exchange_with_grammers_primitives(true, 3);
}

fn real_now() -> Duration {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap()
}

#[test]
fn grammers_encrypted_client_against_our_server_session() {
    let now = real_now();
    let (c, s) = handshake(42, now.as_secs(), Some(2), None);
    let salts = SaltSchedule::new(3600, 9);
    let salt = salts.at(now.as_secs() as i64).salt;
    let mut server = ServerSession::new(
        ServerSessionConfig {
            auth_key: s.auth_key,
            salts,
        },
        Box::new(StdRng::seed_from_u64(5)),
    );
    let mut mtp = Encrypted::build()
        .time_offset(0)
        .first_salt(salt)
        .finish(*c.auth_key.as_bytes());

    // Requests: a small one, and a large compressible one (grammers gzips it).
    let small: Vec<u8> = [0x1234_5678u32.to_le_bytes(), 7u32.to_le_bytes()].concat();
    let mut large = 0x1234_5678u32.to_le_bytes().to_vec();
    large.extend(std::iter::repeat_n(b'a', 8192));
    let mut answered = 0;
    for request in [small, large] {
        let mut buf = DequeBuffer::with_capacity(1 << 16, 64);
        mtp.push(&mut buf, &request).expect("pushed");
        mtp.finalize(&mut buf).expect("finalized");
        server
            .handle_input(BytesMut::from(buf.as_ref()), real_now())
            .expect("our server accepts grammers' packet");
        let mut got = Vec::new();
        while let Some(ev) = server.poll_event() {
            if let Event::Request { msg_id, body } = ev {
                got.push(body.clone());
                // Answer with the request reversed in 4-byte words, gzip allowed.
                let mut answer = body.to_vec();
                answer.reverse();
                server.respond(msg_id, Bytes::from(answer), true);
            }
        }
        assert_eq!(
            got,
            vec![Bytes::from(request.clone())],
            "gzip from grammers undone, body intact"
        );
        let mut out = Vec::new();
        while server.poll_transmit(real_now(), &mut out) {
            for d in mtp.deserialize(&out).expect("grammers accepts our packet") {
                if let Deserialization::RpcResult(r) = d {
                    if r.body.starts_with(&0xae50_0895u32.to_le_bytes()) {
                        // grammers' own get_future_salts, answered by our server: parsed fine.
                        continue;
                    }
                    let mut expected = request.clone();
                    expected.reverse();
                    assert_eq!(r.body, expected);
                    answered += 1;
                }
            }
        }
    }
    assert_eq!(answered, 2);
}
