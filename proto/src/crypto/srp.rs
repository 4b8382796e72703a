//! SRP for 2FA passwords (core.telegram.org/api/srp), KDF
//! `passwordKdfAlgoSHA256SHA256PBKDF2HMACSHA512iter100000SHA256ModPow`.
//!
//! With `H = SHA256`, `SH(data, salt) = H(salt | data | salt)`,
//! `PH1(pw) = SH(SH(pw, salt1), salt2)`, `x = PH2(pw) = SH(PBKDF2-HMAC-SHA512(PH1, salt1, 100000), salt2)`,
//! numbers as 256-byte big-endian strings in every hash (`g` too):
//! ```text
//! v = g^x           k = H(p | g)          u = H(g_a | g_b)
//! client: g_a = g^a,  S = (g_b - k v)^(a + u x)
//! server: g_b = k v + g^b,  S = (g_a v^u)^b
//! K = H(S)          M1 = H(H(p) ^ H(g) | H(salt1) | H(salt2) | g_a | g_b | K)
//! ```
//! The client sends `inputCheckPasswordSRP { srp_id, A = g_a, M1 }`; the server recomputes M1.
//! Group `(g, p)` and both public values get the DH checks of [`super::dh`].

use num_bigint::{BigUint, RandBigInt};
use num_traits::Zero;
use rand::RngCore;

use super::dh::{check_public_value, DhGroup};
use super::hash::{ct_eq, sha256, sha256_parts};
use super::kdf::pbkdf2_hmac_sha512;
use super::modpow::modpow;
use super::CryptoError;

/// PBKDF2 rounds of the one KDF Telegram uses.
pub const PBKDF2_ROUNDS: u32 = 100_000;

/// What the client sends: `A` and `M1` of `inputCheckPasswordSRP`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SrpAnswer {
    /// `A = g^a mod p`, 256 bytes.
    pub a: [u8; 256],
    /// `M1`, 32 bytes.
    pub m1: [u8; 32],
}

fn pad256(x: &BigUint) -> [u8; 256] {
    let b = x.to_bytes_be();
    let mut out = [0u8; 256];
    let n = b.len().min(256);
    out[256 - n..].copy_from_slice(&b[b.len() - n..]);
    out
}

fn sh(data: &[u8], salt: &[u8]) -> [u8; 32] {
    sha256_parts(&[salt, data, salt])
}

/// `x = PH2(password, salt1, salt2)`, the 32-byte password hash (runs the 100 000 rounds).
pub fn password_hash(password: &[u8], salt1: &[u8], salt2: &[u8]) -> [u8; 32] {
    let ph1 = sh(&sh(password, salt1), salt2);
    sh(&pbkdf2_hmac_sha512(&ph1, salt1, PBKDF2_ROUNDS), salt2)
}

/// The values both sides derive from the group alone.
struct Common {
    p_bytes: [u8; 256],
    g_bytes: [u8; 256],
    k: BigUint,
}

fn common(g: u32, p: &BigUint) -> Common {
    let p_bytes = pad256(p);
    let g_bytes = pad256(&BigUint::from(g));
    let k = BigUint::from_bytes_be(&sha256_parts(&[&p_bytes, &g_bytes]));
    Common {
        p_bytes,
        g_bytes,
        k,
    }
}

fn m1(
    c: &Common,
    salt1: &[u8],
    salt2: &[u8],
    g_a: &[u8; 256],
    g_b: &[u8; 256],
    s: &BigUint,
) -> [u8; 32] {
    let hp = sha256(&c.p_bytes);
    let hg = sha256(&c.g_bytes);
    let mut x = [0u8; 32];
    for i in 0..32 {
        x[i] = hp[i] ^ hg[i];
    }
    let k_s = sha256(&pad256(s));
    sha256_parts(&[&x, &sha256(salt1), &sha256(salt2), g_a, g_b, &k_s])
}

