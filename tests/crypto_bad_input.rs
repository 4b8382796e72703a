//! Malformed, truncated and random input to every crypto entry point that reads peer data:
//! each must answer with a typed error (or a correct result), never panic. Seeded, so a failure
//! reproduces.

use rand::{rngs::StdRng, Rng, RngCore, SeedableRng};
use tgmux::crypto::rsa::{base64_decode, TELEGRAM_TEST_KEY_PEM};
use tgmux::crypto::{
    check_plaintext_layout, decrypt_message, encrypt_message, factorize, pad_message, AuthKey,
    CryptoError, DhGroup, RsaPrivateKey, RsaPublicKey, Side,
};

fn rng() -> StdRng {
    StdRng::seed_from_u64(0xbad)
}

#[test]
fn random_and_mutated_packets() {
    let mut rng = rng();
    let mut raw = [0u8; 256];
    rng.fill_bytes(&mut raw);
    let key = AuthKey::from_bytes(raw);
    for _ in 0..2000 {
        let len = rng.gen_range(0..400);
        let mut packet = vec![0u8; len];
        rng.fill_bytes(&mut packet);
        if len >= 8 && rng.gen_bool(0.5) {
            packet[..8].copy_from_slice(&key.id_bytes());
        }
        let side = if rng.gen_bool(0.5) {
            Side::Client
        } else {
            Side::Server
        };
        // Random ciphertext essentially never passes the msg_key check.
        assert!(decrypt_message(&key, side, &packet).is_err());
        let _ = check_plaintext_layout(&packet);
    }
    // Valid packets whose plaintext lies about its length (64 bytes in all: a body of 24 would
    // leave 8 bytes of padding) are refused after decryption.
    for claimed in [24u32, 3, 5, 36, 1000, u32::MAX, 0x8000_0000] {
        let mut plain = vec![0u8; 32 + 16];
        plain[28..32].copy_from_slice(&claimed.to_le_bytes());
        pad_message(&mut plain, &mut rng);
        let packet = encrypt_message(&key, Side::Server, &plain).unwrap();
        assert!(matches!(
            decrypt_message(&key, Side::Server, &packet),
            Err(CryptoError::BadLength { .. })
        ));
    }
}

#[test]
fn random_and_mutated_keys() {
    let mut rng = rng();
    let der = {
        let body: String = TELEGRAM_TEST_KEY_PEM
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .collect();
        base64_decode(&body).unwrap()
    };
    for _ in 0..3000 {
        let mut d = der.clone();
        match rng.gen_range(0..3) {
            0 => {
                let i = rng.gen_range(0..d.len());
                d[i] ^= 1 << rng.gen_range(0..8);
            }
            1 => d.truncate(rng.gen_range(0..d.len())),
            _ => {
                d = vec![0u8; rng.gen_range(0..300)];
                rng.fill_bytes(&mut d);
            }
        }
        if let Ok(k) = RsaPublicKey::from_pkcs1_der(&d) {
            // A bit flip inside n still makes a key; its fingerprint must just be computable.
            let _ = k.fingerprint();
        }
    }
    for _ in 0..300 {
        let len = rng.gen_range(0..200);
        let s: String = (0..len).map(|_| rng.gen_range(32u8..127) as char).collect();
        let _ = base64_decode(&s);
        let pem = format!("-----BEGIN RSA PRIVATE KEY-----\n{s}\n-----END RSA PRIVATE KEY-----");
        assert!(RsaPrivateKey::from_pkcs1_pem(&pem).is_err());
        let _ = RsaPublicKey::from_pkcs1_pem(&pem.replace("PRIVATE", "PUBLIC"));
    }
}

#[test]
fn random_rsa_ciphertexts() {
    let mut rng = rng();
    let key = RsaPrivateKey::generate(2048, &mut StdRng::seed_from_u64(0x007e_57dc)).unwrap();
    for _ in 0..40 {
        let len = if rng.gen_bool(0.8) {
            256
        } else {
            rng.gen_range(0..300)
        };
        let mut c = vec![0u8; len];
        rng.fill_bytes(&mut c);
        assert!(key.decrypt_inner_data(&c).is_err());
        assert!(key.rsa_pad_decrypt(&c).is_err());
    }
}

#[test]
fn random_pq_values() {
    let mut rng = rng();
    for _ in 0..300 {
        let n: u64 = rng.gen::<u64>() >> rng.gen_range(0..40);
        if let Ok((p, q)) = factorize(n) {
            assert_eq!(p.checked_mul(q), Some(n));
            assert!(p < q);
        }
    }
}

#[test]
fn random_dh_primes_and_generators() {
    let mut rng = rng();
    for _ in 0..10 {
        let len = if rng.gen_bool(0.7) {
            256
        } else {
            rng.gen_range(0..300)
        };
        let mut p = vec![0u8; len];
        rng.fill_bytes(&mut p);
        let g = rng.gen_range(0..10);
        assert!(DhGroup::new(g, &p, &mut rng).is_err());
    }
}
