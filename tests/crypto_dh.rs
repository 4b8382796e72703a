//! DH checks of core.telegram.org/mtproto/security_guidelines, one negative test per check,
//! cross-checked with grammers-crypto's `check_p_and_g` (an independent safe-prime test).

use num_bigint::BigUint;
use num_traits::One;
use rand::{rngs::StdRng, SeedableRng};
use tgmux::crypto::dh::{
    check_generator, check_public_value, check_safe_prime, telegram_dh_prime, DhGroup,
};
use tgmux::crypto::{random_prime, AuthKey, CryptoError};

/// RFC 3526 group 14: a 2048-bit safe prime that is not Telegram's (exercises the full test).
const RFC3526_2048: &str = concat!(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A0879",
    "8E3404DDEF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B",
    "0BFF5CB6F406B7EDEE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA4836",
    "1C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804",
    "F1746C08CA18217C32905E462E36CE3BE39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF6",
    "955817183995497CEA956AE515D2261898FA051015728E5A8AACAA68FFFFFFFFFFFFFFFF",
);

fn rfc3526() -> BigUint {
    BigUint::parse_bytes(RFC3526_2048.as_bytes(), 16).unwrap()
}

fn bytes256(x: &BigUint) -> Vec<u8> {
    let b = x.to_bytes_be();
    let mut out = vec![0u8; 256 - b.len()];
    out.extend_from_slice(&b);
    out
}

fn rng() -> StdRng {
    StdRng::seed_from_u64(42)
}

#[test]
fn telegram_prime_is_accepted_with_residue_generators_only() {
    let p = telegram_dh_prime();
    assert_eq!(p.bits(), 2048);
    for g in [3u32, 4, 7] {
        DhGroup::new(g, &bytes256(&p), &mut rng()).unwrap();
    }
    // p mod 8 = 3, p mod 5 = 3, p mod 24 = 11: g = 2, 5, 6 are not quadratic residues.
    for g in [2u32, 5, 6] {
        assert!(matches!(
            DhGroup::new(g, &bytes256(&p), &mut rng()),
            Err(CryptoError::DhCheck(_))
        ));
        assert!(check_generator(g, &p).is_err());
    }
    // g outside 2..=7.
    for g in [0u32, 1, 8, 65537] {
        assert!(check_generator(g, &p).is_err(), "g = {g}");
    }
    assert_eq!(
        DhGroup::telegram(),
        DhGroup::new(3, &bytes256(&p), &mut rng()).unwrap()
    );
}

#[test]
fn other_safe_prime_passes_the_full_test() {
    let p = rfc3526();
    check_safe_prime(&p, &mut rng()).unwrap();
    // p ≡ -1 mod 2^64, so p mod 8 = 7: g = 2 is fine.
    let group = DhGroup::new(2, &bytes256(&p), &mut rng()).unwrap();
    assert_eq!(group.g(), 2);
}

#[test]
fn wrong_size_prime_is_rejected() {
    let p = telegram_dh_prime();
    let short = &bytes256(&p)[1..];
    assert!(DhGroup::new(3, short, &mut rng()).is_err());
    let mut long = vec![0u8];
    long.extend_from_slice(&bytes256(&p));
    assert!(DhGroup::new(3, &long, &mut rng()).is_err());
    // 256 bytes but below 2^2047 (top bit clear): p >> 1 is not 2048 bits.
    let half = &p >> 1u32;
    assert!(matches!(
        check_safe_prime(&half, &mut rng()),
        Err(CryptoError::DhCheck(m)) if m.contains("2^2047")
    ));
}

#[test]
fn composite_prime_is_rejected() {
    let p = telegram_dh_prime() + 2u32;
    assert!(matches!(
        check_safe_prime(&p, &mut rng()),
        Err(CryptoError::DhCheck(m)) if m == "dh_prime is not prime"
    ));
}

#[test]
fn prime_that_is_not_safe_is_rejected() {
    let p = random_prime(2048, &mut StdRng::seed_from_u64(9));
    assert!(matches!(
        check_safe_prime(&p, &mut rng()),
        Err(CryptoError::DhCheck(m)) if m.contains("(dh_prime - 1) / 2")
    ));
}

#[test]
fn our_prime_checks_agree_with_grammers() {
    // Their safe-prime test is slow, so a few representative cases: accepted by equality,
    // generator refused, accepted by the full test, composite.
    let cases = [
        (telegram_dh_prime(), 3, true),
        (telegram_dh_prime(), 2, false),
        (rfc3526(), 2, true),
        (telegram_dh_prime() + 2u32, 3, false),
    ];
    for (p, g, expected) in cases {
        let ours = DhGroup::new(g as u32, &bytes256(&p), &mut rng()).is_ok();
        let theirs = grammers_crypto::two_factor_auth::check_p_and_g(&bytes256(&p), &g);
        assert_eq!(ours, theirs, "g = {g}");
        assert_eq!(ours, expected, "g = {g}");
    }
}

#[test]
fn public_value_bounds() {
    let p = telegram_dh_prime();
    let bound = BigUint::one() << 1984u32;
    let bad = [
        BigUint::from(0u32),
        BigUint::one(),
        BigUint::from(2u32),
        &bound - 1u32,
        &p - &bound + 1u32,
        &p - 1u32,
        p.clone(),
        &p + 1u32,
    ];
    for v in bad {
        assert!(
            matches!(check_public_value(&v, &p), Err(CryptoError::DhCheck(_))),
            "{v:x}"
        );
    }
    for v in [bound.clone(), &p - &bound, &p >> 1u32] {
        check_public_value(&v, &p).unwrap();
    }
}

#[test]
fn both_roles_agree_on_the_auth_key() {
    let group = DhGroup::telegram();
    let mut server_rng = StdRng::seed_from_u64(1);
    let mut client_rng = StdRng::seed_from_u64(2);
    let (a, g_a) = group.generate_keypair(&mut server_rng);
    let (b, g_b) = group.generate_keypair(&mut client_rng);
    let client_key = group.shared_key(&g_a, &b).unwrap();
    let server_key = group.shared_key(&g_b, &a).unwrap();
    assert_eq!(client_key, server_key);
    assert_eq!(
        AuthKey::from_bytes(client_key).id(),
        AuthKey::from_bytes(server_key).id()
    );
    assert_eq!(group.public_value(&a).unwrap(), g_a);

    // A peer's degenerate values are refused.
    assert!(group.shared_key(&[1], &b).is_err());
    assert!(group
        .shared_key(&bytes256(&(group.p() - 1u32)), &b)
        .is_err());
    assert!(group.shared_key(&[0xff; 257], &b).is_err());
    // A secret whose public value is out of range is refused (g^0 = 1).
    assert!(group.public_value(&BigUint::from(0u32)).is_err());
}
