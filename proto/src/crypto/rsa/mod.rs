//! RSA as Telegram uses it: PKCS#1 PEM keys (private keys in PKCS#8 too), key fingerprints,
//! RSA_PAD (today's clients) and the old `SHA1 | data | padding` scheme (Telethon 1.x,
//! Pyrogram), and key generation for our own test DC.
//!
//! The private-key operations use num-bigint, which is not constant-time: fine for a test
//! server, not for a production one.

mod der;
mod keygen;
mod pad;
mod telegram;

use num_bigint::BigUint;
use num_traits::One;

use super::hash::sha1;
use super::modpow::modpow;
use super::CryptoError;

pub use der::{base64_decode, base64_encode};
pub use pad::{rsa_old_encrypt, rsa_pad_encrypt, OldRsaPayload, RsaPlaintext};
pub use telegram::{TELEGRAM_PRODUCTION_KEY_PEM, TELEGRAM_TEST_KEY_PEM};

/// Size in bytes of every RSA block Telegram exchanges (2048-bit keys).
pub const RSA_BLOCK_LEN: usize = 256;

/// An RSA public key `(n, e)`.
#[derive(Clone, PartialEq, Eq)]
pub struct RsaPublicKey {
    n: BigUint,
    e: BigUint,
}

impl std::fmt::Debug for RsaPublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "RsaPublicKey {{ bits: {}, fingerprint: {:#018x} }}",
            self.n.bits(),
            self.fingerprint()
        )
    }
}

/// Appends `data` serialised as a TL `bytes` value (length prefix, data, zero padding to 4).
fn tl_bytes(out: &mut Vec<u8>, data: &[u8]) {
    let len = data.len();
    if len <= 253 {
        out.push(len as u8);
    } else {
        out.push(254);
        out.extend_from_slice(&(len as u32).to_le_bytes()[..3]);
    }
    out.extend_from_slice(data);
    while out.len() % 4 != 0 {
        out.push(0);
    }
}

impl RsaPublicKey {
    /// A key from its modulus and public exponent; both must be odd and `n` at least 2048
    /// bits wide (the size of Telegram's RSA blocks) and at most 8192.
    pub fn new(n: BigUint, e: BigUint) -> Result<Self, CryptoError> {
        let bits = n.bits();
        if !(2048..=8192).contains(&bits) || !n.bit(0) {
            return Err(CryptoError::BadKey(
                "modulus must be odd and 2048..=8192 bits",
            ));
        }
        if e <= BigUint::one() || !e.bit(0) || e >= n {
            return Err(CryptoError::BadKey(
                "public exponent must be odd and in 3..n",
            ));
        }
        Ok(Self { n, e })
    }

    /// Parses a PKCS#1 PEM public key (`-----BEGIN RSA PUBLIC KEY-----`).
    pub fn from_pkcs1_pem(pem: &str) -> Result<Self, CryptoError> {
        let der = der::pem_decode(pem, "RSA PUBLIC KEY")?;
        Self::from_pkcs1_der(&der)
    }

    /// Parses a PKCS#1 DER `RSAPublicKey ::= SEQUENCE { n INTEGER, e INTEGER }`.
    pub fn from_pkcs1_der(der: &[u8]) -> Result<Self, CryptoError> {
        let mut ints = der::read_integer_sequence(der)?;
        if ints.len() != 2 {
            return Err(CryptoError::BadKey(
                "RSAPublicKey must hold exactly n and e",
            ));
        }
        let e = ints.pop().unwrap_or_default();
        let n = ints.pop().unwrap_or_default();
        Self::new(n, e)
    }

    /// The PKCS#1 PEM form (`-----BEGIN RSA PUBLIC KEY-----`).
    pub fn to_pkcs1_pem(&self) -> String {
        der::pem_encode(
            &der::write_integer_sequence(&[&self.n, &self.e]),
            "RSA PUBLIC KEY",
        )
    }

    /// The modulus.
    pub fn n(&self) -> &BigUint {
        &self.n
    }

    /// The public exponent.
    pub fn e(&self) -> &BigUint {
        &self.e
    }

    /// Telegram's key fingerprint: the low 64 bits of SHA1 of `n` and `e` serialised as TL
    /// `bytes` (big-endian, no leading zeros), i.e. the hash's last 8 bytes read little-endian.
    pub fn fingerprint(&self) -> u64 {
        let mut tl = Vec::with_capacity(300);
        tl_bytes(&mut tl, &self.n.to_bytes_be());
        tl_bytes(&mut tl, &self.e.to_bytes_be());
        let h = sha1(&tl);
        let mut low = [0u8; 8];
        low.copy_from_slice(&h[12..]);
        u64::from_le_bytes(low)
    }