/// The verifier `v = g^x mod p` the server stores for a password (256 bytes); `salt1` is
/// the full salt (the client's `new_algo.salt1` plus the server's 32 random bytes).
pub fn make_verifier(group: &DhGroup, password: &[u8], salt1: &[u8], salt2: &[u8]) -> [u8; 256] {
    let x = BigUint::from_bytes_be(&password_hash(password, salt1, salt2));
    pad256(&modpow(&BigUint::from(group.g()), &x, group.p()))
}

/// The client's arithmetic with no checks at all: `(A, M1, u)` from the password hash `x`.
/// Public callers go through [`client_answer`] / [`client_answer_with_secret`].
fn client_math(
    g: u32,
    p: &BigUint,
    x: &BigUint,
    salt1: &[u8],
    salt2: &[u8],
    g_b_num: &BigUint,
    a: &BigUint,
) -> (SrpAnswer, BigUint, BigUint) {
    let c = common(g, p);
    let g_big = BigUint::from(g);
    let g_a_num = modpow(&g_big, a, p);
    let g_a = pad256(&g_a_num);
    let g_b = pad256(g_b_num);
    let u = BigUint::from_bytes_be(&sha256_parts(&[&g_a, &g_b]));
    let v = modpow(&g_big, x, p);
    let k_v = (&c.k * v) % p;
    let t = (g_b_num % p + p - k_v) % p;
    let s = modpow(&t, &(a + &u * x), p);
    let answer = SrpAnswer {
        a: g_a,
        m1: m1(&c, salt1, salt2, &g_a, &g_b, &s),
    };
    (answer, g_a_num, u)
}

fn check_srp_b(group: &DhGroup, srp_b: &[u8]) -> Result<BigUint, CryptoError> {
    if srp_b.len() > 256 {
        return Err(CryptoError::DhCheck("srp_B longer than 256 bytes"));
    }
    let v = BigUint::from_bytes_be(srp_b);
    check_public_value(&v, group.p())?;
    Ok(v)
}

/// Client side with a given secret `a` (for replaying vectors; use [`client_answer`]).
/// The group is already validated (it is a [`DhGroup`]); `srp_B`, `A` and `u` are checked.
pub fn client_answer_with_secret(
    group: &DhGroup,
    password: &[u8],
    salt1: &[u8],
    salt2: &[u8],
    srp_b: &[u8],
    a: &BigUint,
) -> Result<SrpAnswer, CryptoError> {
    let g_b = check_srp_b(group, srp_b)?;
    let x = BigUint::from_bytes_be(&password_hash(password, salt1, salt2));
    checked_answer(group, &x, salt1, salt2, &g_b, a)
}

fn checked_answer(
    group: &DhGroup,
    x: &BigUint,
    salt1: &[u8],
    salt2: &[u8],
    g_b: &BigUint,
    a: &BigUint,
) -> Result<SrpAnswer, CryptoError> {
    let (answer, g_a, u) = client_math(group.g(), group.p(), x, salt1, salt2, g_b, a);
    check_public_value(&g_a, group.p())?;
    if u.is_zero() {
        return Err(CryptoError::DhCheck("SRP u is zero"));
    }
    Ok(answer)
}

/// Client side of `inputCheckPasswordSRP`: validates `(g, p)` (see [`DhGroup::new`]) and
/// `srp_B`, draws a 2048-bit `a` from `rng` and returns `A` and `M1`.
pub fn client_answer<R: RngCore + ?Sized>(
    g: u32,
    p: &[u8],
    password: &[u8],
    salt1: &[u8],
    salt2: &[u8],
    srp_b: &[u8],
    rng: &mut R,
) -> Result<SrpAnswer, CryptoError> {
    let group = DhGroup::new(g, p, rng)?;
    let g_b = check_srp_b(&group, srp_b)?;
    let x = BigUint::from_bytes_be(&password_hash(password, salt1, salt2));
    loop {
        let a = rng.gen_biguint(2048);
        // Only our own values can fail now (A out of range, u = 0): draw another a.
        if let Ok(answer) = checked_answer(&group, &x, salt1, salt2, &g_b, &a) {
            return Ok(answer);
        }
    }
}

