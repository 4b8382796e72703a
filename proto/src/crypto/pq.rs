//! Factorisation of the auth-key exchange's `pq`: a product of two primes below 2^32 each,
//! (in practice) split with Pollard–Brent rho on u64 with u128 multiplication.

use num_integer::Integer;

use super::CryptoError;

fn mul_mod(a: u64, b: u64, n: u64) -> u64 {
    ((a as u128 * b as u128) % n as u128) as u64
}

fn pow_mod(mut base: u64, mut exp: u64, n: u64) -> u64 {
    let mut acc = 1 % n;
    base %= n;
    while exp > 0 {
        if exp & 1 == 1 {
            acc = mul_mod(acc, base, n);
        }
        base = mul_mod(base, base, n);
        exp >>= 1;
    }
    acc
}

/// Deterministic Miller–Rabin for every u64 (the first 12 primes as bases suffice below 3.3e24).
pub fn is_prime_u64(n: u64) -> bool {
    const BASES: [u64; 12] = [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37];
    if n < 2 {
        return false;
    }
    for p in BASES {
        if n % p == 0 {
            return n == p;
        }
    }
    let s = (n - 1).trailing_zeros();
    let d = (n - 1) >> s;
    'bases: for a in BASES {
        let mut x = pow_mod(a, d, n);
        if x == 1 || x == n - 1 {
            continue;
        }
        for _ in 1..s {
            x = mul_mod(x, x, n);
            if x == n - 1 {
                continue 'bases;
            }
        }
        return false;
    }
    true
}

/// Montgomery arithmetic modulo an odd `n` with `R = 2^64`: a multiplication is two 64×64→128
/// products and no division, which makes rho several times faster than `u128 %`.
struct Montgomery {
    n: u64,
    /// `n^-1 mod 2^64`.
    n_inv: u64,
}

impl Montgomery {
    fn new(n: u64) -> Self {
        // Newton's iteration doubles the correct low bits each step (n is odd: 3 bits to start).
        let mut inv = n;
        for _ in 0..5 {
            inv = inv.wrapping_mul(2u64.wrapping_sub(n.wrapping_mul(inv)));
        }
        Self { n, n_inv: inv }
    }

    /// `t · R^-1 mod n` for `t < n · 2^64`.
    fn reduce(&self, t: u128) -> u64 {
        let m = (t as u64).wrapping_mul(self.n_inv);
        let mn = m as u128 * self.n as u128;
        let (hi_t, hi_mn) = ((t >> 64) as u64, (mn >> 64) as u64);
        // The low halves of t and m·n are equal, so only the high halves need subtracting.
        if hi_t >= hi_mn {
            hi_t - hi_mn
        } else {
            hi_t.wrapping_sub(hi_mn).wrapping_add(self.n)
        }
    }

    fn mul(&self, a: u64, b: u64) -> u64 {
        self.reduce(a as u128 * b as u128)
    }

    fn add(&self, a: u64, b: u64) -> u64 {
        let (s, carry) = a.overflowing_add(b);
        if carry || s >= self.n {
            s.wrapping_sub(self.n)
        } else {
            s
        }
    }
}

/// One Pollard–Brent run with `f(y) = y^2 + c` (in Montgomery form); `None` if it only found
/// the trivial factor or ran too long.
fn brent(n: u64, c: u64, y0: u64) -> Option<u64> {
    const BATCH: u64 = 128;
    let mont = Montgomery::new(n);
    let f = |y: u64| mont.add(mont.mul(y, y), c % n);
    let (mut y, mut r, mut q, mut g) = (y0 % n, 1u64, 1u64, 1u64);
    let (mut x, mut ys) = (0u64, 0u64);
    while g == 1 {
        x = y;
        for _ in 0..r {
            y = f(y);
        }
        let mut k = 0;
        while k < r && g == 1 {
            ys = y;
            for _ in 0..BATCH.min(r - k) {
                y = f(y);
                q = mont.mul(q, x.abs_diff(y));
            }
            g = q.gcd(&n);
            k += BATCH;
        }
        r = r.checked_mul(2)?;
        if r > 1 << 22 {
            return None;
        }
    }
    if g == n {
        // The batch overshot: step one at a time from the saved point.
        loop {
            ys = f(ys);
            g = x.abs_diff(ys).gcd(&n);
            if g > 1 {
                break;
            }
        }
    }
    (g != n).then_some(g)
}

/// Splits `pq` into its two prime factors `(p, q)` with `p < q`.
///
/// Errors with [`CryptoError::NotSemiprime`] unless `pq` is the product of exactly two distinct
/// primes (as the protocol promises; a server sending anything else is misbehaving).
pub fn factorize(pq: u64) -> Result<(u64, u64), CryptoError> {
    let bad = CryptoError::NotSemiprime(pq);
    if pq < 6 || is_prime_u64(pq) {
        return Err(bad);
    }
    let factor = if pq % 2 == 0 {
        Some(2)
    } else {
        (1..16u64).find_map(|c| brent(pq, c, 2 + c))
    };
    let p = factor.ok_or(bad.clone())?;
    let q = pq / p;
    let (p, q) = (p.min(q), p.max(q));
    if p == q || !is_prime_u64(p) || !is_prime_u64(q) {
        return Err(bad);
    }
    Ok((p, q))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn primality() {
        let primes = [
            2u64,
            3,
            5,
            97,
            1_000_000_007,
            4_294_967_291,
            18_446_744_073_709_551_557,
        ];
        for p in primes {
            assert!(is_prime_u64(p), "{p}");
        }
        // Carmichael numbers and strong pseudoprimes to small bases.
        for c in [
            0u64,
            1,
            4,
            561,
            1105,
            3_215_031_751,
            3_825_123_056_546_413_051,
        ] {
            assert!(!is_prime_u64(c), "{c}");
        }
    }

    #[test]
    fn rejects_non_semiprimes() {
        for n in [
            0u64,
            1,
            4,
            9,
            97,
            8,
            30,
            1_000_000_007,
            1_000_000_007 * 1_000_000_007,
        ] {
            assert_eq!(factorize(n), Err(CryptoError::NotSemiprime(n)), "{n}");
        }
    }

    #[test]
    fn montgomery_matches_plain_arithmetic() {
        for n in [
            3u64,
            97,
            1_000_000_007,
            u64::MAX,
            u64::MAX - 2,
            (1 << 63) + 1,
        ] {
            let m = Montgomery::new(n);
            assert_eq!(n.wrapping_mul(m.n_inv), 1);
            let r = ((1u128 << 64) % n as u128) as u64; // R mod n
            for (a, b) in [(0u64, 5u64), (1, 1), (n - 1, n - 1), (n / 2, n / 3 + 1)] {
                let (a, b) = (a % n, b % n);
                // mul(aR, b) = a·b mod n.
                let a_r = mul_mod(a, r, n);
                assert_eq!(m.mul(a_r, b), mul_mod(a, b, n), "n {n} a {a} b {b}");
                assert_eq!(m.add(a, b), ((a as u128 + b as u128) % n as u128) as u64);
            }
        }
    }

    #[test]
    fn small_semiprimes() {
        assert_eq!(factorize(6), Ok((2, 3)));
        assert_eq!(factorize(15), Ok((3, 5)));
        assert_eq!(factorize(2 * 4_294_967_291), Ok((2, 4_294_967_291)));
    }
}
