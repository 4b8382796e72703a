//! Diffie–Hellman for the auth-key exchange (and the group checks SRP shares), with every check
//! of core.telegram.org/mtproto/security_guidelines:
//!
//! - `dh_prime` is a safe 2048-bit prime: `2^2047 < p < 2^2048`, `p` and `(p-1)/2` prime.
//!   Telegram's well-known prime ([`TELEGRAM_DH_PRIME_HEX`]) is accepted by equality; any other
//!   prime gets the full Miller–Rabin test on both numbers.
//! - `g` is 2..=7 and generates the subgroup of order `(p-1)/2` (a quadratic residue), which
//!   reciprocity turns into conditions on `p`: `p mod 8 = 7` (g = 2), `p mod 3 = 2` (g = 3),
//!   none (g = 4), `p mod 5 ∈ {1, 4}` (g = 5), `p mod 24 ∈ {19, 23}` (g = 6),
//!   `p mod 7 ∈ {3, 5, 6}` (g = 7).
//! - every public value `g_a`, `g_b` (and the auth key's base) satisfies `1 < v < p - 1` and
//!   `2^(2048-64) ≤ v ≤ p - 2^(2048-64)`.
//!
//! Both roles use the same calls: [`DhGroup::generate_keypair`] for `a`/`g_a` (server) or
//! `b`/`g_b` (client), then [`DhGroup::shared_key`] with the other side's value.

use num_bigint::{BigUint, RandBigInt};
use num_traits::One;
use rand::RngCore;

use super::modpow::modpow;
use super::prime::is_probable_prime;
use super::CryptoError;

/// Telegram's 2048-bit safe prime, as servers send it in `server_DH_inner_data`.
pub const TELEGRAM_DH_PRIME_HEX: &str = concat!(
    "c71caeb9c6b1c9048e6c522f70f13f73980d40238e3e21c14934d037563d930f",
    "48198a0aa7c14058229493d22530f4dbfa336f6e0ac925139543aed44cce7c37",
    "20fd51f69458705ac68cd4fe6b6b13abdc9746512969328454f18faf8c595f64",
    "2477fe96bb2a941d5bcd1d4ac8cc49880708fa9b378e3c4f3a9060bee67cf9a4",
    "a4a695811051907e162753b56b0f6b410dba74d8a84b2a14b3144e0ef1284754",
    "fd17ed950d5965b4b9dd46582db1178d169c6bc465b0d6ff9ca3928fef5b9ae4",
    "e418fc15e83ebea0f87fa9ff5eed70050ded2849f47bf959d956850ce929851f",
    "0d8115f635b105ee2e4e15d04b2454bf6f4fadf034b10403119cd8e3b92fcc5b",
);

/// The generator Telegram's servers use with [`TELEGRAM_DH_PRIME_HEX`].
pub const TELEGRAM_DH_G: u32 = 3;

/// Miller–Rabin rounds for an unknown prime: error ≤ 4^-30 per number (the guidelines accept
/// 15 rounds, 10^-9).
const MR_ROUNDS: u32 = 30;

/// Telegram's DH prime as a number.
pub fn telegram_dh_prime() -> BigUint {
    BigUint::parse_bytes(TELEGRAM_DH_PRIME_HEX.as_bytes(), 16).unwrap_or_default()
}

fn fail(why: &'static str) -> CryptoError {
    CryptoError::DhCheck(why)
}

/// The quadratic-residue condition on `p` for generator `g` (2..=7).
pub fn check_generator(g: u32, p: &BigUint) -> Result<(), CryptoError> {
    let m = |k: u32| (p % k).to_u32_digits().first().copied().unwrap_or(0);
    let ok = match g {
        2 => m(8) == 7,
        3 => m(3) == 2,
        4 => true,
        5 => matches!(m(5), 1 | 4),
        6 => matches!(m(24), 19 | 23),
        7 => matches!(m(7), 3 | 5 | 6),
        _ => return Err(fail("g must be 2..=7")),
    };
    if ok {
        Ok(())
    } else {
        Err(fail(
            "g is not a quadratic residue mod p (p mod 4g condition)",
        ))
    }
}