/// The server's half of one 2FA check: holds `b` and the verifier, offers `srp_B`, verifies M1.
#[derive(Clone)]
pub struct SrpServer {
    group: DhGroup,
    verifier: BigUint,
    b: BigUint,
    g_b: [u8; 256],
}

impl std::fmt::Debug for SrpServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SrpServer { .. }")
    }
}

impl SrpServer {
    /// Draws `b` and computes `srp_B = k v + g^b mod p` (redrawing until it passes the checks).
    pub fn new<R: RngCore + ?Sized>(group: DhGroup, verifier: &[u8; 256], rng: &mut R) -> Self {
        loop {
            let b = rng.gen_biguint(2048);
            if let Ok(s) = Self::with_secret(group.clone(), verifier, b) {
                return s;
            }
        }
    }

    /// As [`SrpServer::new`] with a given `b`; errors if `srp_B` would fail the checks.
    pub fn with_secret(
        group: DhGroup,
        verifier: &[u8; 256],
        b: BigUint,
    ) -> Result<Self, CryptoError> {
        let c = common(group.g(), group.p());
        let v = BigUint::from_bytes_be(verifier);
        let p = group.p();
        let g_b_num = (&c.k * &v + modpow(&BigUint::from(group.g()), &b, p)) % p;
        check_public_value(&g_b_num, p)?;
        Ok(Self {
            g_b: pad256(&g_b_num),
            verifier: v,
            b,
            group,
        })
    }

    /// `srp_B` to send in `account.password`.
    pub fn srp_b(&self) -> [u8; 256] {
        self.g_b
    }

    /// Checks the client's `A` and `M1` (constant-time compare). `Ok` means the password is right.
    pub fn verify(
        &self,
        salt1: &[u8],
        salt2: &[u8],
        a: &[u8],
        m1_got: &[u8],
    ) -> Result<(), CryptoError> {
        let p = self.group.p();
        if a.len() > 256 {
            return Err(CryptoError::DhCheck("SRP A longer than 256 bytes"));
        }
        let g_a_num = BigUint::from_bytes_be(a);
        check_public_value(&g_a_num, p)?;
        let g_a = pad256(&g_a_num);
        let u = BigUint::from_bytes_be(&sha256_parts(&[&g_a, &self.g_b]));
        if u.is_zero() {
            return Err(CryptoError::DhCheck("SRP u is zero"));
        }
        let s = modpow(&((g_a_num * modpow(&self.verifier, &u, p)) % p), &self.b, p);
        let expected = m1(
            &common(self.group.g(), p),
            salt1,
            salt2,
            &g_a,
            &self.g_b,
            &s,
        );
        if ct_eq(&expected, m1_got) {
            Ok(())
        } else {
            Err(CryptoError::SrpMismatch)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grammers_tiny_group_vector() {
        // grammers-crypto two_factor_auth.rs check_calculations_1: p = 47, g = 3, g_b = 5,
        // a = 6, password = [7], salt1 = [1], salt2 = [2]. Far too small for the checks, so it
        // runs the bare arithmetic.
        let x = BigUint::from_bytes_be(&password_hash(&[7], &[1], &[2]));
        let (answer, _, _) = client_math(
            3,
            &BigUint::from(47u32),
            &x,
            &[1],
            &[2],
            &BigUint::from(5u32),
            &BigUint::from(6u32),
        );
        let mut g_a = [0u8; 256];
        g_a[255] = 24;
        assert_eq!(answer.a, g_a);
        assert_eq!(
            answer.m1,
            [
                157, 131, 196, 103, 0, 184, 116, 232, 7, 196, 85, 231, 17, 36, 30, 222, 158, 234,
                98, 88, 59, 56, 71, 215, 183, 123, 122, 50, 19, 32, 54, 206,
            ]
        );
    }
}
