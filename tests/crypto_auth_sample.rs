//! The DH half of Telegram's worked auth-key exchange (core.telegram.org/mtproto/samples-auth_key,
//! 2024 revision, nonce 15A084B3...): every crypto step after the RSA one, replayed with our
//! primitives. The hex values are facts copied from that page.

use hex_literal::hex;
use num_bigint::BigUint;
use tgmux::crypto::rsa::TELEGRAM_PRODUCTION_KEY_PEM;
use tgmux::crypto::{
    aes_ige_decrypt, aes_ige_encrypt, factorize, nonce_aes_key_iv, sha1, AuthKey, DhGroup,
    RsaPublicKey,
};

const SERVER_NONCE: [u8; 16] = hex!("d6701fcd212ceb87c966e5318f5564a8");
const NEW_NONCE: [u8; 32] =
    hex!("845fad32d10a4c7967da49a89fbe508ad24aa3150992b499b3b2c72cdc0f364c");

fn tmp_key_iv() -> ([u8; 32], [u8; 32]) {
    (
        hex!("d32e4a7f18252ae2b0406b84633e1117833ed75bda40011d1e1700e3e08a8ae7"),
        hex!("4ffc40d969d49934ed3740ff66d9179947a5e1d85c4c7f15555920c1845fad32"),
    )
}

fn answer_with_hash() -> Vec<u8> {
    hex!(
        "adddf2feb5e14f93ee8d3a5181f9d89a39e4439cba0d89b515a084b3b9ca2a17f03925f44b78fe68d6701fcd212ceb87"
        "c966e5318f5564a803000000fe000100c71caeb9c6b1c9048e6c522f70f13f73980d40238e3e21c14934d037563d930f"
        "48198a0aa7c14058229493d22530f4dbfa336f6e0ac925139543aed44cce7c3720fd51f69458705ac68cd4fe6b6b13ab"
        "dc9746512969328454f18faf8c595f642477fe96bb2a941d5bcd1d4ac8cc49880708fa9b378e3c4f3a9060bee67cf9a4"
        "a4a695811051907e162753b56b0f6b410dba74d8a84b2a14b3144e0ef1284754fd17ed950d5965b4b9dd46582db1178d"
        "169c6bc465b0d6ff9ca3928fef5b9ae4e418fc15e83ebea0f87fa9ff5eed70050ded2849f47bf959d956850ce929851f"
        "0d8115f635b105ee2e4e15d04b2454bf6f4fadf034b10403119cd8e3b92fcc5bfe0001009828b2e4caec188bb94216f5"
        "e2db632a17630a21fd00c67465e741d26137c8e2b757f349d8dd1b62b601642acb9e3b390abf153d3a11615a128ed1d7"
        "9379d763c14d2df5cef99c96945c51290c1fd82c4b482078863b2bc7022c7886c21c0f1d24814c768321c05934303e50"
        "ae22cbc83f2a3994bbc3c72e77bf10cdb695cbd86655d1bc0a083551e59d0fbfcfa13825a182105a78da35af5a15c064"
        "275b6e6729049c84209b898675c9110adcd1cbb2aab333c05d3e9f70d05fee7c54efce927e1b40a719d04d15c7e950eb"
        "885e60aaae990231719dbddd84c65b2f3a606fe1f78dea7c8fad25c1cd7876eb6f5a46270b82d549e31edd3c2dc2f829"
        "70a4999cfdc0ab657607b7374780e1c0"
    )
    .to_vec()
}

#[test]
fn pq_and_fingerprint() {
    // pq as carried in resPQ: the TL string 08 | 1460E7D3FA727791 | 000000.
    assert_eq!(factorize(0x1460e7d3fa727791), Ok((1008949199, 1455403679)));
    assert_eq!((0x3c2357cf, 0x56bfb29f), (1008949199, 1455403679));
    // The fingerprint in resPQ, as little-endian bytes on the wire.
    let key = RsaPublicKey::from_pkcs1_pem(TELEGRAM_PRODUCTION_KEY_PEM).unwrap();
    assert_eq!(key.fingerprint().to_le_bytes(), hex!("85fd64de851d9dd0"));
}