    /// Raw RSA on a `RSA_BLOCK_LEN`-byte big-endian block: `m^e mod n`, left-padded to 256
    /// bytes. The block must be below `n` (else [`CryptoError::RsaValueOutOfRange`]).
    pub fn encrypt_raw(&self, block: &[u8; RSA_BLOCK_LEN]) -> Result<[u8; 256], CryptoError> {
        let m = BigUint::from_bytes_be(block);
        if m >= self.n {
            return Err(CryptoError::RsaValueOutOfRange);
        }
        to_block(&modpow(&m, &self.e, &self.n))
    }
}

/// `x` as exactly 256 big-endian bytes (error if it does not fit).
fn to_block(x: &BigUint) -> Result<[u8; RSA_BLOCK_LEN], CryptoError> {
    let bytes = x.to_bytes_be();
    if bytes.len() > RSA_BLOCK_LEN {
        return Err(CryptoError::RsaValueOutOfRange);
    }
    let mut out = [0u8; RSA_BLOCK_LEN];
    out[RSA_BLOCK_LEN - bytes.len()..].copy_from_slice(&bytes);
    Ok(out)
}

/// An RSA private key with its CRT parameters (the PKCS#1 `RSAPrivateKey` fields).
#[derive(Clone)]
pub struct RsaPrivateKey {
    public: RsaPublicKey,
    d: BigUint,
    p: BigUint,
    q: BigUint,
    dp: BigUint,
    dq: BigUint,
    qinv: BigUint,
}

impl std::fmt::Debug for RsaPrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RsaPrivateKey {{ public: {:?}, .. }}", self.public)
    }
}

impl RsaPrivateKey {
    /// Generates a key of `bits` bits (2048 for Telegram) with `e = 65537`, drawing every
    /// random number from `rng`: a seeded rng gives the same key every time.
    pub fn generate<R: rand::RngCore + ?Sized>(
        bits: u64,
        rng: &mut R,
    ) -> Result<Self, CryptoError> {
        keygen::generate(bits, rng)
    }

    /// Builds a key from its two primes and `e`, computing `d` and the CRT parameters.
    /// The primes are not tested for primality here.
    pub fn from_primes(p: BigUint, q: BigUint, e: BigUint) -> Result<Self, CryptoError> {
        keygen::from_primes(p, q, e)
    }

