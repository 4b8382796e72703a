//! Oracles for AES-IGE and MTProto 2.0 message crypto: published vectors from grammers-crypto
//! (`src/lib.rs`, `src/auth_key.rs` tests) and cross-checks against the grammers-crypto crate.

use hex_literal::hex;
use rand::{rngs::StdRng, RngCore, SeedableRng};
use tgmux::crypto::{
    aes_ige_decrypt, aes_ige_encrypt, calc_msg_key, decrypt_message, decrypt_message_in_place,
    derive_aes_key_iv, encrypt_message, nonce_aes_key_iv, pad_message, AuthKey, CryptoError, Side,
};

fn counting<const N: usize>() -> [u8; N] {
    std::array::from_fn(|i| i as u8)
}

#[test]
fn ige_vectors_from_grammers() {
    // grammers-crypto verify_ige_encryption / verify_ige_decryption: key = iv = data = 0..32.
    let k: [u8; 32] = counting();
    let mut data = k;
    aes_ige_encrypt(&mut data, &k, &k).unwrap();
    assert_eq!(
        data,
        hex!("e28112a53e5c89c7b1ea8071c133699fd4e86b26c4bac9fc5af1ab8ce27a44a4")
    );
    let mut data = k;
    aes_ige_decrypt(&mut data, &k, &k).unwrap();
    assert_eq!(
        data,
        hex!("e5777afacd7b2c16f7ac40cae61ef603fee6098fb8a8860ab9ee672cd7e5bacc")
    );
}

#[test]
fn ige_cross_check_with_grammers_both_ways() {
    let mut rng = StdRng::seed_from_u64(1);
    for blocks in [1usize, 2, 7, 64, 1000] {
        let mut key = [0u8; 32];
        let mut iv = [0u8; 32];
        rng.fill_bytes(&mut key);
        rng.fill_bytes(&mut iv);
        let mut plain = vec![0u8; blocks * 16];
        rng.fill_bytes(&mut plain);

        let theirs = grammers_crypto::encrypt_ige(&plain, &key, &iv);
        let mut ours = plain.clone();
        aes_ige_encrypt(&mut ours, &key, &iv).unwrap();
        assert_eq!(ours, theirs, "encrypt, {blocks} blocks");

        let mut back = theirs.clone();
        aes_ige_decrypt(&mut back, &key, &iv).unwrap();
        assert_eq!(back, plain);
        assert_eq!(grammers_crypto::decrypt_ige(&ours, &key, &iv), plain);
    }
}

#[test]
fn key_derivation_vectors_from_grammers() {
    // grammers-crypto calc_client_key / calc_server_key: auth_key = 0..256, msg_key = 0..16.
    let auth_key: [u8; 256] = counting();
    let msg_key: [u8; 16] = counting();
    assert_eq!(
        derive_aes_key_iv(&auth_key, &msg_key, Side::Client),
        (
            hex!("704ed09c8b41668ae8f99d244738f71dbddc44469b6bbd4aa8573dd042bd059e"),
            hex!("4d266000a550edabbf4c7ce40fd0043cc92230184cd317a5cc9c2482fd3b9318"),
        )
    );
    assert_eq!(
        derive_aes_key_iv(&auth_key, &msg_key, Side::Server),
        (
            hex!("217725799b24580645817 4a1fcfbc883906807b15033fdd0ea2b4d69cf9c364e"),
            hex!("669a6538917a4fa56ca32360a431c9160be4ad887140980dab91ce7bdc47ffbc"),
        )
    );
}

#[test]
fn auth_key_id_aux_hash_and_nonce_hashes_from_grammers() {
    let key = AuthKey::from_bytes(counting());
    assert_eq!(key.id_bytes(), [50, 209, 88, 110, 164, 87, 223, 200]);
    assert_eq!(
        key.id(),
        u64::from_le_bytes([50, 209, 88, 110, 164, 87, 223, 200])
    );
    assert_eq!(key.aux_hash(), [73, 22, 214, 189, 183, 247, 142, 104]);
    let nonce: [u8; 32] = counting();
    assert_eq!(
        key.new_nonce_hash(&nonce, 1),
        hex!("c2ced2b33e593a55d27f4a5dabee7c67")
    );
    assert_eq!(
        key.new_nonce_hash(&nonce, 2),
        hex!("f4318e85bd2ff3be84d9fefce3dce39f")
    );
    assert_eq!(
        key.new_nonce_hash(&nonce, 3),
        hex!("4bf9d7b37db413ee431d28517631cb3d")
    );
}

