//! RSA oracles: Telegram's published key fingerprints, grammers-crypto's RSA_PAD vector under
//! the test-DC key, and grammers-crypto's RSA_PAD encryption decrypted by our server key.

use std::sync::OnceLock;

use hex_literal::hex;
use rand::{rngs::StdRng, RngCore, SeedableRng};
use tgmux::crypto::rsa::{
    rsa_old_encrypt, rsa_pad_encrypt, TELEGRAM_PRODUCTION_KEY_PEM, TELEGRAM_TEST_KEY_PEM,
};
use tgmux::crypto::{CryptoError, RsaPlaintext, RsaPrivateKey, RsaPublicKey};

/// Hands out fixed bytes in order (to replay a recorded exchange's randomness).
struct Replay(Vec<u8>);

impl RngCore for Replay {
    fn next_u32(&mut self) -> u32 {
        let mut b = [0u8; 4];
        self.fill_bytes(&mut b);
        u32::from_le_bytes(b)
    }
    fn next_u64(&mut self) -> u64 {
        let mut b = [0u8; 8];
        self.fill_bytes(&mut b);
        u64::from_le_bytes(b)
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        assert!(dest.len() <= self.0.len(), "replay ran out of bytes");
        dest.copy_from_slice(&self.0[..dest.len()]);
        self.0.drain(..dest.len());
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

/// The key our test server would hold: generated from a fixed seed, so every run is the same.
fn server_key() -> &'static RsaPrivateKey {
    static KEY: OnceLock<RsaPrivateKey> = OnceLock::new();
    KEY.get_or_init(|| {
        RsaPrivateKey::generate(2048, &mut StdRng::seed_from_u64(0x007e_57dc)).unwrap()
    })
}

#[test]
fn telegram_key_fingerprints() {
    let prod = RsaPublicKey::from_pkcs1_pem(TELEGRAM_PRODUCTION_KEY_PEM).unwrap();
    assert_eq!(prod.fingerprint(), 0xd09d1d85de64fd85);
    let test = RsaPublicKey::from_pkcs1_pem(TELEGRAM_TEST_KEY_PEM).unwrap();
    assert_eq!(test.fingerprint(), 0xb25898df208d2603);
    assert_eq!(test.e(), &65537u32.into());
    assert_eq!(test.n().bits(), 2048);
    // Writing the PEM back gives the same key.
    assert_eq!(
        RsaPublicKey::from_pkcs1_pem(&test.to_pkcs1_pem()).unwrap(),
        test
    );
}

#[test]
fn rsa_pad_vector_from_grammers() {
    // grammers-crypto rsa.rs test_rsa_encryption: the test-DC key (given there in decimal),
    // a p_q_inner_data of 96 bytes, and 224 random bytes: padding = random[..192 - len],
    // temp_key = random[192..224].
    let key = RsaPublicKey::from_pkcs1_pem(TELEGRAM_TEST_KEY_PEM).unwrap();
    let n_decimal = "25342889448840415564971689590713473206898847759084779052582026594546022463853940585885215951168491965708222649399180603818074200620463776135424884632162512403163793083921641631564740959529419359595852941166848940585952337613333022396096584117954892216031229237302943701877588456738335398602461675225081791820393153757504952636234951323237820036543581047826906120927972487366805292115792231423684261262330394324750785450942589751755390156647751460719351439969059949569615302809050721500330239005077889855323917509948255722081644689442127297605422579707142646660768825302832201908302295573257427896031830742328565032949";
    assert_eq!(key.n().to_str_radix(10), n_decimal);
    let data = hex!(
        "955ff5a9081a8e635f5743de9b00000004453dc27100000004622f1fcb000000f7a81627bbf511fa4afef71e"
        "94a0937474586c1add9198dda81a5df8393871c8293623c5fb968894af1be7dfe9c7be813f9307789242fd0c"
        "b0c16a5cb39a8d3e"
    );
    let random = hex!(
        "12270000635593b03fee033d0672f9afddf9124de9e77df6251806cba93482e4c9e6e06e7d44e4c4baae821a"
        "ff91af44789689faaee9bdfc7b2df8c08709afe57396c4638ceaa0dc30114f82447e81d3b53edc423b32660c"
        "43a5b8ad057b6450000000000000000000000000000000000000000000000000000000000000000000000000"
        "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
        "000000000000000000000000000000007dada0920c4973913229e0f881aec7b9db0c392d34f52fb0995ea493"
        "ecb4c09d"
    );
    assert_eq!(random.len(), 224);
    // That temp_key gives a block above n, so a second one is drawn: grammers takes
    // temp_key + 1 (big-endian), which we feed as the next random bytes. This exercises the
    // retry path of the scheme.
    let mut stream = random[..192 - data.len()].to_vec();
    stream.extend_from_slice(&random[192..]);
    let mut next_key = random[192..].to_vec();
    next_key[31] += 1; // ...c09d -> ...c09e, no carry
    stream.extend_from_slice(&next_key);
    let out = rsa_pad_encrypt(&data, &key, &mut Replay(stream)).unwrap();
    assert_eq!(
        out,
        hex!(
            "b610642a828b4a61fe32931815cae318d311660580f1e0df768f3140f4d37dfcfcac0c2870318de4ff2d2e0e"
            "9669bcfdc0bad06cadb1b59d9726b427368a9c7b4fc0d5e7b2e99fc571968705c03acf5341fd7021bef653fa"
            "77b3776ae430e366fc46d232459ebe128b08d80e049ae579a48b56ca93b520709468587c81af96666046e9ea"
            "85091d729e921e8d8a36f57b27644052dae7387c7f4131701d59cda75251dac66c94276280ef950d3c44c21e"
            "5a2454f7da7a6818cf23ae9c490b72b2170d7cbc24f8a93db739d76f2d241c78b80123faaff3e664f074d637"
            "5d794dbf2800a0b5bb48d54eceafedfb355bfbebd287d9023264e3b53627888250787a9e"
        )
    );
}

#[test]
fn grammers_rsa_pad_under_our_server_key_decrypts_with_ours() {
    let key = server_key();
    let theirs = grammers_crypto::rsa::Key::new(
        &key.public_key().n().to_str_radix(10),
        &key.public_key().e().to_str_radix(10),
    )
    .unwrap();
    let mut rng = StdRng::seed_from_u64(3);
    for len in [0usize, 1, 96, 144] {
        let mut data = vec![0u8; len];
        rng.fill_bytes(&mut data);
        let mut random = [0u8; 224];
        rng.fill_bytes(&mut random);
        let encrypted = grammers_crypto::rsa::encrypt_hashed(&data, &theirs, &random);
        let plain = key.rsa_pad_decrypt(&encrypted).unwrap();
        assert_eq!(&plain[..len], &data[..]);
        assert_eq!(&plain[len..], &random[..192 - len]);
        assert_eq!(
            key.decrypt_inner_data(&encrypted).unwrap(),
            RsaPlaintext::Pad(Box::new(plain))
        );
    }
}

#[test]
fn our_rsa_pad_roundtrip_and_forgeries() {
    let key = server_key();
    let mut rng = StdRng::seed_from_u64(4);
    let data = b"p_q_inner_data_dc goes here".to_vec();
    let encrypted = rsa_pad_encrypt(&data, key.public_key(), &mut rng).unwrap();
    let plain = key.rsa_pad_decrypt(&encrypted).unwrap();
    assert_eq!(&plain[..data.len()], &data[..]);

    // Any change to the ciphertext breaks the hash (or the range check).
    for i in [0usize, 1, 100, 255] {
        let mut forged = encrypted;
        forged[i] ^= 0x40;
        let err = key.rsa_pad_decrypt(&forged).unwrap_err();
        assert!(
            matches!(
                err,
                CryptoError::RsaHashMismatch | CryptoError::RsaValueOutOfRange
            ),
            "{err:?}"
        );
    }
    // Not below n; wrong lengths; too much data.
    assert_eq!(
        key.rsa_pad_decrypt(&[0xff; 256]),
        Err(CryptoError::RsaValueOutOfRange)
    );
    assert!(matches!(
        key.rsa_pad_decrypt(&encrypted[..255]),
        Err(CryptoError::BadLength { .. })
    ));
    assert!(key
        .rsa_pad_decrypt(&[encrypted.as_slice(), &[0]].concat())
        .is_err());
    assert!(rsa_pad_encrypt(&[0u8; 145], key.public_key(), &mut rng).is_err());
    // A raw block that is neither scheme is rejected by the combined decryptor.
    let mut junk = [0x11u8; 256];
    junk[0] = 0x01;
    let c = key.public_key().encrypt_raw(&junk).unwrap();
    assert_eq!(
        key.decrypt_inner_data(&c),
        Err(CryptoError::RsaHashMismatch)
    );
}

#[test]
fn old_scheme_roundtrip_and_hash_check() {
    let key = server_key();
    let mut rng = StdRng::seed_from_u64(5);
    let data = vec![0xabu8; 96];
    let encrypted = rsa_old_encrypt(&data, key.public_key(), &mut rng).unwrap();
    let old = key.rsa_old_decrypt(&encrypted).unwrap();
    assert_eq!(old.data(96).unwrap(), &data[..]);
    assert_eq!(old.data(95), Err(CryptoError::RsaHashMismatch));
    assert!(old.data(236).is_err());
    match key.decrypt_inner_data(&encrypted).unwrap() {
        RsaPlaintext::Old(old) => assert_eq!(old.data(96).unwrap(), &data[..]),
        other => panic!("expected the old scheme, got {other:?}"),
    }
    assert!(rsa_old_encrypt(&[0u8; 236], key.public_key(), &mut rng).is_err());
}

#[test]
fn keygen_is_deterministic_and_pem_roundtrips() {
    let key = server_key();
    assert_eq!(key.public_key().n().bits(), 2048);
    assert_eq!(key.public_key().e(), &65537u32.into());
    let again = RsaPrivateKey::generate(2048, &mut StdRng::seed_from_u64(0x007e_57dc)).unwrap();
    assert_eq!(again.public_key(), key.public_key());

    let pem = key.to_pkcs1_pem();
    assert!(pem.starts_with("-----BEGIN RSA PRIVATE KEY-----\n"));
    let parsed = RsaPrivateKey::from_pkcs1_pem(&pem).unwrap();
    assert_eq!(parsed.public_key(), key.public_key());
    let pub_pem = key.public_key().to_pkcs1_pem();
    assert_eq!(
        RsaPublicKey::from_pkcs1_pem(&pub_pem).unwrap(),
        *key.public_key()
    );

    // Raw RSA inverts.
    let mut block = [0u8; 256];
    StdRng::seed_from_u64(6).fill_bytes(&mut block[1..]);
    let c = key.public_key().encrypt_raw(&block).unwrap();
    assert_eq!(parsed.decrypt_raw(&c).unwrap(), block);
}

#[test]
fn bad_pem_is_a_typed_error() {
    assert!(matches!(
        RsaPublicKey::from_pkcs1_pem("no pem here"),
        Err(CryptoError::BadKey(_))
    ));
    let truncated = TELEGRAM_TEST_KEY_PEM.replace("IDAQAB", "");
    assert!(RsaPublicKey::from_pkcs1_pem(&truncated).is_err());
    let garbage = TELEGRAM_TEST_KEY_PEM.replace('M', "!");
    assert!(RsaPublicKey::from_pkcs1_pem(&garbage).is_err());
    // A private-key PEM with a tampered field is rejected by the consistency checks.
    let pem = server_key().to_pkcs1_pem();
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let mut der = tgmux::crypto::rsa::base64_decode(&body).unwrap();
    let last = der.len() - 1;
    der[last] ^= 1; // the last byte of qinv
    let tampered = format!(
        "-----BEGIN RSA PRIVATE KEY-----\n{}\n-----END RSA PRIVATE KEY-----\n",
        tgmux::crypto::rsa::base64_encode(&der)
    );
    assert!(matches!(
        RsaPrivateKey::from_pkcs1_pem(&tampered),
        Err(CryptoError::BadKey(_))
    ));
    // Small keys are refused.
    assert!(RsaPublicKey::new(1_000_003u32.into(), 65537u32.into()).is_err());
}
