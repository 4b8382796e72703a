//! Known byte vectors from Telegram's published auth-key sample
//! (core.telegram.org/mtproto/samples-auth_key), and rejection of bad input.

use tgmux_tl::{enums, functions, types, DecodeError, Deserializable, Reader, Serializable};

fn unhex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| c.is_ascii_hexdigit()).collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

const NONCE: &str = "3E0549828CCA27E966B301A48FECE2FC";
const SERVER_NONCE: &str = "A5CF4D33F4A11EA877BA4AA573907330";

fn int128(s: &str) -> [u8; 16] {
    unhex(s).try_into().unwrap()
}

/// Step 1: the body of the req_pq message (bytes 20..40 of the sample).
#[test]
fn req_pq_matches_the_sample() {
    let wire = unhex("78 97 46 60 3E 05 49 82 8C CA 27 E9 66 B3 01 A4 8F EC E2 FC");
    let f = functions::ReqPq {
        nonce: int128(NONCE),
    };
    assert_eq!(f.to_bytes(), wire);
    assert_eq!(functions::ReqPq::from_bytes(wire).unwrap(), f);
}

/// Step 2: the server's resPQ (bytes 20..84 of the sample).
#[test]
fn res_pq_matches_the_sample() {
    let wire = unhex(
        "63 24 16 05 3E 05 49 82 8C CA 27 E9 66 B3 01 A4 8F EC E2 FC A5 CF 4D 33 F4 A1 1E A8
         77 BA 4A A5 73 90 73 30 08 17 ED 48 94 1A 08 F9 81 00 00 00 15 C4 B5 1C 01 00 00 00
         21 6B E8 6C 02 2B B4 C3",
    );
    let enums::ResPq::ResPq(res) = enums::ResPq::from_bytes(wire.clone()).unwrap();
    assert_eq!(res.nonce, int128(NONCE));
    assert_eq!(res.server_nonce, int128(SERVER_NONCE));
    assert_eq!(res.pq.as_ref(), &unhex("17ED48941A08F981")[..]);
    assert_eq!(
        res.server_public_key_fingerprints,
        vec![0xc3b42b026ce86b21u64 as i64]
    );
    assert_eq!(res.to_bytes(), wire);
}

/// Step 4: p_q_inner_data laid out as the sample's table says (offsets 0..96).
#[test]
fn p_q_inner_data_matches_the_sample_layout() {
    let inner = types::PQInnerData {
        pq: unhex("17ED48941A08F981").into(),
        p: unhex("494C553B").into(),
        q: unhex("53911073").into(),
        nonce: int128(NONCE),
        server_nonce: int128(SERVER_NONCE),
        new_nonce: unhex("311C85DB234AA2640AFC4A76A735CF5B1F0FD68BD17FA181E1229AD867CC024D")
            .try_into()
            .unwrap(),
    };
    let expected = unhex(&format!(
        "ec5ac983 08 17ED48941A08F981 000000 04 494C553B 000000 04 53911073 000000 {NONCE} {SERVER_NONCE} \
         311C85DB234AA2640AFC4A76A735CF5B1F0FD68BD17FA181E1229AD867CC024D"
    ));
    assert_eq!(inner.to_bytes(), expected);
    assert_eq!(inner.to_bytes().len(), 96);
}

/// Step 4: the head of req_DH_params (bytes 20..100 of the sample) and its 260-byte
/// encrypted_data field (0xfe, 3-byte length 256, data).
#[test]
fn req_dh_params_matches_the_sample_head() {
    let encrypted = unhex("7BB0100A523161904D9C69FA04BC60DECFC5DD74B99995C768EB60D8716E2109BAF2D4601DAB6B09610DC11067BB89021E09471FCFA52DBD0F23204AD8CA8B012BF40A112F44695AB6C266955386114EF5211E6372227ADBD34995D3E0E5FF02EC63A43F9926878962F7C570E6A6E78BF8366AF917A5272675C46064BE62E3E202EFA8B1ADFB1C32A898C2987BE27B5F31D57C9BB963ABCB734B16F652CEDB4293CBB7C878A3A3FFAC9DBEA9DF7C67BC9E9508E111C78FC46E057F5C65ADE381D91FEE430A6B576A99BDF8551FDB1BE2B57069B1A45730618F27427E8A04720B4971EF4A9215983D68F2830C3EAA6E40385562F970D38A05C9F1246DC33438E6");
    let f = functions::ReqDhParams {
        nonce: int128(NONCE),
        server_nonce: int128(SERVER_NONCE),
        p: unhex("494C553B").into(),
        q: unhex("53911073").into(),
        public_key_fingerprint: 0xc3b42b026ce86b21u64 as i64,
        encrypted_data: encrypted.clone().into(),
    };
    let wire = f.to_bytes();
    assert_eq!(wire.len(), 320);
    let head = unhex(
        "BE E4 12 D7 3E 05 49 82 8C CA 27 E9 66 B3 01 A4 8F EC E2 FC A5 CF 4D 33 F4 A1 1E A8
         77 BA 4A A5 73 90 73 30 04 49 4C 55 3B 00 00 00 04 53 91 10 73 00 00 00 21 6B E8 6C
         02 2B B4 C3 FE 00 01 00 7B B0 10 0A 52 31 61 90 4D 9C 69 FA",
    );
    assert_eq!(&wire[..head.len()], &head[..]);
    assert_eq!(&wire[64..], &encrypted[..]);
    assert_eq!(functions::ReqDhParams::from_bytes(wire).unwrap(), f);
}

#[test]
fn truncated_trailing_and_unknown_input_is_rejected() {
    let pong = types::Pong {
        msg_id: 1,
        ping_id: 2,
    }
    .to_bytes();
    assert_eq!(
        types::Pong::from_bytes(pong[..pong.len() - 1].to_vec()),
        Err(DecodeError::Truncated)
    );
    let mut longer = pong.clone();
    longer.push(0);
    assert_eq!(
        types::Pong::from_bytes(longer),
        Err(DecodeError::TrailingBytes)
    );
    // Streaming use: a Reader may hold more than one object.
    let mut two = pong.clone();
    two.extend_from_slice(&pong);
    let mut r = Reader::new(two);
    assert!(enums::Pong::deserialize(&mut r).is_ok());
    assert!(enums::Pong::deserialize(&mut r).is_ok());
    assert!(r.is_empty());
    // An unknown id names itself and the expected type.
    let err = enums::Pong::from_bytes(vec![0xef, 0xbe, 0xad, 0xde, 0, 0, 0, 0]).unwrap_err();
    assert_eq!(
        err,
        DecodeError::UnexpectedConstructor {
            id: 0xdeadbeef,
            expected: "Pong"
        }
    );
    assert_eq!(
        err.to_string(),
        "unknown TL constructor 0xdeadbeef, expected Pong"
    );
    // A known id of the wrong type.
    let err = enums::Pong::from_bytes(
        types::RpcError {
            error_code: 1,
            error_message: "X".into(),
        }
        .to_bytes(),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "unexpected TL constructor 0x2144ca19 (rpc_error), expected Pong"
    );
    // A vector count larger than the input.
    let mut acks = types::MsgsAck {
        msg_ids: vec![1, 2],
    }
    .to_bytes();
    acks[8] = 0xff;
    assert_eq!(
        types::MsgsAck::from_bytes(acks),
        Err(DecodeError::LengthBeyondInput)
    );
}