    /// Parses a PEM private key: PKCS#1 (`-----BEGIN RSA PRIVATE KEY-----`) or PKCS#8
    /// (`-----BEGIN PRIVATE KEY-----`, as `openssl genrsa` writes since OpenSSL 3), two primes,
    /// and checks that its fields are consistent (`n = p q`, `e d ≡ 1`, CRT values). Encrypted
    /// PKCS#8 (`ENCRYPTED PRIVATE KEY`) is refused.
    pub fn from_pem(pem: &str) -> Result<Self, CryptoError> {
        if pem.contains("-----BEGIN PRIVATE KEY-----") {
            let der = der::pem_decode(pem, "PRIVATE KEY")?;
            return Self::from_pkcs1_der(der::pkcs8_rsa_private_key(&der)?);
        }
        if pem.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----") {
            return Err(CryptoError::BadKey(
                "encrypted private keys are not supported (decrypt it with `openssl pkey`)",
            ));
        }
        Self::from_pkcs1_pem(pem)
    }

    /// Parses a PKCS#1 PEM private key (`-----BEGIN RSA PRIVATE KEY-----`), checked as
    /// [`RsaPrivateKey::from_pem`] does.
    pub fn from_pkcs1_pem(pem: &str) -> Result<Self, CryptoError> {
        Self::from_pkcs1_der(&der::pem_decode(pem, "RSA PRIVATE KEY")?)
    }

    /// Parses a DER `RSAPrivateKey` (PKCS#1, two primes), checked as
    /// [`RsaPrivateKey::from_pem`] does.
    pub fn from_pkcs1_der(der: &[u8]) -> Result<Self, CryptoError> {
        let ints = der::read_integer_sequence(der)?;
        let [version, n, e, d, p, q, dp, dq, qinv]: [BigUint; 9] = ints
            .try_into()
            .map_err(|_| CryptoError::BadKey("RSAPrivateKey must have 9 integers"))?;
        if version != BigUint::default() {
            return Err(CryptoError::BadKey(
                "only two-prime RSAPrivateKey (version 0)",
            ));
        }
        let key = Self::from_primes(p, q, e)?;
        if key.public.n != n || key.dp != dp || key.dq != dq || key.qinv != qinv {
            return Err(CryptoError::BadKey("inconsistent RSAPrivateKey fields"));
        }
        // d may be reduced mod lcm(p-1, q-1) or phi; accept either if it inverts e.
        let one = BigUint::one();
        if (&d * &key.public.e) % (&key.p - &one) != one
            || (&d * &key.public.e) % (&key.q - &one) != one
        {
            return Err(CryptoError::BadKey("private exponent does not invert e"));
        }
        Ok(Self { d, ..key })
    }

    /// The PKCS#1 PEM form (`-----BEGIN RSA PRIVATE KEY-----`).
    pub fn to_pkcs1_pem(&self) -> String {
        let version = BigUint::default();
        let der = der::write_integer_sequence(&[
            &version,
            &self.public.n,
            &self.public.e,
            &self.d,
            &self.p,
            &self.q,
            &self.dp,
            &self.dq,
            &self.qinv,
        ]);
        der::pem_encode(&der, "RSA PRIVATE KEY")
    }

    /// The public half.
    pub fn public_key(&self) -> &RsaPublicKey {
        &self.public
    }

    /// Raw RSA decryption of a 256-byte big-endian block (CRT): `c^d mod n`, left-padded to 256
    /// bytes. Errors unless `block.len() == 256` and the block is below `n`.
    pub fn decrypt_raw(&self, block: &[u8]) -> Result<[u8; RSA_BLOCK_LEN], CryptoError> {
        if block.len() != RSA_BLOCK_LEN {
            return Err(CryptoError::BadLength {
                what: "RSA ciphertext",
                got: block.len(),
                expected: "256",
            });
        }
        let c = BigUint::from_bytes_be(block);
        if c >= self.public.n {
            return Err(CryptoError::RsaValueOutOfRange);
        }
        let m1 = modpow(&c, &self.dp, &self.p);
        let m2 = modpow(&c, &self.dq, &self.q);
        // h = qinv (m1 - m2) mod p, kept non-negative by adding p.
        let diff = (&m1 + &self.p - (&m2 % &self.p)) % &self.p;
        let h = (&self.qinv * diff) % &self.p;
        to_block(&(m2 + h * &self.q))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // One key made by OpenSSL 3.0 (`openssl genrsa -out pkcs8.pem 2048`, which writes PKCS#8),
    // and OpenSSL's own conversions of it: `openssl rsa -traditional` (PKCS#1) and
    // `openssl rsa -RSAPublicKey_out` (the PKCS#1 public key).
    const PKCS8: &str = include_str!("testdata/openssl3-genrsa-pkcs8.pem");
    const PKCS1: &str = include_str!("testdata/openssl3-genrsa-pkcs1.pem");
    const PUBLIC: &str = include_str!("testdata/openssl3-genrsa-public.pem");

    #[test]
    fn reads_openssl3_pkcs8_and_pkcs1_keys_alike() {
        let from8 = RsaPrivateKey::from_pem(PKCS8).unwrap();
        let from1 = RsaPrivateKey::from_pem(PKCS1).unwrap();
        assert_eq!(
            from8.to_pkcs1_pem(),
            PKCS1,
            "OpenSSL's PKCS#1 form, byte for byte"
        );
        assert_eq!(from1.to_pkcs1_pem(), PKCS1);
        assert_eq!(from8.public_key().to_pkcs1_pem(), PUBLIC);
        // PKCS#8 is not PKCS#1: the narrow parser still refuses it.
        assert!(RsaPrivateKey::from_pkcs1_pem(PKCS8).is_err());
    }

    #[test]
    fn refuses_broken_or_foreign_pkcs8() {
        let der = der::pem_decode(PKCS8, "PRIVATE KEY").unwrap();
        let pem = |der: &[u8]| der::pem_encode(der, "PRIVATE KEY");
        for cut in [0, 1, 10, 26, der.len() - 1] {
            assert!(
                RsaPrivateKey::from_pem(&pem(&der[..cut])).is_err(),
                "cut {cut}"
            );
        }
        // Layout: 30 82 LL LL | 02 01 00 | 30 0d 06 09 <oid> 05 00 | 04 82 LL LL <key>.
        let mut version = der.clone();
        version[6] = 2;
        let mut oid = der.clone();
        oid[19] ^= 1; // rsaEncryption → another algorithm
        let mut params = der.clone();
        params[20] = 0x04; // NULL → an OCTET STRING
        let mut octets = der.clone();
        octets[22] = 0x03; // OCTET STRING → BIT STRING
        for (what, bad) in [
            ("version", version),
            ("oid", oid),
            ("params", params),
            ("octets", octets),
        ] {
            assert!(RsaPrivateKey::from_pem(&pem(&bad)).is_err(), "{what}");
        }
        let encrypted = PKCS8.replace("PRIVATE KEY", "ENCRYPTED PRIVATE KEY");
        assert!(matches!(
            RsaPrivateKey::from_pem(&encrypted),
            Err(CryptoError::BadKey(m)) if m.contains("encrypted")
        ));
    }
}
