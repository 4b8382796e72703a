//! PQ factorisation oracles: grammers-crypto's vectors, Telegram's samples-auth_key pq, and
//! grammers-crypto's `factorize` on random semiprimes of the sizes Telegram sends.

use rand::{rngs::StdRng, Rng, SeedableRng};
use tgmux::crypto::pq::{factorize, is_prime_u64};
use tgmux::crypto::CryptoError;

#[test]
fn grammers_vectors() {
    assert_eq!(factorize(1470626929934143021), Ok((1206429347, 1218991343)));
    assert_eq!(factorize(2363612107535801713), Ok((1518968219, 1556064227)));
    assert_eq!(factorize(2804275833720261793), Ok((1555252417, 1803100129)));
}

#[test]
fn telegram_sample_pq() {
    // core.telegram.org/mtproto/samples-auth_key: pq = 17ED48941A08F981 = 494C553B * 53911073.
    assert_eq!(factorize(0x17ED48941A08F981), Ok((0x494C553B, 0x53911073)));
}

fn random_prime(rng: &mut StdRng, lo: u64, hi: u64) -> u64 {
    loop {
        let c = rng.gen_range(lo..hi) | 1;
        if is_prime_u64(c) {
            return c;
        }
    }
}

#[test]
fn agrees_with_grammers_on_random_semiprimes() {
    let mut rng = StdRng::seed_from_u64(99);
    for _ in 0..200 {
        let p = random_prime(&mut rng, 1 << 30, 1 << 32);
        let q = random_prime(&mut rng, 1 << 30, 1 << 31);
        if p == q {
            continue;
        }
        let pq = p * q;
        let (a, b) = factorize(pq).unwrap();
        assert_eq!((a, b), (p.min(q), p.max(q)));
        if pq < 1 << 63 {
            // The protocol's pq is "normally ≤ 2^63 - 1"; grammers handles that range.
            assert_eq!(grammers_crypto::factorize::factorize(pq), (a, b));
        }
    }
}

#[test]
fn unbalanced_and_bad_inputs() {
    let three_primes = 3 * 1_000_003 * 1_000_033;
    assert_eq!(
        factorize(three_primes),
        Err(CryptoError::NotSemiprime(three_primes))
    );
    // A prime times a large prime is a (very unbalanced) semiprime.
    assert_eq!(
        factorize(3 * 6_148_914_691_236_517_199),
        Ok((3, 6_148_914_691_236_517_199))
    );
    let p = 4_294_967_291u64; // largest prime below 2^32
    assert_eq!(factorize(p * 4_294_967_279), Ok((4_294_967_279, p)));
    assert_eq!(factorize(17 * p), Ok((17, p)));
    assert_eq!(
        factorize(u64::MAX),
        Err(CryptoError::NotSemiprime(u64::MAX))
    );
    assert_eq!(factorize(p * p), Err(CryptoError::NotSemiprime(p * p)));
}
