//! A hostile peer inside an encrypted session: packets built with the right key but breaking
//! the rules (containers, gzip, msg_ids, session ids) go into the real session machines,
//! which must refuse them with a typed error and stay bounded.

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use tgmux::crypto::{AuthKey, Side};
use tgmux::mtproto::session::{
    wire, ClientSession, ClientSessionConfig, Event, SaltSchedule, ServerSession,
    ServerSessionConfig, SessionError, MAX_INFLATED,
};
use tgmux::tl::service::{GzipPacked, Message, MsgContainer, RpcResult};
use tgmux::tl::{functions, types, Deserializable, Identifiable, Serializable};

use rand::rngs::StdRng;
use rand::SeedableRng;

const NOW: u64 = 1_700_000_000;
const SESSION_ID: i64 = 0x5e55_1011;
const SALT: i64 = 0x5a17;

fn now() -> Duration {
    Duration::from_secs(NOW)
}

fn key() -> AuthKey {
    let mut k = [0u8; 256];
    for (i, b) in k.iter_mut().enumerate() {
        *b = (i as u8).wrapping_mul(31).wrapping_add(5);
    }
    AuthKey::from_bytes(k)
}

/// A msg_id `secs_from_now` seconds from NOW, with the low bits `low` (the sender's parity).
fn msg_id(secs_from_now: i64, n: i64, low: i64) -> i64 {
    ((NOW as i64 + secs_from_now) << 32) | (n << 4) | low
}

/// One packet from `from` carrying `body`.
fn packet(from: Side, session_id: i64, msg_id: i64, seq_no: i32, body: &[u8]) -> BytesMut {
    let mut out = Vec::new();
    let mut rng = StdRng::seed_from_u64(msg_id as u64);
    wire::encrypt(
        &key(),
        from,
        SALT,
        session_id,
        msg_id,
        seq_no,
        body,
        &mut rng,
        &mut out,
    )
    .expect("encrypt");
    BytesMut::from(&out[..])
}

fn container(messages: &[(i64, i32, Vec<u8>)]) -> Vec<u8> {
    MsgContainer {
        messages: messages
            .iter()
            .map(|(msg_id, seqno, body)| Message {
                msg_id: *msg_id,
                seqno: *seqno,
                body: Bytes::from(body.clone()),
            })
            .collect(),
    }
    .to_bytes()
}

fn gzip(body: &[u8]) -> Vec<u8> {
    GzipPacked::pack(body).to_bytes()
}

/// A body of `len` bytes of one unknown constructor (an "update" to the client, a request to
/// the server): compresses to almost nothing.
fn blob(len: usize) -> Vec<u8> {
    let mut b = vec![0u8; len];
    b[..4].copy_from_slice(&0x0bad_f00du32.to_le_bytes());
    b
}

/// A client with one request in flight: its msg_id and the session.
fn client() -> (ClientSession, i64) {
    let mut c = ClientSession::new(
        ClientSessionConfig {
            auth_key: key(),
            session_id: SESSION_ID,
            server_salt: SALT,
            time_offset: 0,
        },
        Box::new(StdRng::seed_from_u64(1)),
    );
    let _ = c.request(functions::help::GetConfig {}.to_bytes());
    let sent = sent_by_client(&mut c, now());
    assert_eq!(sent.len(), 1);
    (c, sent[0].msg_id)
}

/// Everything the client sends at `at`, decrypted.
fn sent_by_client(c: &mut ClientSession, at: Duration) -> Vec<wire::Decrypted> {
    let mut out = Vec::new();
    let mut sent = Vec::new();
    while c.poll_transmit(at, &mut out) {
        sent.push(wire::decrypt(&key(), Side::Client, BytesMut::from(&out[..])).unwrap());
    }
    sent
}

fn events(c: &mut ClientSession) -> Vec<Event> {
    std::iter::from_fn(|| c.poll_event()).collect()
}

fn to_client(
    c: &mut ClientSession,
    msg_id: i64,
    seq_no: i32,
    body: &[u8],
) -> Result<(), SessionError> {
    c.handle_input(
        packet(Side::Server, SESSION_ID, msg_id, seq_no, body),
        now(),
    )
}

fn rpc_result(req_msg_id: i64, result: Vec<u8>) -> Vec<u8> {
    RpcResult {
        req_msg_id,
        result: Bytes::from(result),
    }
    .to_bytes()
}

