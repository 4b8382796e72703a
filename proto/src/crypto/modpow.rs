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
use std::sync::OnceLock;

use num_traits::{One, Zero};

use super::dh::telegram_dh_prime;

/// `base^exp mod modulus`, equal to `base.modpow(exp, modulus)` (which panics on a zero
/// modulus; here a zero modulus gives zero).
pub fn modpow(base: &BigUint, exp: &BigUint, modulus: &BigUint) -> BigUint {
    if modulus.is_zero() || modulus.is_one() {
        return BigUint::zero();
    }
    if !modulus.bit(0) {
        return base.modpow(exp, modulus);
    }
    if let Some(r) = telegram_table(base, modulus).and_then(|t| t.pow(exp)) {
        return r;
    }
    let small = (base < &BigUint::from(256u32) && base < modulus)
        .then(|| base.iter_u64_digits().next().unwrap_or(0));
    match (modulus.bits(), small) {
        (0..=1024, Some(g)) => Mont::<16>::new(modulus).pow_small(g, exp),
        (0..=1024, None) => Mont::<16>::new(modulus).pow(base, exp),
        (1025..=2048, Some(g)) => Mont::<32>::new(modulus).pow_small(g, exp),
        (1025..=2048, None) => Mont::<32>::new(modulus).pow(base, exp),
        _ => base.modpow(exp, modulus),
    }
}

/// Bits per exponent digit of the fixed-base tables.
const FIXED_K: u64 = 6;
/// Largest exponent the fixed-base tables cover (DH and SRP secrets are 2048 bits).
const FIXED_MAX_BITS: u64 = 2048;

/// `g^exp mod p` for one fixed `(g, p)` from precomputed `G_i = g^(2^(6i))` (Yao's method:
/// about 2048/6 + 63 multiplications and no squarings, against ~2048 squarings otherwise).
/// The table is about 88 KiB and costs one exponentiation to build.
struct FixedBase {
    mont: Mont<32>,
    table: Vec<[u64; 32]>,
}

impl FixedBase {
    fn new(g: &BigUint, p: &BigUint) -> Self {
        let mont = Mont::<32>::new(p);
        let digits = FIXED_MAX_BITS.div_ceil(FIXED_K) as usize;
        let mut table = Vec::with_capacity(digits);
        let mut cur = mont.to_mont(g);
        for _ in 0..digits {
            table.push(cur);
            for _ in 0..FIXED_K {
                cur = mont.sqr(&cur);
            }
        }
        Self { mont, table }
    }

    /// `None` if `exp` is wider than the table.
    fn pow(&self, exp: &BigUint) -> Option<BigUint> {
        if exp.bits() > FIXED_MAX_BITS {
            return None;
        }
        let digit = |i: usize| -> usize {
            let mut d = 0usize;
            for k in (0..FIXED_K).rev() {
                d = (d << 1) | usize::from(exp.bit(i as u64 * FIXED_K + k));
            }
            d
        };
        let digits: Vec<usize> = (0..self.table.len()).map(digit).collect();
        let one = self.mont.to_mont(&BigUint::one());
        // a runs over the product of the G_i whose digit is >= d; multiplying b by a for each
        // d from the top gives the product of G_i^digit_i.
        let (mut a, mut b) = (one, one);
        for d in (1..1usize << FIXED_K).rev() {
            for (i, _) in digits.iter().enumerate().filter(|(_, &x)| x == d) {
                a = self.mont.mul(&a, &self.table[i]);
            }
            b = self.mont.mul(&b, &a);
        }
        Some(self.mont.leave(&b))
    }
}

