//! Our client session and our server session meet in memory on a virtual clock (`Pair`):
//! handshake, RPC round trips, containers, gzip, salt change, time skew correction, resend,
//! replay and forgery rejection.

mod mtproto_util;

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use mtproto_util::pair::{handshake, Answer, Dir, Fate, Pair, T0};
use tgmux::mtproto::session::{Event, RequestId, RpcErrorKind};

/// A request body: an unknown constructor id (so the server hands it to the handler) and data.
fn req(tag: u32, len: usize) -> Vec<u8> {
    let mut v = 0x1234_5678u32.to_le_bytes().to_vec();
    v.extend_from_slice(&tag.to_le_bytes());
    v.extend((0..len).map(|i| (i as u32).wrapping_mul(tag) as u8));
    while v.len() % 4 != 0 {
        v.push(0);
    }
    v
}

fn results(events: &[Event]) -> Vec<(RequestId, Bytes)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::RpcResult { request, body } => Some((*request, body.clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn handshake_keys_agree_for_every_inner_data_kind() {
    for (i, (dc, temp)) in [
        (None, None),
        (Some(2), None),
        (None, Some(3600)),
        (Some(-10002), Some(60)),
    ]
    .into_iter()
    .enumerate()
    {
        let (c, s) = handshake(100 + i as u64, T0, dc, temp);
        assert_eq!(c.auth_key, s.auth_key);
        assert_eq!(c.server_salt, s.server_salt);
        assert_eq!(c.time_offset, 0);
        assert_eq!(c.temp_expires_in, temp);
        assert_eq!(s.request.dc, dc);
        assert_eq!(s.request.temp_expires_in, temp);
        assert!(!s.request.old_rsa);
    }
}

#[test]
fn rpc_round_trip_and_session_created() {
    let mut p = Pair::new(1);
    let body = req(1, 100);
    let id = p.client.request(body.clone());
    p.drive();
    let events = p.take_events();
    assert!(
        matches!(events[0], Event::SessionReset { .. }),
        "{events:?}"
    );
    assert_eq!(results(&events), vec![(id, Bytes::from(body))]);
    assert_eq!(p.client.pending_requests(), 0);
    assert_eq!(p.server_refused + p.client_refused, 0);
    // a second request in the same session: no new SessionReset
    let id2 = p.client.request(req(2, 8));
    p.drive();
    let events = p.take_events();
    assert_eq!(results(&events).len(), 1);
    assert_eq!(results(&events)[0].0, id2);
    assert!(!events
        .iter()
        .any(|e| matches!(e, Event::SessionReset { .. })));
}

#[test]
fn many_requests_share_containers() {
    let mut p = Pair::new(2);
    let ids: Vec<RequestId> = (0..50).map(|i| p.client.request(req(i, 40))).collect();
    p.drive();
    let got = results(&p.take_events());
    assert_eq!(got.len(), 50);
    for (id, body) in got {
        let i = ids.iter().position(|x| *x == id).unwrap();
        assert_eq!(body, Bytes::from(req(i as u32, 40)));
    }
    assert_eq!(p.requests_seen_by_server, 50);
    // 50 requests went out in one packet (a container), and answers came back packed too.
    assert_eq!(p.sent_to_server, 1 + 1, "one container, then acks");
    assert!(p.sent_to_client <= 3, "{}", p.sent_to_client);
}

#[test]
fn gzip_packed_results_are_unpacked() {
    let mut p = Pair::new(3);
    let big: Vec<u8> = (0..200_000).map(|i| (i % 7) as u8).collect();
    let answer = Bytes::from(big.clone());
    p.handler = Box::new(move |_| Answer::Ok(answer.clone()));
    let id = p.client.request(req(1, 4));
    p.drive();
    let got = results(&p.take_events());
    assert_eq!(got, vec![(id, Bytes::from(big))]);
}

#[test]
fn one_mebibyte_answer() {
    let mut p = Pair::new(4);
    let part: Vec<u8> = (0..1 << 20)
        .map(|i| (i as u32).wrapping_mul(2654435761) as u8)
        .collect();
    let answer = Bytes::from(part.clone());
    p.handler = Box::new(move |_| Answer::Ok(answer.clone()));
    let id = p.client.request(req(9, 4));
    p.drive();
    assert_eq!(results(&p.take_events()), vec![(id, Bytes::from(part))]);
}

/// A download's 1 MiB answers are not all kept for resends: memory per session stays bounded.
#[test]
fn remembered_answers_are_bounded_by_size() {
    let mut p = Pair::new(41);
    // Incompressible, so gzip_packed does not shrink it.
    let mut part = vec![0u8; 1 << 20];
    rand::RngCore::fill_bytes(
        &mut <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(7),
        &mut part,
    );
    let answer = Bytes::from(part);
    p.handler = Box::new(move |_| Answer::Ok(answer.clone()));
    for i in 0..12 {
        let id = p.client.request(req(100 + i, 4));
        p.drive();
        let got = results(&p.take_events());
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].0, id);
        assert_eq!(got[0].1.len(), 1 << 20);
    }
    let kept = p.server.remembered_answer_bytes();
    assert!(kept >= 1 << 20, "the newest answer is kept ({kept} bytes)");
    assert!(
        kept <= tgmux::mtproto::session::server::ANSWER_CACHE_BYTES,
        "{kept} bytes kept"
    );
}