// ---- the client ----

#[test]
fn client_takes_a_gzipped_one_mebibyte_file_part() {
    let (mut c, req) = client();
    let part = types::upload::File {
        r#type: types::storage::FilePartial {}.into(),
        mtime: 0,
        bytes: Bytes::from(vec![7u8; 1 << 20]),
    }
    .to_bytes();
    let body = rpc_result(req, gzip(&part));
    to_client(&mut c, msg_id(0, 1, 1), 1, &body).unwrap();
    match &events(&mut c)[..] {
        [Event::RpcResult { body, .. }] => assert_eq!(body[..], part[..]),
        other => panic!("{other:?}"),
    }
}

#[test]
fn client_refuses_a_packet_of_gzip_bombs() {
    let (mut c, _) = client();
    // Each inflates to 1 MiB (fine alone); eight of them in one packet are not.
    let bomb = gzip(&blob(1 << 20));
    let messages: Vec<_> = (0..8)
        .map(|i| (msg_id(0, i + 1, 1), 1 + 2 * i as i32, bomb.clone()))
        .collect();
    let body = container(&messages);
    assert!(body.len() < 64 << 10, "{} bytes on the wire", body.len());
    let got = to_client(&mut c, msg_id(0, 100, 1), 2, &body);
    assert_eq!(
        got,
        Err(SessionError::InflateBudget {
            limit: MAX_INFLATED
        })
    );
    assert!(events(&mut c).len() < 8, "not every bomb was inflated");
}

#[test]
fn client_counts_inflated_bytes_it_still_holds_against_the_budget() {
    let (mut c, _) = client();
    let three = gzip(&blob(3 << 20));
    to_client(&mut c, msg_id(0, 1, 3), 1, &three).unwrap();
    // The 3 MiB update is not polled yet: another 2 MiB would pass the budget.
    let two = gzip(&blob(2 << 20));
    assert_eq!(
        to_client(&mut c, msg_id(0, 2, 3), 3, &two),
        Err(SessionError::InflateBudget {
            limit: MAX_INFLATED
        })
    );
    assert_eq!(events(&mut c).len(), 1);
    to_client(&mut c, msg_id(0, 3, 3), 5, &two).unwrap();
    assert_eq!(events(&mut c).len(), 1);
}

#[test]
fn client_refuses_gzip_inside_gzip() {
    let (mut c, req) = client();
    let inner = rpc_result(req, true.to_bytes());
    let got = to_client(&mut c, msg_id(0, 1, 1), 1, &gzip(&gzip(&inner)));
    assert!(matches!(got, Err(SessionError::BadContainer(_))), "{got:?}");
    assert_eq!(events(&mut c), []);
}

#[test]
fn client_refuses_a_container_inside_a_container() {
    let (mut c, req) = client();
    let answer = rpc_result(req, true.to_bytes());
    let inner = container(&[(msg_id(0, 1, 1), 1, answer)]);
    let outer = container(&[(msg_id(0, 2, 1), 2, inner)]);
    let got = to_client(&mut c, msg_id(0, 3, 1), 4, &outer);
    assert!(matches!(got, Err(SessionError::BadContainer(_))), "{got:?}");
    assert_eq!(events(&mut c), []);
}

/// A container the client must refuse whole: nothing in it is acted on.
fn client_refuses_container(inner_msg_id: i64, why: &str) {
    let (mut c, req) = client();
    let answer = rpc_result(req, true.to_bytes());
    let salt = types::BadServerSalt {
        bad_msg_id: req,
        bad_msg_seqno: 1,
        error_code: 48,
        new_server_salt: 0x0bad_5a17,
    }
    .to_bytes();
    let body = container(&[(msg_id(0, 1, 1), 1, answer), (inner_msg_id, 3, salt)]);
    let got = to_client(&mut c, msg_id(0, 9, 1), 4, &body);
    assert!(
        matches!(got, Err(SessionError::BadContainer(_))),
        "{why}: {got:?}"
    );
    assert_eq!(events(&mut c), [], "{why}");
    assert_eq!(c.server_salt(), SALT, "{why}: the salt changed");
}

#[test]
fn client_refuses_a_container_with_an_inner_msg_id_not_below_its_own() {
    client_refuses_container(msg_id(0, 9, 1), "equal");
    client_refuses_container(msg_id(0, 10, 1), "above");
}

