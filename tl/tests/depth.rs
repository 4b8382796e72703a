//! Hostile nesting: the depth budget turns it into a typed error on a small stack, and
//! legitimate depths still decode there.

use tgmux_tl::{enums, types, Bytes, DecodeError, Deserializable, Identifiable, Serializable};

/// The smallest thread stack decoders run on (tokio's worker default).
const SMALL_STACK: usize = 2 << 20;

/// Runs `f` on a thread with a 2 MiB stack (a stack overflow aborts the test binary).
fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(SMALL_STACK)
        .spawn(f)
        .expect("spawn")
        .join()
        .expect("decoder thread")
}

/// `levels` jsonArray, each holding the next, around a jsonNull.
fn nested_json_arrays(levels: usize) -> Vec<u8> {
    let mut head = Vec::new();
    types::JsonArray::CONSTRUCTOR_ID.serialize(&mut head);
    tgmux_tl::VECTOR_ID.serialize(&mut head);
    1i32.serialize(&mut head);
    let mut out = head.repeat(levels);
    types::JsonNull::CONSTRUCTOR_ID.serialize(&mut out);
    out
}

#[test]
fn eighty_thousand_nested_json_arrays_are_too_deep() {
    let wire = nested_json_arrays(80_000);
    assert!(wire.len() < 1 << 20, "fits one message body");
    let (typed, any) = on_small_stack(move || {
        let typed = enums::Jsonvalue::from_bytes(wire.clone()).map(|_| ());
        let any = tgmux_tl::decode_any(wire).map(|_| ());
        (typed, any)
    });
    let too_deep = Err(DecodeError::TooDeep {
        limit: tgmux_tl::MAX_DEPTH,
    });
    assert_eq!(typed, too_deep);
    assert_eq!(any, too_deep);
}

#[test]
fn the_budget_is_exactly_max_depth_levels() {
    let depth = tgmux_tl::MAX_DEPTH as usize;
    // MAX_DEPTH - 1 arrays and the jsonNull inside: MAX_DEPTH constructors.
    let at_limit = nested_json_arrays(depth - 1);
    let over = nested_json_arrays(depth);
    let (ok, err) = on_small_stack(move || {
        (
            enums::Jsonvalue::from_bytes(at_limit),
            enums::Jsonvalue::from_bytes(over),
        )
    });
    let mut v = ok.expect("MAX_DEPTH levels decode");
    let mut levels = 1;
    while let enums::Jsonvalue::JsonArray(a) = v {
        v = a.value.into_iter().next().expect("one element");
        levels += 1;
    }
    assert_eq!(
        (levels, v),
        (depth, enums::Jsonvalue::JsonNull(types::JsonNull {}))
    );
    assert!(matches!(err, Err(DecodeError::TooDeep { .. })), "{err:?}");
}

/// auth.authorizationSignUpRequired → help.termsOfService → its entities →
/// inputMessageEntityMentionName → inputUserFromMessage → `levels` inputPeerUserFromMessage:
/// what a hostile server can answer to `login`.
fn deep_authorization(levels: usize) -> Vec<u8> {
    let shallow: enums::auth::Authorization = types::auth::AuthorizationSignUpRequired {
        terms_of_service: Some(
            types::help::TermsOfService {
                popup: false,
                id: types::DataJson { data: "{}".into() }.into(),
                text: "terms".into(),
                entities: vec![types::InputMessageEntityMentionName {
                    offset: 0,
                    length: 5,
                    user_id: types::InputUserFromMessage {
                        peer: types::InputPeerEmpty {}.into(),
                        msg_id: 1,
                        user_id: 2,
                    }
                    .into(),
                }
                .into()],
                min_age_confirm: None,
            }
            .into(),
        ),
    }
    .into();
    let wire = shallow.to_bytes();
    let empty = types::InputPeerEmpty::CONSTRUCTOR_ID.to_le_bytes();
    let at = wire
        .windows(4)
        .position(|w| w == empty)
        .expect("inputPeerEmpty in the object");
    let mut out = wire[..at].to_vec();
    for _ in 0..levels {
        types::InputPeerUserFromMessage::CONSTRUCTOR_ID.serialize(&mut out);
    }
    out.extend_from_slice(&empty);
    for _ in 0..levels {
        7i32.serialize(&mut out);
        8i64.serialize(&mut out);
    }
    out.extend_from_slice(&wire[at + 4..]);
    out
}

#[test]
fn an_authorization_nesting_input_peers_twelve_thousand_deep_is_too_deep() {
    let wire = Bytes::from(deep_authorization(12_000));
    assert!(wire.len() < 1 << 20, "fits one message body");
    let got = on_small_stack(move || enums::auth::Authorization::from_bytes(wire).map(|_| ()));
    assert_eq!(
        got,
        Err(DecodeError::TooDeep {
            limit: tgmux_tl::MAX_DEPTH
        })
    );
    // The same shape a few levels deep is an ordinary authorization.
    let shallow = enums::auth::Authorization::from_bytes(deep_authorization(3)).unwrap();
    assert!(matches!(
        shallow,
        enums::auth::Authorization::AuthorizationSignUpRequired(_)
    ));
}
