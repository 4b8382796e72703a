//! SRP 2FA oracles: grammers-crypto's `check_calculations_2` (client answer with Telegram's
//! group), gotd's `TestSRP_NewHash` (the verifier for a new password), and grammers-crypto's
//! `calculate_2fa` as a client against our server side.

use hex_literal::hex;
use num_bigint::BigUint;
use rand::{rngs::StdRng, RngCore, SeedableRng};
use tgmux::crypto::dh::{telegram_dh_prime, DhGroup};
use tgmux::crypto::srp::{client_answer, client_answer_with_secret, make_verifier, SrpServer};
use tgmux::crypto::CryptoError;

const SALT1: [u8; 40] =
    hex!("5f483c38bd0986e7cdc95ae138ef4f49b951c1f81c713fecdef3af692cec4b4716ac9b770a195ebe");
const SALT2: [u8; 16] = hex!("b616fc6bbedf511119c5ed34629527f1");

fn p_bytes() -> Vec<u8> {
    DhGroup::telegram().p_bytes().to_vec()
}

#[test]
fn client_answer_vector_from_grammers() {
    let g_b = hex!(
        "93f70ebd50f6426aca2568769599f91f24d01284cc51a449e62dcc1527dfe50126b2aa44238e4fb2331419ed4aebf1a0"
        "ae15e03abd18bfc52ca6baec564c13b5a1d2e357799897757bb736fdc2ceb1b56aacf19ab3548d6d922a522f0b51f401"
        "24c3bc9936aff3e1dcfbea39ac9ad2addc6af0ad30783278bbb84cab0ed8464b0ffeb2b0c93a39a5d97dba0105672ca5"
        "475373d8d23e54a6ac9bed9519e8bef4f00719f5ad56151be5537648df2f8e3e7265cb57fb94a054ce2a82b8cc664ad0"
        "60e0d6c6df1879345440eb977fa0f2d36f31a253d8917732f133d40033a34b6152969b600d59cdabfea2ab2393ad659e"
        "56d66e13605b1f61e48e3cd65c0f58ac"
    );
    let a = hex!(
        "bf31574f34fce1e53891c59b7f62468a0ca682da8585df8de0a18873359755fbb1818878a9ee919bb1e94d20c5f0607e"
        "02a33176199bf3220256c9ea1a69f395a515d20539d88cda750a5252fb864f573f2b032f3b467d08b34fd9c89d1c5d06"
        "278e113e51d4e893c1c027455af4653f096607a4156d94fb8e1dc7cee5bfe32850982f941ae4414e83bf22df56270b43"
        "b7ccc44c26d40886464da8e344a8540795b8f69b8f508552a723cd6931e1d69204e8e9dc056f0a2a10a0d7951e355f3e"
        "def5a5e18a9091295a51eb9db10b8b0d30489c8d29bc0cd86e97781f5e30c5b6bfe7caf4aae81b282e653ac48aa1a8fd"
        "e789722bc04f4320cd9f86849fe05ca4"
    );
    let answer = client_answer_with_secret(
        &DhGroup::telegram(),
        b"234567",
        &SALT1,
        &SALT2,
        &g_b,
        &BigUint::from_bytes_be(&a),
    )
    .unwrap();
    assert_eq!(
        answer.m1,
        hex!("4d7af412c5a2e7b15467376bd118b853604e687b31f51c4980c4d7c1876613e3")
    );
    assert_eq!(
        answer.a,
        hex!(
        "0fa12bc655b1187a28296a69ae565d682782e0ceb05a089c0c41c1dce983dc7f4a53434ea78e065d9e1cb60e427b4468"
        "a4780609feba2f55654ee2efe0aeb72edafde2652e26ed5b4d4baad9d2a381806af63416bf6263df45a43d85be5401bc"
        "223ebfac09421caddd7e260bd6b86542133c048d6cd54b38d8e2ccdf6b550e875b1353a4acfe3292ffb56a0f58b2a390"
        "27c9bfdd91fd4c531d23c77d6e8f7d583eaeea316dedded69935296ce7ea34e9be6ef2fbd829eac4c9bd646dc1563e47"
        "f77b91431ca002cf79fc149d968272835c15ca1c6b2c5e03712a2e1b5d52f5e4faa1c16cb177fafd96a6aa5b4b3f4c64"
        "9915644b63855cfb38561ff17fedfb8a"
        )
    );
}