/// The fixed-base table for `base` if `modulus` is Telegram's DH prime and `base` one of the
/// generators 2..=7 (built on first use, then shared).
fn telegram_table(base: &BigUint, modulus: &BigUint) -> Option<&'static FixedBase> {
    static PRIME: OnceLock<BigUint> = OnceLock::new();
    static TABLES: [OnceLock<FixedBase>; 8] = [const { OnceLock::new() }; 8];
    let g = base.to_u32_digits();
    let g = match g.as_slice() {
        [g] if (2..=7).contains(g) => *g as usize,
        _ => return None,
    };
    if modulus != PRIME.get_or_init(telegram_dh_prime) {
        return None;
    }
    Some(TABLES[g].get_or_init(|| FixedBase::new(base, modulus)))
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

    /// `a² · R^-1 mod n`: the square (cross products once, doubled, plus the diagonal), then a
    /// word-by-word Montgomery reduction: about 3/4 of the work of [`Mont::mul`].
    fn sqr(&self, a: &[u64; N]) -> [u64; N] {
        let mut p = [0u64; 64]; // 2N words used (N <= 32)
        for i in 0..N {
            let mut c = 0u64;
            for j in i + 1..N {
                let s = p[i + j] as u128 + a[i] as u128 * a[j] as u128 + c as u128;
                p[i + j] = s as u64;
                c = (s >> 64) as u64;
            }
            p[i + N] = c;
        }
        // Double the cross products, then add the squares a[i]^2 at word 2i.
        let mut top = 0u64;
        for w in p[..2 * N].iter_mut() {
            let next = *w >> 63;
            *w = (*w << 1) | top;
            top = next;
        }
        let mut c = 0u64;
        for i in 0..N {
            let sq = a[i] as u128 * a[i] as u128;
            let s = p[2 * i] as u128 + (sq as u64) as u128 + c as u128;
            p[2 * i] = s as u64;
            let s2 = p[2 * i + 1] as u128 + (sq >> 64) + (s >> 64);
            p[2 * i + 1] = s2 as u64;
            c = (s2 >> 64) as u64;
        }
        // The square of a value below n fits in 2N words: no carry is left here.
        self.reduce_wide(&mut p)
    }

    /// Montgomery reduction of a 2N-word value `p < n · R`: `p · R^-1 mod n`.
    fn reduce_wide(&self, p: &mut [u64; 64]) -> [u64; N] {
        let mut top = 0u64; // carry out of word 2N - 1
        for i in 0..N {
            let m = p[i].wrapping_mul(self.n0);
            let mut c = 0u64;
            for j in 0..N {
                let s = p[i + j] as u128 + m as u128 * self.n[j] as u128 + c as u128;
                p[i + j] = s as u64;
                c = (s >> 64) as u64;
            }
            let mut k = i + N;
            while c != 0 && k < 2 * N {
                let (v, o) = p[k].overflowing_add(c);
                p[k] = v;
                c = u64::from(o);
                k += 1;
            }
            top += c;
        }
        let mut t = [0u64; N];
        t.copy_from_slice(&p[N..2 * N]);
        if top != 0 || !lt(&t, &self.n) {
            sub_in_place(&mut t, &self.n);
        }
        t
    }

    /// `a · k mod n` for a small plain `k` (works the same in Montgomery form).
    fn mul_small(&self, a: &[u64; N], k: u64) -> [u64; N] {
        let mut t = [0u64; N];
        let mut c = 0u64;
        for (tj, &aj) in t.iter_mut().zip(a.iter()) {
            let s = aj as u128 * k as u128 + c as u128;
            *tj = s as u64;
            c = (s >> 64) as u64;
        }
        // The value (c, t) is below k·n: subtract n until it is below n (k < 2^8 times).
        let mut hi = c;
        while hi != 0 || !lt(&t, &self.n) {
            let mut borrow = false;
            for (x, &y) in t.iter_mut().zip(self.n.iter()) {
                let (d1, b1) = x.overflowing_sub(y);
                let (d2, b2) = d1.overflowing_sub(u64::from(borrow));
                *x = d2;
                borrow = b1 || b2;
            }
            hi -= u64::from(borrow);
        }
        t
    }

    /// `g^exp` for a small base `g < 2^8` (the DH and SRP generators): squarings and cheap
    /// scalar multiplications, no table.
    fn pow_small(&self, g: u64, exp: &BigUint) -> BigUint {
        let mut acc = self.to_mont(&BigUint::one());
        for i in (0..exp.bits()).rev() {
            acc = self.sqr(&acc);
            if exp.bit(i) {
                acc = self.mul_small(&acc, g);
            }
        }
        self.leave(&acc)
    }

    /// From Montgomery form back to a number: multiply by plain 1.
    fn leave(&self, x: &[u64; N]) -> BigUint {
        let mut plain_one = [0u64; N];
        plain_one[0] = 1;
        from_limbs(&self.mul(x, &plain_one))
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
                    acc = self.sqr(&acc);
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
        self.leave(&acc)
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
    fn small_bases_match_num_bigint() {
        let mut rng = StdRng::seed_from_u64(18);
        for bits in [9u64, 64, 1024, 2048] {
            let m = rng.gen_biguint(bits) | BigUint::one() | (BigUint::one() << (bits - 1));
            for g in [0u32, 1, 2, 3, 7, 255] {
                let exp = rng.gen_biguint(2048);
                let g = BigUint::from(g);
                assert_eq!(
                    modpow(&g, &exp, &m),
                    g.modpow(&exp, &m),
                    "{bits} bits, g {g}"
                );
            }
        }
    }

    #[test]
    fn fixed_base_tables_match_num_bigint() {
        let p = telegram_dh_prime();
        let mut rng = StdRng::seed_from_u64(19);
        for g in [2u32, 3, 4, 7] {
            let g = BigUint::from(g);
            assert!(telegram_table(&g, &p).is_some());
            for bits in [0u64, 1, 6, 7, 255, 2047, 2048] {
                let exp = rng.gen_biguint(bits);
                assert_eq!(
                    modpow(&g, &exp, &p),
                    g.modpow(&exp, &p),
                    "g {g} bits {bits}"
                );
            }
            // Wider exponents take the general path.
            let wide = rng.gen_biguint(2100);
            assert_eq!(modpow(&g, &wide, &p), g.modpow(&wide, &p));
        }
        assert!(telegram_table(&BigUint::from(8u32), &p).is_none());
        assert!(telegram_table(&BigUint::from(3u32), &(&p + 2u32)).is_none());
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
