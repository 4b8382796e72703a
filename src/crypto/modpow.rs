//! Modular exponentiation for the sizes MTProto uses (1024-bit RSA halves, 2048-bit DH and RSA),
//! on fixed-width Montgomery arithmetic.
//!
//! `num-bigint`'s `modpow` allocates on every multiplication and takes about 16 ms for one
//! 2048-bit exponentiation on our CI machine; an auth-key exchange needs four of them per side
//! pair, against a 20 ms budget. Here the operands live in `[u64; N]` arrays (N = 16 or 32),
//! multiplication is word-by-word Montgomery (CIOS) with `u128` products, and the exponent is
//! scanned in fixed 5-bit windows. Other sizes and even moduli fall back to `num-bigint`.
//! Not constant-time (neither is the fallback): fine for a client and a test server.

use num_bigint::BigUint;
use num_traits::{One, Zero};

/// `base^exp mod modulus`, equal to `base.modpow(exp, modulus)` (which panics on a zero
/// modulus; here a zero modulus gives zero).
pub fn modpow(base: &BigUint, exp: &BigUint, modulus: &BigUint) -> BigUint {
    if modulus.is_zero() || modulus.is_one() {
        return BigUint::zero();
    }
    if !modulus.bit(0) {
        return base.modpow(exp, modulus);
    }
    match modulus.bits() {
        0..=1024 => Mont::<16>::new(modulus).pow(base, exp),
        1025..=2048 => Mont::<32>::new(modulus).pow(base, exp),
        _ => base.modpow(exp, modulus),
    }
}

/// Little-endian 64-bit limbs of `x < 2^(64 N)`.
fn to_limbs<const N: usize>(x: &BigUint) -> [u64; N] {
    let mut out = [0u64; N];
    for (o, d) in out.iter_mut().zip(x.iter_u64_digits()) {
        *o = d;
    }
    out
}

fn from_limbs(x: &[u64]) -> BigUint {
    let mut bytes = Vec::with_capacity(x.len() * 8);
    for limb in x {
        bytes.extend_from_slice(&limb.to_le_bytes());
    }
    BigUint::from_bytes_le(&bytes)
}

/// Montgomery arithmetic modulo an odd `n < 2^(64 N)` with `R = 2^(64 N)`.
struct Mont<const N: usize> {
    n: [u64; N],
    /// `-n^-1 mod 2^64`.
    n0: u64,
    modulus: BigUint,
}

impl<const N: usize> Mont<N> {
    fn new(modulus: &BigUint) -> Self {
        let n = to_limbs::<N>(modulus);
        // Newton's iteration for n[0]^-1 mod 2^64 (odd n[0]: 3 correct bits to start).
        let mut inv = n[0];
        for _ in 0..5 {
            inv = inv.wrapping_mul(2u64.wrapping_sub(n[0].wrapping_mul(inv)));
        }
        Self {
            n,
            n0: inv.wrapping_neg(),
            modulus: modulus.clone(),
        }
    }

    /// `a · b · R^-1 mod n` for `a, b < n`: one pass per word of `b` that both adds `a · b[i]`
    /// and cancels the low word with a multiple of `n` (two carry chains, FIOS style).
    fn mul(&self, a: &[u64; N], b: &[u64; N]) -> [u64; N] {
        let mut t = [0u64; N];
        let mut t_hi = 0u64; // word N of the running value, which stays below 2n
        for &bi in b.iter() {
            let s = t[0] as u128 + a[0] as u128 * bi as u128;
            let m = (s as u64).wrapping_mul(self.n0);
            let r = (s as u64) as u128 + m as u128 * self.n[0] as u128; // low word is zero
            let mut c1 = (s >> 64) as u64;
            let mut c2 = (r >> 64) as u64;
            for j in 1..N {
                let s = t[j] as u128 + a[j] as u128 * bi as u128 + c1 as u128;
                c1 = (s >> 64) as u64;
                let r = (s as u64) as u128 + m as u128 * self.n[j] as u128 + c2 as u128;
                c2 = (r >> 64) as u64;
                t[j - 1] = r as u64;
            }
            let s = t_hi as u128 + c1 as u128 + c2 as u128;
            t[N - 1] = s as u64;
            t_hi = (s >> 64) as u64;
        }
        if t_hi != 0 || !lt(&t, &self.n) {
            sub_in_place(&mut t, &self.n);
        }
        t
    }