#[test]
fn verifier_vector_from_gotd() {
    // gotd crypto/srp/new_hash_test.go: password "newPassword", salt1 extended with 32 zero
    // bytes (their zero rng), g = 3, Telegram's prime.
    let mut salt1 = hex!("e6c8957ddf988d48").to_vec();
    salt1.extend_from_slice(&[0u8; 32]);
    let salt2 = hex!("9f6344822b096cff87efa426f57857b6");
    assert_eq!(
        make_verifier(&DhGroup::telegram(), b"newPassword", &salt1, &salt2),
        hex!(
            "186ac18dcc5790bf6bba21bd958d375ee5481af0029e9bd7a9c68ec926bd5196d81f8cd8b58ee06c8a10adeacc7f56e8"
            "19ff514825deb15b1fadec6aae17a244cb23488d17349cd4261a8ba4da7b9c2ce5c40014dd9e362750acf3ac89b8b8f5"
            "c618f0b6a572c38fff3a554d8818a0b8e7b6015e1836128a1e4e2d5cf9971d1dd048aa181d861152eae7155396268063"
            "2387b89ac1865fded7c8c3daa64ed38dc25036663fa0cf7748c52ea19c187e70a752a8053e409d4894218a429393d033"
            "82e41e50b7415b3b8ad092fd0790f88d894e84dca78f47f4218937d7aa99d88c87c09bcb8da890e535026623cea6fc8b"
            "3d25db70cb42aaa48323927d87a8fcf1"
        )
    );
}

#[test]
fn grammers_client_against_our_server() {
    let group = DhGroup::telegram();
    let mut rng = StdRng::seed_from_u64(21);
    let verifier = make_verifier(&group, b"hunter2", &SALT1, &SALT2);
    let server = SrpServer::new(group.clone(), &verifier, &mut rng);
    let mut a = vec![0u8; 256];
    rng.fill_bytes(&mut a);
    for (password, ok) in [(&b"hunter2"[..], true), (&b"hunter3"[..], false)] {
        let (m1, g_a) = grammers_crypto::two_factor_auth::calculate_2fa(
            &SALT1,
            &SALT2,
            &p_bytes(),
            &3,
            server.srp_b().to_vec(),
            a.clone(),
            password,
        );
        let result = server.verify(&SALT1, &SALT2, &g_a, &m1);
        if ok {
            result.unwrap();
        } else {
            assert_eq!(result, Err(CryptoError::SrpMismatch));
        }
        // Our client with the same secret computes the same answer.
        let ours = client_answer_with_secret(
            &group,
            password,
            &SALT1,
            &SALT2,
            &server.srp_b(),
            &BigUint::from_bytes_be(&a),
        )
        .unwrap();
        assert_eq!((ours.m1, ours.a), (m1, g_a));
    }
}

#[test]
fn our_client_against_our_server_and_bad_values() {
    let group = DhGroup::telegram();
    let mut rng = StdRng::seed_from_u64(22);
    let verifier = make_verifier(&group, b"correct horse", &SALT1, &SALT2);
    let server = SrpServer::new(group.clone(), &verifier, &mut rng);
    let answer = client_answer(
        3,
        &p_bytes(),
        b"correct horse",
        &SALT1,
        &SALT2,
        &server.srp_b(),
        &mut rng,
    )
    .unwrap();
    server
        .verify(&SALT1, &SALT2, &answer.a, &answer.m1)
        .unwrap();

    // A tampered M1, a swapped salt, a degenerate A: all refused.
    let mut m1 = answer.m1;
    m1[0] ^= 1;
    assert_eq!(
        server.verify(&SALT1, &SALT2, &answer.a, &m1),
        Err(CryptoError::SrpMismatch)
    );
    assert_eq!(
        server.verify(&SALT2, &SALT1, &answer.a, &answer.m1),
        Err(CryptoError::SrpMismatch)
    );
    for a in [
        vec![0u8],
        vec![1u8],
        (telegram_dh_prime() - 1u32).to_bytes_be(),
        vec![0xff; 257],
    ] {
        assert!(matches!(
            server.verify(&SALT1, &SALT2, &a, &answer.m1),
            Err(CryptoError::DhCheck(_))
        ));
    }
    // The client refuses a bad srp_B and a bad group.
    for b in [
        vec![0u8],
        vec![1u8],
        telegram_dh_prime().to_bytes_be(),
        vec![0xff; 257],
    ] {
        assert!(matches!(
            client_answer(3, &p_bytes(), b"x", &SALT1, &SALT2, &b, &mut rng),
            Err(CryptoError::DhCheck(_))
        ));
    }
    assert!(matches!(
        client_answer(
            2,
            &p_bytes(),
            b"x",
            &SALT1,
            &SALT2,
            &server.srp_b(),
            &mut rng
        ),
        Err(CryptoError::DhCheck(_))
    ));
    assert!(matches!(
        client_answer(
            3,
            &p_bytes()[1..],
            b"x",
            &SALT1,
            &SALT2,
            &server.srp_b(),
            &mut rng
        ),
        Err(CryptoError::DhCheck(_))
    ));
}