#[test]
fn rpc_errors_are_typed() {
    let mut p = Pair::new(5);
    p.handler = Box::new(|b| {
        if b[4] == 1 {
            Answer::Err(420, "FLOOD_WAIT_7")
        } else {
            Answer::Err(303, "FILE_MIGRATE_4")
        }
    });
    let a = p.client.request(req(1, 4));
    let b = p.client.request(req(2, 4));
    p.drive();
    let errors: Vec<_> = p
        .take_events()
        .into_iter()
        .filter_map(|e| match e {
            Event::RpcError {
                request,
                code,
                message,
                parsed,
            } => Some((request, code, message, parsed)),
            _ => None,
        })
        .collect();
    assert!(errors.contains(&(
        a,
        420,
        "FLOOD_WAIT_7".into(),
        RpcErrorKind::FloodWait { seconds: 7 }
    )));
    assert!(errors.contains(&(
        b,
        303,
        "FILE_MIGRATE_4".into(),
        RpcErrorKind::FileMigrate { dc: 4 }
    )));
}

#[test]
fn salt_change_is_followed() {
    let mut p = Pair::new(6);
    let _ = p.client.request(req(1, 4));
    p.drive();
    let old_salt = p.client.server_salt();
    p.take_events();
    // Two hours later the salt of the first hour is past its grace period.
    p.advance(Duration::from_secs(2 * 3600));
    let id = p.client.request(req(2, 4));
    p.drive();
    let got = results(&p.take_events());
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0, id);
    assert_ne!(p.client.server_salt(), old_salt);
    assert_eq!(
        p.requests_seen_by_server, 2,
        "the bad-salt message was not handed to the handler"
    );
}

#[test]
fn future_salts_fill_the_salt_book() {
    let mut p = Pair::new(7);
    p.client.request_future_salts(4);
    p.drive();
    assert_eq!(p.client.salt_book().future().len(), 4);
    // the client switches by itself when the current salt expires
    p.advance(Duration::from_secs(3600 * 2));
    let id = p.client.request(req(1, 4));
    let before = p.sent_to_server;
    p.drive();
    assert_eq!(results(&p.take_events())[0].0, id);
    assert_eq!(
        p.sent_to_server - before,
        1,
        "no bad_server_salt round trip"
    );
}

fn skewed(skew: i64, seed: u64) {
    let mut p = Pair::new(seed);
    p.client_skew = skew;
    let id = p.client.request(req(1, 4));
    p.drive();
    let got = results(&p.take_events());
    assert_eq!(got.len(), 1, "skew {skew}");
    assert_eq!(got[0].0, id);
    assert!(
        (i64::from(p.client.time_offset()) + skew).abs() <= 1,
        "offset {} for skew {skew}",
        p.client.time_offset()
    );
    assert_eq!(p.requests_seen_by_server, 1);
}

#[test]
fn client_clock_five_minutes_behind_is_corrected() {
    skewed(-305, 8);
}

#[test]
fn client_clock_five_minutes_ahead_is_corrected() {
    skewed(305, 9);
}

#[test]
fn lost_answer_is_resent_after_reconnect_and_seen_once() {
    let mut p = Pair::new(10);
    let mut dropped = 0;
    p.hook = Box::new(move |dir, _| {
        if dir == Dir::ToClient && dropped < 10 {
            dropped += 1;
            Fate::Drop
        } else {
            Fate::Deliver
        }
    });
    let id = p.client.request(req(1, 4));
    p.drive();
    assert!(results(&p.take_events()).is_empty());
    assert_eq!(p.client.pending_requests(), 1);
    p.hook = Box::new(|_, _| Fate::Deliver);
    p.client.resend_unanswered();
    p.drive();
    let got = results(&p.take_events());
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0, id);
    assert_eq!(p.client.pending_requests(), 0);
}

#[test]
fn replayed_packets_are_refused_both_ways() {
    let mut p = Pair::new(11);
    p.hook = Box::new(|_, _| Fate::Duplicate);
    let id = p.client.request(req(1, 4));
    p.drive();
    let got = results(&p.take_events());
    assert_eq!(got, vec![(id, Bytes::from(req(1, 4)))]);
    assert_eq!(
        p.requests_seen_by_server, 1,
        "the replayed request reached the handler"
    );
    assert!(p.server_refused >= 1);
    assert!(p.client_refused >= 1);
}