#[test]
fn temporary_key_and_server_dh_inner_data() {
    let (key, iv) = nonce_aes_key_iv(&SERVER_NONCE, &NEW_NONCE);
    assert_eq!((key, iv), tmp_key_iv());
    let mut data = hex!(
        "fef627ac3a88027bc6583f95d82e610066a87b839614ee343cd8d37f2b2c81fc964561ba164f44e4b3c39a6cc74c6e2f"
        "2687c2e5872658e4301734b3814d420c684d94c0b93c4b335dbb346266cdad20b3eec91ae49b59e130eab877fd03c07b"
        "a786da8eff7bddcb773e0c4c1c7c66fe5c5a39d32a76400d71fbd2a09d5bfdf3b3976f17c1da7fd77349cbd97ebc5217"
        "181541f43d8dedb3027dc3989623dcf849ff391832f409903e7620ebbf7675cefa13cec90570bb0ee196c5bb67db169d"
        "b902c1192f67d9a74b1b9782ff02fd4db78c76117d6639a6ed87f5deb37ed49296f2c94ea835d0988a270749c3e6d1d0"
        "b0be88f3985d683e48f2e2ac7648175ee72bea1b52641c23ec8eefbd6025516e91cce20c25cb5159b5c9d9ca19a15dd4"
        "a44f422946b758ec4c968bde0832e2389d5b9f3c3ac520ac58753747717f7276a7df3ff841a7abd18524a3150f537471"
        "f73a9818097e82d9645a9ce38f858d510ffc79ce11d96173c22dde2b0ae490b8cc7b10bcc7bb8879027872e724dcc648"
        "ddf7ae6f14c3229e7d611463e513d38be913d0d50e9d439337c0fd8d71c9ef70c602a47173d699308216c7c44c40615b"
        "f8e9806a5dfa56f4529ad70e784c1904a9488a019a6c7ab7d822a9a6926a1916891302c1827ce54e9d8829ee079d1973"
        "0dfeba218d317eb4f22a2418ef9343da75131fc6f37a80d5eeb93309711244ae3a1d4ca1906f10b4f06c8f9bf547a6fe"
        "a9a8d0cc910b15e7da9a0acf0c2e7934f7a7dba8effe4d135dbd207c609bfc3bac89ba949ddf754879712f6b97c50a54"
        "f560d0a75da8a078a039f21bca129fcb"
    )
    .to_vec();
    aes_ige_decrypt(&mut data, &key, &iv).unwrap();
    assert_eq!(data, answer_with_hash());
    // SHA1(server_DH_inner_data) | server_DH_inner_data (564 bytes) | padding.
    assert_eq!(sha1(&data[20..20 + 564]), data[..20]);
}

#[test]
fn dh_values_and_auth_key() {
    let answer = answer_with_hash();
    let inner = &answer[20..20 + 564];
    // server_DH_inner_data: id, nonce, server_nonce, g:int, dh_prime:bytes, g_a:bytes, time.
    let g = u32::from_le_bytes(inner[36..40].try_into().unwrap());
    assert_eq!(&inner[40..44], &[0xfe, 0x00, 0x01, 0x00]);
    let dh_prime = &inner[44..300];
    assert_eq!(&inner[300..304], &[0xfe, 0x00, 0x01, 0x00]);
    let g_a = &inner[304..560];
    let group = DhGroup::new(g, dh_prime, &mut rand::rngs::mock::StepRng::new(0, 1)).unwrap();
    assert_eq!(group, DhGroup::telegram());

    let b = BigUint::from_bytes_be(&hex!(
        "a521c97b9d210812c56055c62fe8c3ce7fc97a75e51d4428f78f7d5f7325fce03ff70d99039502fb75059dc40e36cf4f"
        "4d7a073937cc6dbc86ab864e7b3f26efe833f766856033931bc41f031507dd571fcfebb28f1b3df1577a90c25b95c568"
        "94aab64c681961ac68afa9aadf03752d0e26eadd645a02d7895b64846eb83b3ddd458d856870cd8c0765b985c1ed50d5"
        "d802dde67b159c899898a9b738d17802f3d50b83a868738d8502bbe33b8d7fbc3348e3e444352816fd84d300a2a8e211"
        "7cac0eaec654235183187d85548791bf25abfd1ac97eab7fa685f67a57e7bbe47b96a99b8f34b8eb523c18aee074eaba"
        "cb6fa9a28a41f4f961f41d86b19f4ec1"
    ));
    assert_eq!(
        group.public_value(&b).unwrap(),
        hex!(
            "a0bb357c5a5fbc4ec9d8b2171c030cb68a693a8024cd9e3630bae4ce000a14a5dbf8a40dfb322678a797ed3d591032d0"
            "a1c529be4e76b7ebd5436e7bf7539a9ab5a5fe9dd62f37cae704efe0c10dd608e5d9554f7b2f7198e99ce29a9a86cce0"
            "fbb1491eba269deb6aa20c5cb2134e75e5c70a7c0e7d47ee16f87189d135edae37ead992063c11aea4ac660cf3ebe61b"
            "6c21adaac2a9317120a6f4d1da65978fa74bf94cc65a0ca2479d064906e78575049e7654d346ca576c6778f478cdb48f"
            "ca2fd9202e6e5f95fef623a206207afb41619c419357b49f4f8825b37ef7e74811fba22bdf45730f423793c504951436"
            "3232f3358bc5f60a416bdce7d7bbfb49"
        )
    );
    let auth_key = group.shared_key(g_a, &b).unwrap();
    assert_eq!(
        auth_key,
        hex!(
            "77379866d71627e6c3635361f9681b03c9ee8a7aab9552ef513a13315eabc18a118ed649614ae1f01dab8f71d8334130"
            "9c5999ad4889e5d9f3e911aaad00d9ddc24273d7b97dd92151f969242f347c8f9d5de44e8d7e87a69c2ae1757f5ecd20"
            "aafc586edd34c89ac8d5b8f7c9eb33a0c7f06a69632bceb8de03e336e5af0332d4b1f52ba73fbe7a3a6fe8c2268c10b9"
            "357e5474a7cceb0e39fe3b4a92900cd09af3c307d8fa90cb9da2ad35643fb0335bd0b7e6d30d1038741eb632e6a97b69"
            "2a1f76f418af74337d05539b59df1d4e16b7e0c87240595ddfd26037cdb7e70db4b6c5cae532f49bc6974f6f46fd3cbd"
            "cd90ebb6795fd9a43421bcdf893d5c46"
        )
    );
    // dh_gen_ok's new_nonce_hash1 is its last 16 bytes.
    let dh_gen_ok = hex!("34f7cb3b15a084b3b9ca2a17f03925f44b78fe68d6701fcd212ceb87c966e5318f5564a8677f483bb89fd206b244a2d1ac38cb31");
    assert_eq!(
        AuthKey::from_bytes(auth_key).new_nonce_hash(&NEW_NONCE, 1),
        dh_gen_ok[36..52]
    );
}