/// Checks that `p` is a safe 2048-bit prime: by equality with Telegram's prime, otherwise with
/// Miller–Rabin on `p` and `(p-1)/2` (bases drawn from `rng`; slow, cache the answer).
pub fn check_safe_prime<R: RngCore + ?Sized>(p: &BigUint, rng: &mut R) -> Result<(), CryptoError> {
    if p.bits() != 2048 {
        return Err(fail("dh_prime must be 2^2047 < p < 2^2048"));
    }
    if *p == telegram_dh_prime() {
        return Ok(());
    }
    if !is_probable_prime(p, MR_ROUNDS, rng) {
        return Err(fail("dh_prime is not prime"));
    }
    let half: BigUint = (p - 1u32) >> 1;
    if !is_probable_prime(&half, MR_ROUNDS, rng) {
        return Err(fail("(dh_prime - 1) / 2 is not prime"));
    }
    Ok(())
}

/// Checks a public value (`g_a`, `g_b`, SRP's `g_a`/`g_b`) against `p`:
/// `1 < v < p - 1` and `2^(2048-64) ≤ v ≤ p - 2^(2048-64)`.
pub fn check_public_value(v: &BigUint, p: &BigUint) -> Result<(), CryptoError> {
    let one = BigUint::one();
    if *v <= one || *v >= p - 1u32 {
        return Err(fail("public value must satisfy 1 < v < dh_prime - 1"));
    }
    let bound = BigUint::one() << (2048 - 64);
    if *v < bound || *p < bound || *v > p - &bound {
        return Err(fail(
            "public value must be within 2^1984 .. dh_prime - 2^1984",
        ));
    }
    Ok(())
}

/// A validated DH group `(g, p)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DhGroup {
    g: u32,
    p: BigUint,
}

impl DhGroup {
    /// Telegram's group (g = 3 and the known prime): no checks needed.
    pub fn telegram() -> Self {
        Self {
            g: TELEGRAM_DH_G,
            p: telegram_dh_prime(),
        }
    }

    /// Validates `g` and big-endian `dh_prime` bytes from the peer (every check above).
    pub fn new<R: RngCore + ?Sized>(
        g: u32,
        dh_prime: &[u8],
        rng: &mut R,
    ) -> Result<Self, CryptoError> {
        if dh_prime.len() != 256 {
            return Err(fail("dh_prime must be 256 bytes"));
        }
        let p = BigUint::from_bytes_be(dh_prime);
        check_safe_prime(&p, rng)?;
        check_generator(g, &p)?;
        Ok(Self { g, p })
    }

    /// The generator.
    pub fn g(&self) -> u32 {
        self.g
    }

    /// The prime.
    pub fn p(&self) -> &BigUint {
        &self.p
    }

    /// The prime as 256 big-endian bytes (as `server_DH_inner_data` carries it).
    pub fn p_bytes(&self) -> [u8; 256] {
        to_256(&self.p)
    }

    /// `g^secret mod p` as 256 big-endian bytes, checked like the peer will check it.
    pub fn public_value(&self, secret: &BigUint) -> Result<[u8; 256], CryptoError> {
        let v = modpow(&BigUint::from(self.g), secret, &self.p);
        check_public_value(&v, &self.p)?;
        Ok(to_256(&v))
    }

    /// A random 2048-bit secret (`a` for the server, `b` for the client) and its public value,
    /// drawing again in the (negligible) case the public value fails the range check.
    pub fn generate_keypair<R: RngCore + ?Sized>(&self, rng: &mut R) -> (BigUint, [u8; 256]) {
        loop {
            let secret = rng.gen_biguint(2048);
            if let Ok(public) = self.public_value(&secret) {
                return (secret, public);
            }
        }
    }

    /// The shared key `their_public^secret mod p` (256 big-endian bytes: the auth key), after
    /// checking `their_public` (`g_a` on the client, `g_b` on the server).
    pub fn shared_key(
        &self,
        their_public: &[u8],
        secret: &BigUint,
    ) -> Result<[u8; 256], CryptoError> {
        if their_public.len() > 256 {
            return Err(fail("public value longer than 256 bytes"));
        }
        let v = BigUint::from_bytes_be(their_public);
        check_public_value(&v, &self.p)?;
        Ok(to_256(&modpow(&v, secret, &self.p)))
    }
}

/// `x < 2^2048` as 256 big-endian bytes.
fn to_256(x: &BigUint) -> [u8; 256] {
    let b = x.to_bytes_be();
    let mut out = [0u8; 256];
    let n = b.len().min(256);
    out[256 - n..].copy_from_slice(&b[b.len() - n..]);
    out
}
