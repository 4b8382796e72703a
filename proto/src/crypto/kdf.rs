//! HMAC-SHA512 and PBKDF2-HMAC-SHA512 (RFC 2104, RFC 8018), for the 2FA password KDF.
//!
//! Written on `sha2` directly (about 40 lines) rather than adding the `hmac` and `pbkdf2`
//! crates: PBKDF2 reuses the key's inner and outer hash states across its 100 000 rounds.

use sha2::{Digest, Sha512};

const BLOCK: usize = 128;

/// SHA-512 states after absorbing `key ^ ipad` and `key ^ opad`.
#[derive(Clone)]
struct HmacSha512 {
    inner: Sha512,
    outer: Sha512,
}

impl HmacSha512 {
    fn new(key: &[u8]) -> Self {
        let mut k = [0u8; BLOCK];
        if key.len() > BLOCK {
            k[..64].copy_from_slice(&Sha512::digest(key));
        } else {
            k[..key.len()].copy_from_slice(key);
        }
        let ipad: Vec<u8> = k.iter().map(|b| b ^ 0x36).collect();
        let opad: Vec<u8> = k.iter().map(|b| b ^ 0x5c).collect();
        Self {
            inner: Sha512::new_with_prefix(ipad),
            outer: Sha512::new_with_prefix(opad),
        }
    }

    fn mac(&self, parts: &[&[u8]]) -> [u8; 64] {
        let mut inner = self.inner.clone();
        for p in parts {
            inner.update(p);
        }
        let mut outer = self.outer.clone();
        outer.update(inner.finalize());
        outer.finalize().into()
    }
}

/// HMAC-SHA512(key, data).
pub fn hmac_sha512(key: &[u8], data: &[u8]) -> [u8; 64] {
    HmacSha512::new(key).mac(&[data])
}

/// PBKDF2-HMAC-SHA512 with a 64-byte output (one block), `rounds` ≥ 1 (0 is treated as 1).
pub fn pbkdf2_hmac_sha512(password: &[u8], salt: &[u8], rounds: u32) -> [u8; 64] {
    let prf = HmacSha512::new(password);
    let mut u = prf.mac(&[salt, &1u32.to_be_bytes()]);
    let mut out = u;
    for _ in 1..rounds {
        u = prf.mac(&[&u]);
        for (o, x) in out.iter_mut().zip(u.iter()) {
            *o ^= x;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use hex_literal::hex;

    #[test]
    fn rfc4231_hmac_sha512() {
        // Test case 1 and test case 6 (key longer than the block).
        assert_eq!(
            hmac_sha512(&[0x0b; 20], b"Hi There"),
            hex!(
                "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde"
                "daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854"
            )
        );
        assert_eq!(
            hmac_sha512(
                &[0xaa; 131],
                b"Test Using Larger Than Block-Size Key - Hash Key First"
            ),
            hex!(
                "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f352"
                "6b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598"
            )
        );
    }

    #[test]
    fn pbkdf2_sha512_vectors() {
        assert_eq!(
            pbkdf2_hmac_sha512(b"password", b"salt", 1),
            hex!(
                "867f70cf1ade02cff3752599a3a53dc4af34c7a669815ae5d513554e1c8cf252"
                "c02d470a285a0501bad999bfe943c08f050235d7d68b1da55e63f73b60a57fce"
            )
        );
        // Two rounds is U1 ^ HMAC(P, U1), by definition.
        let u1 = hmac_sha512(b"password", b"salt\0\0\0\x01");
        let u2 = hmac_sha512(b"password", &u1);
        let two: Vec<u8> = u1.iter().zip(u2.iter()).map(|(a, b)| a ^ b).collect();
        assert_eq!(pbkdf2_hmac_sha512(b"password", b"salt", 2).to_vec(), two);
        // The 100 000-round use is checked against grammers-crypto in tests/crypto_srp.rs.
    }
}