#[test]
fn client_refuses_a_container_with_an_inner_msg_id_of_client_parity() {
    client_refuses_container(msg_id(0, 2, 0), "even");
}

#[test]
fn client_refuses_a_container_with_an_inner_msg_id_outside_the_time_window() {
    client_refuses_container(msg_id(-301, 2, 1), "five minutes old");
    client_refuses_container(msg_id(-100_000, 2, 1), "a day old");
}

#[test]
fn client_refuses_bad_server_salt_with_an_out_of_window_msg_id() {
    let (mut c, req) = client();
    let salt = types::BadServerSalt {
        bad_msg_id: req,
        bad_msg_seqno: 1,
        error_code: 48,
        new_server_salt: 0x0bad_5a17,
    }
    .to_bytes();
    for skew in [-301, 31] {
        let got = to_client(&mut c, msg_id(skew, 1, 1), 2, &salt);
        assert!(
            matches!(got, Err(SessionError::Window(_))),
            "{skew}: {got:?}"
        );
        assert_eq!(c.server_salt(), SALT);
    }
    to_client(&mut c, msg_id(0, 1, 1), 2, &salt).unwrap();
    assert_eq!(c.server_salt(), 0x0bad_5a17, "in the window it is taken");
}

#[test]
fn client_refuses_an_answer_for_another_session() {
    let (mut c, req) = client();
    let answer = rpc_result(req, true.to_bytes());
    let got = c.handle_input(
        packet(Side::Server, !SESSION_ID, msg_id(0, 1, 1), 1, &answer),
        now(),
    );
    assert_eq!(
        got,
        Err(SessionError::WrongSession {
            got: !SESSION_ID,
            expected: SESSION_ID
        })
    );
    assert_eq!(events(&mut c), []);
    to_client(&mut c, msg_id(0, 2, 1), 1, &answer).unwrap();
    assert_eq!(
        events(&mut c).len(),
        1,
        "the right session's answer is taken"
    );
}

/// bad_msg_notification 17 from a server whose clock is ten minutes behind ours: the client
/// corrects its clock, and no msg_id of a session ever goes back (it starts a new session
/// rather than reuse lower ids).
#[test]
fn client_msg_ids_never_go_back_within_a_session_after_a_clock_correction() {
    let (mut c, req) = client();
    let notice = types::BadMsgNotification {
        bad_msg_id: req,
        bad_msg_seqno: 1,
        error_code: 17,
    }
    .to_bytes();
    let server_msg_id = msg_id(-600, 1, 1);
    c.handle_input(
        packet(Side::Server, SESSION_ID, server_msg_id, 2, &notice),
        now(),
    )
    .unwrap();
    assert_eq!(c.time_offset(), -600);
    let resent = sent_by_client(&mut c, now());
    assert!(!resent.is_empty());
    for d in &resent {
        if d.session_id == SESSION_ID {
            assert!(
                d.msg_id > req,
                "msg_id {:#x} after {req:#x} in one session",
                d.msg_id
            );
        }
    }
    // The request went again, in a session whose ids the server's clock accepts.
    let again = resent
        .iter()
        .find(|d| d.body[..4] == functions::help::GetConfig::CONSTRUCTOR_ID.to_le_bytes())
        .expect("the request is resent");
    assert_ne!(again.session_id, SESSION_ID);
    assert_eq!(again.msg_id >> 32, NOW as i64 - 600);
}

// ---- the server ----

fn server() -> ServerSession {
    ServerSession::new(
        ServerSessionConfig {
            auth_key: key(),
            salts: SaltSchedule::new(3600, 9),
        },
        Box::new(StdRng::seed_from_u64(2)),
    )
}

fn to_server(
    s: &mut ServerSession,
    msg_id: i64,
    seq_no: i32,
    body: &[u8],
) -> Result<(), SessionError> {
    let salt = SaltSchedule::new(3600, 9).at(NOW as i64).salt;
    let mut out = Vec::new();
    let mut rng = StdRng::seed_from_u64(3);
    wire::encrypt(
        &key(),
        Side::Client,
        salt,
        SESSION_ID,
        msg_id,
        seq_no,
        body,
        &mut rng,
        &mut out,
    )
    .unwrap();
    s.handle_input(BytesMut::from(&out[..]), now())
}

fn requests(s: &mut ServerSession) -> usize {
    std::iter::from_fn(|| s.poll_event())
        .filter(|e| matches!(e, Event::Request { .. }))
        .count()
}