#[test]
fn forged_packets_are_refused() {
    for (what, pos) in [
        ("auth_key_id", 0usize),
        ("msg_key", 10),
        ("ciphertext", 40),
        ("last byte", usize::MAX),
    ] {
        let mut p = Pair::new(12);
        let mut forged = 0;
        p.hook = Box::new(move |_, pkt| {
            if forged < 1 {
                forged += 1;
                let i = pos.min(pkt.len() - 1);
                pkt[i] ^= 0x40;
            }
            Fate::Deliver
        });
        let _ = p.client.request(req(1, 4));
        p.drive();
        assert_eq!(p.requests_seen_by_server, 0, "{what}");
        assert!(p.server_refused >= 1, "{what}");
        // the session still works for the next, untouched, packets
        p.client.resend_unanswered();
        p.drive();
        assert_eq!(results(&p.take_events()).len(), 1, "{what}");
    }
}

#[test]
fn truncated_and_garbage_packets_are_errors_not_panics() {
    let mut p = Pair::new(13);
    let _ = p.client.request(req(1, 4));
    let mut buf = Vec::new();
    assert!(p.client.poll_transmit(p.client_now(), &mut buf));
    for cut in [0, 1, 8, 23, 24, 39, 40, buf.len() - 1] {
        assert!(
            p.server
                .handle_input(BytesMut::from(&buf[..cut]), p.now)
                .is_err(),
            "cut {cut}"
        );
    }
    assert!(p
        .client
        .handle_input(BytesMut::from(&[0xff; 120][..]), p.now)
        .is_err());
    assert!(p
        .server
        .handle_input(BytesMut::from(&buf[..]), p.now)
        .is_ok());
}

#[test]
fn ping_pong_and_ping_delay_disconnect() {
    let mut p = Pair::new(14);
    p.client.ping(77);
    p.drive();
    assert!(p.take_events().contains(&Event::Pong { ping_id: 77 }));
    p.client.ping_delay_disconnect(78, 75);
    p.drive();
    assert!(p.take_events().contains(&Event::Pong { ping_id: 78 }));
    p.advance(Duration::from_secs(60));
    assert!(!p.server.is_closed());
    p.advance(Duration::from_secs(16));
    assert!(p.server.is_closed());
    assert_eq!(
        p.server.poll_event(),
        None,
        "Closed was drained by drive()? it must be reported once"
    );
}

#[test]
fn temporary_key_binding_verifies_and_rejects_mismatches() {
    use rand::SeedableRng;
    use tgmux::mtproto::auth::bind::{
        bind_temp_auth_key_request, verify_bind_temp_auth_key, Binding,
    };
    let (perm, _) = handshake(20, T0, Some(2), None);
    let (temp, temp_srv) = handshake(21, T0, Some(2), Some(86400));
    assert_eq!(temp_srv.request.temp_expires_in, Some(86400));
    let perm_key = perm.auth_key.clone();
    let lookup = |id: u64| (id == perm_key.id()).then(|| perm_key.clone());
    let (sid, msg_id, expires_at) = (
        0x1122_3344_5566_7788i64,
        ((T0 as i64) << 32) | 8,
        T0 as i32 + 86400,
    );
    let mut rng = rand::rngs::StdRng::seed_from_u64(1);
    let body = bind_temp_auth_key_request(
        &perm.auth_key,
        &temp.auth_key,
        sid,
        msg_id,
        expires_at,
        &mut rng,
    )
    .unwrap();
    assert_eq!(
        verify_bind_temp_auth_key(&body, temp.auth_key.id(), sid, msg_id, lookup),
        Ok(Binding {
            perm_auth_key_id: perm.auth_key.id() as i64,
            expires_at
        })
    );
    assert!(verify_bind_temp_auth_key(&body, temp.auth_key.id(), sid + 1, msg_id, lookup).is_err());
    assert!(verify_bind_temp_auth_key(&body, temp.auth_key.id(), sid, msg_id + 4, lookup).is_err());
    assert!(verify_bind_temp_auth_key(&body, perm.auth_key.id(), sid, msg_id, lookup).is_err());
    assert!(verify_bind_temp_auth_key(&body, temp.auth_key.id(), sid, msg_id, |_| None).is_err());
    // (the last 3 bytes are TL padding of encrypted_message, not covered by anything)
    for pos in [4, 12, 20, 30, 40, 60, body.len() - 4] {
        let mut bad = body.clone();
        bad[pos] ^= 0x10;
        assert!(
            verify_bind_temp_auth_key(&bad, temp.auth_key.id(), sid, msg_id, lookup).is_err(),
            "byte {pos}"
        );
    }
    assert!(verify_bind_temp_auth_key(
        &body[..body.len() - 4],
        temp.auth_key.id(),
        sid,
        msg_id,
        lookup
    )
    .is_err());
}
