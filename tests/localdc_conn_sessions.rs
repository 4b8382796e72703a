//! A local-dc connection serving two sessions of one auth key in turn: a client that starts a
//! new session on the same connection (a new session_id) is served from scratch, and so is the
//! first session when it comes back.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rand::rngs::StdRng;
use rand::SeedableRng;

use tgmux::crypto::AuthKey;
use tgmux::localdc::{Connection, DcAddress, FaultSpec, KeyStore, Library, Shared, World};
use tgmux::mtproto::auth::server::ServerConfig as AuthConfig;
use tgmux::mtproto::session::{ClientSession, ClientSessionConfig, Event, SaltSchedule};
use tgmux::mtproto::transport::{ClientConfig, Codec, Frame};
use tgmux::tl::{enums, functions, Deserializable, Serializable};

#[test]
fn a_new_session_on_the_same_connection_is_served_from_scratch() {
    let dir = std::env::temp_dir().join(format!("tgmux-conn-sessions-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("chan")).unwrap();
    std::fs::write(dir.join("chan/1.txt"), b"x").unwrap();
    let dcs = vec![DcAddress {
        id: 1,
        ip: "127.0.0.1".into(),
        port: 1,
        cdn: false,
        media_only: false,
    }];
    let world = Arc::new(World::new(
        Library::scan(&dir, 1).unwrap(),
        dcs,
        FaultSpec::default(),
    ));
    let key = AuthKey::from_bytes([9u8; 256]);
    let salts = SaltSchedule::new(3600, 9);
    let shared = Arc::new(Shared {
        world,
        auth: Arc::new(AuthConfig { keys: Vec::new() }),
        cdn_auth: None,
        keys: KeyStore::default(),
        salts: salts.clone(),
        seed: 0,
        proxy_secret: None,
    });
    shared.keys.insert(1, key.clone());
    let mut conn = Connection::new(shared, 1, 1);
    let mut rng = StdRng::seed_from_u64(3);
    let mut codec = Codec::client(
        &ClientConfig::named("intermediate", 1, None).unwrap(),
        &mut rng,
    )
    .unwrap();
    let now = SystemTime::now();
    let unix = now.duration_since(UNIX_EPOCH).unwrap();
    let session = |id: i64| {
        ClientSession::new(
            ClientSessionConfig {
                auth_key: key.clone(),
                session_id: id,
                server_salt: salts.at(unix.as_secs() as i64).salt,
                time_offset: 0,
            },
            Box::new(StdRng::seed_from_u64(id as u64)),
        )
    };
    // One help.getConfig through the connection; returns the events the client saw.
    let mut call = |client: &mut ClientSession, at: Duration| {
        let _ = client.request(functions::help::GetConfig {}.to_bytes());
        let (mut wire, mut packet, mut answer) = (Vec::new(), Vec::new(), Vec::new());
        while {
            packet.clear();
            client.poll_transmit(unix + at, &mut packet)
        } {
            codec.encode(&packet, &mut rng, &mut wire).unwrap();
        }
        conn.on_bytes(&wire, now + at, &mut rng, &mut answer)
            .unwrap();
        codec.push(&answer);
        let mut dc = None;
        while let Some(Frame::Payload(p)) = codec.poll_frame().unwrap() {
            client.handle_input(p, unix + at).unwrap();
            while let Some(ev) = client.poll_event() {
                if let Event::RpcResult { body, .. } = ev {
                    let enums::Config::Config(c) = enums::Config::from_bytes(body).unwrap();
                    dc = Some(c.this_dc);
                }
            }
        }
        dc
    };
    let (mut first, mut second) = (session(0x1111), session(0x2222));
    assert_eq!(call(&mut first, Duration::ZERO), Some(1));
    assert_eq!(
        call(&mut second, Duration::from_millis(10)),
        Some(1),
        "new session"
    );
    assert_eq!(call(&mut second, Duration::from_millis(20)), Some(1));
    assert_eq!(
        call(&mut first, Duration::from_millis(30)),
        Some(1),
        "back to the first"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