/// The bad_msg_notification codes the server sends, with the msg_ids they name.
fn bad_msgs(s: &mut ServerSession) -> Vec<(i64, i32)> {
    let mut out = Vec::new();
    let mut found = Vec::new();
    while s.poll_transmit(now(), &mut out) {
        let d = wire::decrypt(&key(), Side::Server, BytesMut::from(&out[..])).unwrap();
        let bodies = match MsgContainer::from_bytes(d.body.clone()) {
            Ok(c) => c.messages.into_iter().map(|m| m.body).collect(),
            Err(_) => vec![d.body],
        };
        for b in bodies {
            if let Ok(n) = types::BadMsgNotification::from_bytes(b) {
                found.push((n.bad_msg_id, n.error_code));
            }
        }
    }
    found
}

fn client_msg_id(secs_from_now: i64, n: i64) -> i64 {
    msg_id(secs_from_now, n, 0)
}

/// A request body (unknown to the session, so handed to the driver).
fn request() -> Vec<u8> {
    functions::help::GetConfig {}.to_bytes()
}

/// A container the server must refuse whole, answering bad_msg_notification 64 about it.
fn server_refuses_container(messages: &[(i64, i32, Vec<u8>)], outer: i64, why: &str) {
    let mut s = server();
    let got = to_server(&mut s, outer, 4, &container(messages));
    assert!(
        matches!(got, Err(SessionError::BadContainer(_))),
        "{why}: {got:?}"
    );
    assert_eq!(
        requests(&mut s),
        0,
        "{why}: a message of a bad container was served"
    );
    assert_eq!(bad_msgs(&mut s), [(outer, 64)], "{why}");
}

#[test]
fn server_refuses_a_container_with_an_inner_msg_id_of_server_parity_whole() {
    let inner = [
        (client_msg_id(0, 1), 1, request()),
        (msg_id(0, 2, 1), 3, request()),
    ];
    server_refuses_container(&inner, client_msg_id(0, 3), "odd inner msg_id");
}

#[test]
fn server_refuses_a_container_with_an_inner_msg_id_outside_the_time_window() {
    let inner = [
        (client_msg_id(-301, 1), 1, request()),
        (client_msg_id(0, 2), 3, request()),
    ];
    server_refuses_container(&inner, client_msg_id(0, 3), "five minutes old");
}

#[test]
fn server_refuses_a_container_with_an_inner_msg_id_not_below_its_own() {
    let outer = client_msg_id(0, 3);
    let inner = [(client_msg_id(0, 1), 1, request()), (outer, 3, request())];
    server_refuses_container(&inner, outer, "equal to the container's");
}

#[test]
fn server_refuses_a_container_inside_a_container() {
    let mut s = server();
    let inner = container(&[(client_msg_id(0, 1), 1, request())]);
    let body = container(&[(client_msg_id(0, 2), 2, inner)]);
    let got = to_server(&mut s, client_msg_id(0, 3), 4, &body);
    assert!(matches!(got, Err(SessionError::BadContainer(_))), "{got:?}");
    assert_eq!(requests(&mut s), 0);
}

#[test]
fn server_refuses_a_packet_of_gzip_bombs_and_gzip_inside_gzip() {
    let mut s = server();
    let bomb = gzip(&blob(1 << 20));
    let messages: Vec<_> = (0..8)
        .map(|i| (client_msg_id(0, i + 1), 1 + 2 * i as i32, bomb.clone()))
        .collect();
    let got = to_server(&mut s, client_msg_id(0, 100), 16, &container(&messages));
    assert_eq!(
        got,
        Err(SessionError::InflateBudget {
            limit: MAX_INFLATED
        })
    );
    assert!(requests(&mut s) < 8);

    let got = to_server(&mut s, client_msg_id(0, 101), 17, &gzip(&gzip(&request())));
    assert!(matches!(got, Err(SessionError::BadContainer(_))), "{got:?}");
    assert_eq!(requests(&mut s), 0);

    // One 1 MiB upload.saveFilePart, gzipped, is served.
    let part = functions::upload::SaveFilePart {
        file_id: 1,
        file_part: 0,
        bytes: Bytes::from(vec![3u8; 1 << 20]),
    }
    .to_bytes();
    to_server(&mut s, client_msg_id(0, 102), 19, &gzip(&part)).unwrap();
    assert_eq!(requests(&mut s), 1);
}
