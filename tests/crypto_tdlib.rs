//! TDLib's crypto test set (tdutils/test/crypto.cpp): AesIgeState and AesCtrState CRC32s of
//! ciphertexts from its seeded generator, and SHA-1, SHA-256, HMAC-SHA512, CRC32 answers for its
//! four strings. The answers are facts copied as numbers; the harness is ours.

use hex_literal::hex;
use tgmux::crypto::kdf::hmac_sha512;
use tgmux::crypto::{aes_ige_decrypt, aes_ige_encrypt, crc32, sha1, sha256, AesCtr256};

/// TDLib's generator: `seed = seed * 123457567 + 987651241` (u32), byte = bits 23..31.
struct Lcg(u32);

impl Lcg {
    fn fill(&mut self, out: &mut [u8]) {
        for b in out {
            self.0 = self.0.wrapping_mul(123_457_567).wrapping_add(987_651_241);
            *b = (self.0 >> 23) as u8;
        }
    }
}

#[test]
fn aes_ige_state_crcs() {
    let answers: [(usize, u32); 6] = [
        (0, 0),
        (16, 2045698207),
        (32, 2423540300),
        (256, 525522475),
        (1024, 1545267325),
        (65536, 724143417),
    ];
    for (length, crc) in answers {
        let mut lcg = Lcg(length as u32);
        let mut plain = vec![0u8; length];
        lcg.fill(&mut plain);
        let mut key = [0u8; 32];
        lcg.fill(&mut key);
        let mut iv = [0u8; 32];
        lcg.fill(&mut iv);
        let mut data = plain.clone();
        aes_ige_encrypt(&mut data, &key, &iv).unwrap();
        assert_eq!(crc32(&data), crc, "length {length}");
        aes_ige_decrypt(&mut data, &key, &iv).unwrap();
        assert_eq!(data, plain);
    }
}

/// Applies the keystream in uneven pieces, as TDLib's test does with `rand_split`.
fn apply_in_pieces(ctr: &mut AesCtr256, data: &mut [u8]) {
    let sizes = [1usize, 15, 16, 17, 4096, 3, 65536, 100];
    let mut pos = 0;
    let mut i = 0;
    while pos < data.len() {
        let n = sizes[i % sizes.len()].min(data.len() - pos);
        ctr.apply(&mut data[pos..pos + n]);
        pos += n;
        i += 1;
    }
}

#[test]
fn aes_ctr_state_crcs() {
    // (length, CRC with the generated IV, CRC with an all-0xff IV: the counter wraps).
    let answers: [(usize, u32, u32); 10] = [
        (0, 0, 0),
        (1, 1141589763, 2053451992),
        (31, 596296607, 1384063362),
        (32, 3673001485, 3266188502),
        (33, 2302125528, 2893295118),
        (9999, 330967191, 780356167),
        (10000, 2047392231, 1904947434),
        (10001, 3537459563, 2043402406),
        (999999, 307747798, 472080809),
        (1000001, 2149598133, 1807109488),
    ];
    for (length, crc1, crc2) in answers {
        let mut lcg = Lcg(length as u32);
        let mut plain = vec![0u8; length];
        lcg.fill(&mut plain);
        let mut key = [0u8; 32];
        lcg.fill(&mut key);
        let mut iv = [0u8; 16];
        lcg.fill(&mut iv);

        let mut data = plain.clone();
        apply_in_pieces(&mut AesCtr256::new(&key, &iv), &mut data);
        assert_eq!(crc32(&data), crc1, "length {length}");
        apply_in_pieces(&mut AesCtr256::new(&key, &iv), &mut data);
        assert_eq!(data, plain);

        let mut data = plain.clone();
        AesCtr256::new(&key, &[0xff; 16]).apply(&mut data);
        assert_eq!(crc32(&data), crc2, "length {length}, iv ff..ff");
    }
}

fn strings() -> [Vec<u8>; 4] {
    [
        Vec::new(),
        b"1".to_vec(),
        b"short test string".to_vec(),
        vec![b'a'; 1_000_000],
    ]
}

#[test]
fn hashes_hmac_and_crc32_of_tdlib_strings() {
    let sha1_answers: [[u8; 20]; 4] = [
        hex!("da39a3ee5e6b4b0d3255bfef95601890afd80709"),
        hex!("356a192b7913b04c54574d18c28d46e6395428ab"),
        hex!("b91cac430a1ac74a4d25e042dfece9433272d6b0"),
        hex!("34aa973cd4c4daa4f61eeb2bdbad27316534016f"),
    ];
    let sha256_answers: [[u8; 32]; 4] = [
        hex!("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        hex!("6b86b273ff34fce19d6b804eff5a3f5747ada4eaa22f1d49c01e52ddb7875b4b"),
        hex!("c8f31a63b43c3ca3f00acc3ae149c30f99a145c8adb84260ccb64cbebd0ef296"),
        hex!("cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"),
    ];
    let hmac_answers: [[u8; 64]; 4] = [
        hex!("a36f214cdd66fd31a59bf558c4323339d504e303294333bc8557139223f67b31095edacebc28d19e5db468e5754bc6b10394ded13cc88df228100b69cda988b0"),
        hex!("df65f71ac952cf41c3ce74ab08db7ef9e3d17055525120feb5f3956a79f2c52fb22edfe89b5d6a20b084eb84454d2f3f07ce200723330b716e0257dc21a9bf28"),
        hex!("055a9ee6b2b5160d62f82ef15d30334fdbc33dc7f79104294edb1eeab4ff1150f32a8f40528e19c3253227429c2c7a1f7c88ee97f4ee268060fb02f3ed9eebee"),
        hex!("5804a67a4bb93dc7f3ecdd0aa7843723db31b4ed8c89a057038d7c098d07be376d980a3b418f8adc4d28f547a6806cf3e352aa7b2a73442f763303803a75c92c"),
    ];
    let crc_answers = [0u32, 2212294583, 3013144151, 3693461436];
    for (i, s) in strings().iter().enumerate() {
        assert_eq!(sha1(s), sha1_answers[i], "sha1 {i}");
        assert_eq!(sha256(s), sha256_answers[i], "sha256 {i}");
        assert_eq!(hmac_sha512(b"cucumber", s), hmac_answers[i], "hmac {i}");
        assert_eq!(crc32(s), crc_answers[i], "crc32 {i}");
    }
}
