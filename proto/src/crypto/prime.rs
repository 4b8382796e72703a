//! Probabilistic primality (Miller–Rabin) and random prime generation on `BigUint`.

use num_bigint::{BigUint, RandBigInt};
use num_integer::Integer;
use num_traits::{One, Zero};
use rand::RngCore;

use super::modpow::modpow;

/// Odd primes below 1000, for trial division before Miller–Rabin.
fn small_primes() -> impl Iterator<Item = u32> {
    (3u32..1000).step_by(2).filter(|&n| {
        (3..)
            .step_by(2)
            .take_while(|d| d * d <= n)
            .all(|d| n % d != 0)
    })
}

/// `true` if `n` is divisible by a small odd prime other than itself.
fn has_small_factor(n: &BigUint, primes: &[u32]) -> bool {
    primes.iter().any(|&p| {
        let r = n % p;
        r.is_zero() && *n != BigUint::from(p)
    })
}

fn miller_rabin_round(n: &BigUint, n_minus_1: &BigUint, d: &BigUint, s: u64, a: &BigUint) -> bool {
    let mut x = modpow(a, d, n);
    if x.is_one() || x == *n_minus_1 {
        return true;
    }
    for _ in 1..s {
        x = (&x * &x) % n;
        if x == *n_minus_1 {
            return true;
        }
        if x.is_one() {
            return false;
        }
    }
    false
}

/// Miller–Rabin with `rounds` random bases drawn from `rng` (error ≤ 4^-rounds), after trial
/// division by the primes below 1000.
pub fn is_probable_prime<R: RngCore + ?Sized>(n: &BigUint, rounds: u32, rng: &mut R) -> bool {
    let primes: Vec<u32> = small_primes().collect();
    is_probable_prime_with(n, rounds, rng, &primes)
}

fn is_probable_prime_with<R: RngCore + ?Sized>(
    n: &BigUint,
    rounds: u32,
    rng: &mut R,
    primes: &[u32],
) -> bool {
    let two = BigUint::from(2u32);
    if *n < two {
        return false;
    }
    if n.is_even() {
        return *n == two;
    }
    if has_small_factor(n, primes) {
        return false;
    }
    if *n < BigUint::from(1_000_000u32) {
        // No factor below 1000 and below 1000^2: prime.
        return true;
    }
    let n_minus_1 = n - 1u32;
    let s = n_minus_1.trailing_zeros().unwrap_or(0);
    let d = &n_minus_1 >> s;
    let upper = n - 2u32; // bases in [2, n-2]
    (0..rounds).all(|_| {
        let a = rng.gen_biguint_range(&two, &upper);
        miller_rabin_round(n, &n_minus_1, &d, s, &a)
    })
}

/// A random prime of exactly `bits` bits with its top two bits set (so a product of two such
/// primes has exactly `2 * bits` bits), 40 Miller–Rabin rounds.
pub fn random_prime<R: RngCore + ?Sized>(bits: u64, rng: &mut R) -> BigUint {
    // Two bits is the least that has room for the two top bits (and gives 3).
    let bits = bits.max(2);
    let primes: Vec<u32> = small_primes().collect();
    let top = (BigUint::one() << (bits - 1)) | (BigUint::one() << (bits - 2));
    loop {
        let candidate = rng.gen_biguint(bits) | &top | BigUint::one();
        if is_probable_prime_with(&candidate, 40, rng, &primes) {
            return candidate;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{rngs::StdRng, SeedableRng};

    #[test]
    fn known_primes_and_composites() {
        let mut rng = StdRng::seed_from_u64(0);
        for p in [
            2u64,
            3,
            5,
            7,
            997,
            1009,
            1_000_003,
            2_147_483_647,
            18_446_744_073_709_551_557,
        ] {
            assert!(is_probable_prime(&BigUint::from(p), 20, &mut rng), "{p}");
        }
        // Carmichael numbers, a square of a prime, a product of two large primes.
        for c in [
            0u64,
            1,
            4,
            561,
            41041,
            825_265,
            1_009 * 1_009,
            2_147_483_647 * 1_000_003,
        ] {
            assert!(!is_probable_prime(&BigUint::from(c), 20, &mut rng), "{c}");
        }
        // 2^127 - 1 is prime, 2^128 + 1 is not.
        let m127 = (BigUint::one() << 127u32) - 1u32;
        assert!(is_probable_prime(&m127, 20, &mut rng));
        assert!(!is_probable_prime(
            &((BigUint::one() << 128u32) + 1u32),
            20,
            &mut rng
        ));
    }

    #[test]
    fn random_prime_has_requested_size() {
        let mut rng = StdRng::seed_from_u64(5);
        let p = random_prime(256, &mut rng);
        assert_eq!(p.bits(), 256);
        assert!(p.bit(254));
        assert!(is_probable_prime(&p, 20, &mut rng));
        assert_eq!(random_prime(0, &mut rng), BigUint::from(3u32));
        assert_eq!(random_prime(2, &mut rng), BigUint::from(3u32));
    }
}