#[test]
fn nonce_key_iv_vector_from_grammers() {
    // grammers-crypto key_from_nonce: server_nonce = 0..16, new_nonce = 0..32.
    let (key, iv) = nonce_aes_key_iv(&counting(), &counting());
    assert_eq!(
        key,
        hex!("0758f1533b615d24f6e8a94a6fcbee0a55eaab2217d7295ca9213d1a2d7d16a6")
    );
    assert_eq!(
        iv,
        hex!("5a84108e9805656ce864070e166e6218f6783e8511471a5ab7802cf200010203")
    );
}

#[test]
fn encrypt_client_message_vector_from_grammers() {
    // grammers-crypto encrypt_client_data_v2: 45 bytes of text + 19 zero bytes of padding.
    let key = AuthKey::from_bytes(counting());
    let mut plain = b"Hello, world! This data should remain secure!".to_vec();
    plain.extend_from_slice(&[0u8; 19]);
    let packet = encrypt_message(&key, Side::Client, &plain).unwrap();
    assert_eq!(
        packet,
        hex!(
            "32d1586ea457dfc8a81729d46db54019a2bfd7f744f9b96c4f716cfdc4477db2"
            "a2c15f6ddb85235fb9552f1d8407c6aaea00cc844c5a1bf6ac44b79b5edc2a23"
            "868b3d6073a590992c0f2975243d563ea180d218ee757c9a"
        )
    );
    // And back, as the server would (no layout check: this is not an MTProto plaintext).
    let mut p = packet.clone();
    assert_eq!(
        decrypt_message_in_place(&key, Side::Client, &mut p).unwrap(),
        &plain[..]
    );
}

fn grammers_server_vector() -> (AuthKey, Vec<u8>, Vec<u8>) {
    let key = AuthKey::from_bytes(hex!(
        "5d2e7d65f49ec28bd029a88761ea27b8a4c79f12226525443e7d7c596ef3303530db2107e89aa997c7a0164ab694187a"
        "deff156bd6ef7118a1962347753c0e7e89a0354b8ec364f9997e71bc6923fb86e8e43491e010606a6ce845e2fa019409"
        "77ef0aa32adf5a97dbf6d428ec0434d717a2d3ad19622cc05887642113c7965ffb862a3e3ccb0ab95addda57f89245db"
        "d76b492348f8e94bd5a7c0e0b84808523cfd1ea80b32fe9ad198bc2e103fceb7d52492ecc0273a28674bc923eee59265"
        "ab17a002df1f4aa2c59b819a5e5e1d105ec117336f5c76c6b187037d4b4270cee9cc21071d97e9bca220c6d7b01b998c"
        "f2e5cdb9a50ecda1852a36e635690c8e"
    ));
    let packet = hex!(
        "7a7183c2c10e4f4df945fa9a9abd35e7c3840b61f045304f39674c19c0e209784f50f6226a073529d675c92cbf0bfa8c"
        "99a79b3f39c72a5d9a026d431ab7407ca04ecc55187d6c45f17871524edd90cea02ed728e14d7cb18aea2a636158f094"
        "59a9437710d894c79f368c4e8164b7647ea98612aefe942c5d92121acb8db02dccceb66d0f8720ac12a06db0582bfd95"
        "5be34f365118e3bab8cd080ce6b45b28eac56dcd2a29374e"
    )
    .to_vec();
    let plain = hex!(
        "fc826a02248b28fd60f2c4822443ad6801f0c1c2918b305e02000000580000 00dcf8f17302000000 01a8c1c2918b305e"
        "010000001c0000000809c29ec4fd33ad918b305e18a88ea607ee5816fc826a02248b28fd01ccc1c2918b305e02000000"
        "14000000c5737734c4fd33ad918b305e6408300000000000fce66704a3cd8ee9d0ae6fab672c60c04a3f1fd4490e51f6"
    )
    .to_vec();
    (key, packet, plain)
}

