//! RSA key generation for our test DC.

use num_bigint::BigUint;
use num_integer::Integer;
use num_traits::One;
use rand::RngCore;

use super::super::prime::random_prime;
use super::super::CryptoError;
use super::{RsaPrivateKey, RsaPublicKey};

/// Two random primes of `bits / 2` bits, retried until `e = 65537` is invertible.
pub(super) fn generate<R: RngCore + ?Sized>(
    bits: u64,
    rng: &mut R,
) -> Result<RsaPrivateKey, CryptoError> {
    if !(2048..=8192).contains(&bits) || bits % 2 != 0 {
        return Err(CryptoError::BadKey(
            "key size must be even and 2048..=8192 bits",
        ));
    }
    let e = BigUint::from(65537u32);
    loop {
        let p = random_prime(bits / 2, rng);
        let q = random_prime(bits / 2, rng);
        if p == q {
            continue;
        }
        if let Ok(key) = from_primes(p, q, e.clone()) {
            return Ok(key);
        }
    }
}

/// `d = e^-1 mod lcm(p-1, q-1)`, `dp`, `dq`, `qinv = q^-1 mod p`.
pub(super) fn from_primes(
    p: BigUint,
    q: BigUint,
    e: BigUint,
) -> Result<RsaPrivateKey, CryptoError> {
    let one = BigUint::one();
    if p <= one || q <= one || p == q {
        return Err(CryptoError::BadKey("primes must be distinct and > 1"));
    }
    let public = RsaPublicKey::new(&p * &q, e)?;
    let (p1, q1) = (&p - &one, &q - &one);
    let lambda = p1.lcm(&q1);
    let d = public
        .e
        .modinv(&lambda)
        .ok_or(CryptoError::BadKey("e is not invertible mod lcm(p-1, q-1)"))?;
    let dp = &d % &p1;
    let dq = &d % &q1;
    let qinv = q
        .modinv(&p)
        .ok_or(CryptoError::BadKey("q is not invertible mod p"))?;
    Ok(RsaPrivateKey {
        public,
        d,
        p,
        q,
        dp,
        dq,
        qinv,
    })
}