    /// `x · R mod n`.
    fn to_mont(&self, x: &BigUint) -> [u64; N] {
        let reduced = x % &self.modulus;
        to_limbs::<N>(&((reduced << (64 * N)) % &self.modulus))
    }

    fn pow(&self, base: &BigUint, exp: &BigUint) -> BigUint {
        const W: u64 = 5;
        let one = self.to_mont(&BigUint::one());
        let b = self.to_mont(base);
        // table[i] = base^i in Montgomery form, i < 2^W.
        let mut table = [one; 1 << W];
        for i in 1..table.len() {
            table[i] = self.mul(&table[i - 1], &b);
        }
        let bits = exp.bits();
        let mut acc = one;
        let mut started = false;
        let mut i = bits.div_ceil(W) * W;
        while i > 0 {
            i -= W;
            if started {
                for _ in 0..W {
                    acc = self.mul(&acc, &acc);
                }
            }
            let mut window = 0usize;
            for k in (0..W).rev() {
                window = (window << 1) | usize::from(exp.bit(i + k));
            }
            if window != 0 {
                acc = self.mul(&acc, &table[window]);
                started = true;
            }
        }
        // Leave Montgomery form: multiply by plain 1.
        let mut plain_one = [0u64; N];
        plain_one[0] = 1;
        from_limbs(&self.mul(&acc, &plain_one))
    }
}

/// `a < b` for equal-length little-endian limbs.
fn lt(a: &[u64], b: &[u64]) -> bool {
    for (x, y) in a.iter().rev().zip(b.iter().rev()) {
        if x != y {
            return x < y;
        }
    }
    false
}

/// `a -= b` (wrapping at the top, which the caller's extra high word absorbs).
fn sub_in_place(a: &mut [u64], b: &[u64]) {
    let mut borrow = false;
    for (x, &y) in a.iter_mut().zip(b.iter()) {
        let (d1, b1) = x.overflowing_sub(y);
        let (d2, b2) = d1.overflowing_sub(u64::from(borrow));
        *x = d2;
        borrow = b1 || b2;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use num_bigint::RandBigInt;
    use rand::{rngs::StdRng, Rng, SeedableRng};

    #[test]
    fn matches_num_bigint() {
        let mut rng = StdRng::seed_from_u64(17);
        for bits in [
            2u64, 63, 64, 65, 512, 1000, 1023, 1024, 1025, 1536, 2047, 2048, 2049, 3000,
        ] {
            for _ in 0..4 {
                let m = rng.gen_biguint(bits) | BigUint::one() | (BigUint::one() << (bits - 1));
                let extra = rng.gen_range(0..70);
                let base = rng.gen_biguint(bits + extra);
                let exp_bits = rng.gen_range(1..2100);
                let exp = rng.gen_biguint(exp_bits);
                assert_eq!(
                    modpow(&base, &exp, &m),
                    base.modpow(&exp, &m),
                    "{bits} bits"
                );
            }
        }
    }

    #[test]
    fn edge_cases() {
        let m = (BigUint::one() << 2048u32) - 1u32; // all ones: odd, 2048 bits
        let cases = [
            (BigUint::zero(), BigUint::zero()),
            (BigUint::zero(), BigUint::one()),
            (BigUint::one(), m.clone()),
            (&m - 1u32, BigUint::from(2u32)),
            (m.clone(), BigUint::from(3u32)),
            (&m + 5u32, BigUint::from(65537u32)),
        ];
        for (b, e) in cases {
            assert_eq!(modpow(&b, &e, &m), b.modpow(&e, &m));
        }
        let even = BigUint::from(1_000_000u32);
        assert_eq!(
            modpow(&BigUint::from(3u32), &BigUint::from(77u32), &even),
            BigUint::from(3u32).modpow(&BigUint::from(77u32), &even)
        );
        assert_eq!(
            modpow(&BigUint::from(3u32), &BigUint::from(5u32), &BigUint::one()),
            BigUint::zero()
        );
        assert_eq!(
            modpow(&BigUint::from(3u32), &BigUint::from(5u32), &BigUint::zero()),
            BigUint::zero()
        );
    }
}