#[test]
fn decrypt_server_message_vector_from_grammers() {
    // grammers-crypto decrypt_server_data_v2: a real server message (a container).
    let (key, packet, plain) = grammers_server_vector();
    assert_eq!(decrypt_message(&key, Side::Server, &packet).unwrap(), plain);
    // The same bytes read as a client message fail the msg_key check.
    assert_eq!(
        decrypt_message(&key, Side::Client, &packet),
        Err(CryptoError::MsgKeyMismatch)
    );
}

#[test]
fn forged_and_truncated_packets_are_typed_errors() {
    let (key, packet, _) = grammers_server_vector();
    // Any flipped bit in msg_key or ciphertext fails the msg_key check.
    for i in [8, 23, 24, 60, packet.len() - 1] {
        let mut p = packet.clone();
        p[i] ^= 0x01;
        assert_eq!(
            decrypt_message(&key, Side::Server, &p),
            Err(CryptoError::MsgKeyMismatch),
            "byte {i}"
        );
    }
    let mut p = packet.clone();
    p[0] ^= 1;
    assert!(matches!(
        decrypt_message(&key, Side::Server, &p),
        Err(CryptoError::AuthKeyIdMismatch { .. })
    ));
    for len in [0, 8, 24, 39, 41, packet.len() - 1] {
        assert!(matches!(
            decrypt_message(&key, Side::Server, &packet[..len]),
            Err(CryptoError::BadLength { .. })
        ));
    }
    assert!(encrypt_message(&key, Side::Client, &[0u8; 15]).is_err());
    assert!(encrypt_message(&key, Side::Client, &[]).is_err());
}

/// A plausible MTProto plaintext: header with the given body length, body, random padding.
fn mtproto_plaintext(rng: &mut StdRng, body_len: usize) -> Vec<u8> {
    let mut plain = vec![0u8; 32 + body_len];
    rng.fill_bytes(&mut plain);
    plain[28..32].copy_from_slice(&(body_len as u32).to_le_bytes());
    pad_message(&mut plain, rng);
    plain
}

#[test]
fn our_client_messages_decrypt_with_ours_both_sides_distinct() {
    let mut rng = StdRng::seed_from_u64(7);
    let mut raw = [0u8; 256];
    rng.fill_bytes(&mut raw);
    let key = AuthKey::from_bytes(raw);
    for body_len in [0usize, 4, 100, 4096] {
        let plain = mtproto_plaintext(&mut rng, body_len);
        for side in [Side::Client, Side::Server] {
            let packet = encrypt_message(&key, side, &plain).unwrap();
            assert_eq!(decrypt_message(&key, side, &packet).unwrap(), plain);
            let other = if side == Side::Client {
                Side::Server
            } else {
                Side::Client
            };
            assert_eq!(
                decrypt_message(&key, other, &packet),
                Err(CryptoError::MsgKeyMismatch)
            );
        }
        assert_eq!(
            &encrypt_message(&key, Side::Client, &plain).unwrap()[8..24],
            &calc_msg_key(&key, &plain, Side::Client)
        );
    }
}

#[test]
fn cross_check_with_grammers_crypto_both_directions() {
    let mut rng = StdRng::seed_from_u64(11);
    let mut raw = [0u8; 256];
    rng.fill_bytes(&mut raw);
    let ours = AuthKey::from_bytes(raw);
    let theirs = grammers_crypto::AuthKey::from_bytes(raw);
    for body_len in [4usize, 64, 1000] {
        // Their client encrypts (random padding of their choice); our server decrypts.
        let plain = mtproto_plaintext(&mut rng, body_len);
        let unpadded = &plain[..32 + body_len];
        let mut buf = grammers_crypto::DequeBuffer::with_capacity(unpadded.len(), 0);
        buf.extend(unpadded.iter().copied());
        grammers_crypto::encrypt_data_v2(&mut buf, &theirs);
        let got = decrypt_message(&ours, Side::Client, &buf[..]).unwrap();
        assert_eq!(&got[..32 + body_len], unpadded);

        // Our server encrypts; their client decrypts.
        let packet = encrypt_message(&ours, Side::Server, &plain).unwrap();
        assert_eq!(
            grammers_crypto::decrypt_data_v2(&packet, &theirs).unwrap(),
            plain
        );
    }
}