#[test]
fn client_dh_inner_data_encryption() {
    let inner = hex!(
        "54b6436615a084b3b9ca2a17f03925f44b78fe68d6701fcd212ceb87c966e5318f5564a80000000000000000fe000100"
        "a0bb357c5a5fbc4ec9d8b2171c030cb68a693a8024cd9e3630bae4ce000a14a5dbf8a40dfb322678a797ed3d591032d0"
        "a1c529be4e76b7ebd5436e7bf7539a9ab5a5fe9dd62f37cae704efe0c10dd608e5d9554f7b2f7198e99ce29a9a86cce0"
        "fbb1491eba269deb6aa20c5cb2134e75e5c70a7c0e7d47ee16f87189d135edae37ead992063c11aea4ac660cf3ebe61b"
        "6c21adaac2a9317120a6f4d1da65978fa74bf94cc65a0ca2479d064906e78575049e7654d346ca576c6778f478cdb48f"
        "ca2fd9202e6e5f95fef623a206207afb41619c419357b49f4f8825b37ef7e74811fba22bdf45730f423793c504951436"
        "3232f3358bc5f60a416bdce7d7bbfb49"
    );
    let mut data = sha1(&inner).to_vec();
    data.extend_from_slice(&inner);
    data.extend_from_slice(&hex!("c320374a97c7bb863cff9f97"));
    let (key, iv) = tmp_key_iv();
    aes_ige_encrypt(&mut data, &key, &iv).unwrap();
    assert_eq!(
        data,
        hex!(
            "79ca5b557095ad847c53d6308a38b62fc9a6f2356c07f298d21c9b0db4002d90c4c0fb9c72626f9f146b4e3a81f59ed5"
            "cc6a0b4f59bc7411cdca6bda8c27b6c3b6db548f076bb6ccb6791db116e6368c7328ba21212121446ce754ec118cf380"
            "ed0cb0d798418ce54d7f68fcae7af146f4f8df31f98794ff6ee06c35de10a86518434a9f83cdc05fd5b151a50f63ad87"
            "d8529d7aa032498af9c17c6f02e7ee1e8733f5752186880fa475f2977c7f00e1d8384e20613971f98efd81a3c6bfb3b8"
            "f97969fb39d172527961341bbfdc9d2895306365a52f2cb9087c122e53990800bd596e05aa25a5642996afb43061178a"
            "580f21e3c47080418b4cf0b6b10fc0c78595d486b3a3dd401d1bf37257c2584bfd5d71a708b138a6e22f853e522696aa"
            "6d1a8532461abaea7935a975e3c978a7a00c792cb3adf688d0b1480c6c016b04cd1bc36546cd9acabaa0c84db571749b"
        )
    );
}
