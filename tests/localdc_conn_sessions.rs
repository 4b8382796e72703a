//! A local-dc connection driven in memory by our client session: a client that starts a new
//! session on the same connection (a new session_id) is served from scratch, and so is the
//! first session when it comes back; under `stall=1` a file request is never answered while
//! the connection stays open and answers the next request.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rand::rngs::StdRng;
use rand::SeedableRng;

use tgmux::crypto::AuthKey;
use tgmux::localdc::{Connection, DcAddress, FaultSpec, KeyStore, Library, Shared, World};
use tgmux::mtproto::auth::server::ServerConfig as AuthConfig;
use tgmux::mtproto::session::{ClientSession, ClientSessionConfig, Event, SaltSchedule};
use tgmux::mtproto::transport::{ClientConfig, Codec, Frame};
use tgmux::tl::{enums, functions, types, Deserializable, Serializable};

/// One DC-1 connection of a world over `chan/1.txt`, with a known auth key.
struct Rig {
    dir: PathBuf,
    conn: Connection,
    codec: Codec,
    rng: StdRng,
    key: AuthKey,
    salts: SaltSchedule,
    now: SystemTime,
}

impl Drop for Rig {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Rig {
    fn new(name: &str, faults: &str) -> Rig {
        let dir = std::env::temp_dir().join(format!("tgmux-conn-{name}-{}", std::process::id()));
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
            FaultSpec::parse(faults).unwrap(),
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
        let mut rng = StdRng::seed_from_u64(3);
        let codec = Codec::client(
            &ClientConfig::named("intermediate", 1, None).unwrap(),
            &mut rng,
        )
        .unwrap();
        Rig {
            dir,
            conn: Connection::new(shared, 1, 1),
            codec,
            rng,
            key,
            salts,
            now: SystemTime::now(),
        }
    }

    fn unix(&self) -> Duration {
        self.now.duration_since(UNIX_EPOCH).unwrap()
    }

    /// A client session `id` on the rig's key.
    fn session(&self, id: i64) -> ClientSession {
        ClientSession::new(
            ClientSessionConfig {
                auth_key: self.key.clone(),
                session_id: id,
                server_salt: self.salts.at(self.unix().as_secs() as i64).salt,
                time_offset: 0,
            },
            Box::new(StdRng::seed_from_u64(id as u64)),
        )
    }

    /// Sends `body` from `client` through the connection at `at` after the start; returns the
    /// answers the client received (result bodies, or rpc_error codes), the connection still
    /// open.
    fn call(
        &mut self,
        client: &mut ClientSession,
        body: Vec<u8>,
        at: Duration,
    ) -> Vec<Result<bytes::Bytes, i32>> {
        let unix = self.unix() + at;
        let _ = client.request(body);
        let (mut wire, mut packet, mut answer) = (Vec::new(), Vec::new(), Vec::new());
        while {
            packet.clear();
            client.poll_transmit(unix, &mut packet)
        } {
            self.codec
                .encode(&packet, &mut self.rng, &mut wire)
                .unwrap();
        }
        let flow = self
            .conn
            .on_bytes(&wire, self.now + at, &mut self.rng, &mut answer)
            .unwrap();
        assert_eq!(flow, tgmux::localdc::Flow::Continue, "connection closed");
        self.codec.push(&answer);
        let mut results = Vec::new();
        while let Some(Frame::Payload(p)) = self.codec.poll_frame().unwrap() {
            client.handle_input(p, unix).unwrap();
            while let Some(ev) = client.poll_event() {
                match ev {
                    Event::RpcResult { body, .. } => results.push(Ok(body)),
                    Event::RpcError { code, .. } => results.push(Err(code)),
                    _ => {}
                }
            }
        }
        results
    }

    /// `help.getConfig` through the connection: the DC that answered.
    fn this_dc(&mut self, client: &mut ClientSession, at: Duration) -> Option<i32> {
        let results = self.call(client, functions::help::GetConfig {}.to_bytes(), at);
        results.into_iter().next().map(|body| {
            let enums::Config::Config(c) = enums::Config::from_bytes(body.unwrap()).unwrap();
            c.this_dc
        })
    }
}

#[test]
fn a_new_session_on_the_same_connection_is_served_from_scratch() {
    let mut rig = Rig::new("sessions", "");
    let (mut first, mut second) = (rig.session(0x1111), rig.session(0x2222));
    assert_eq!(rig.this_dc(&mut first, Duration::ZERO), Some(1));
    assert_eq!(
        rig.this_dc(&mut second, Duration::from_millis(10)),
        Some(1),
        "new session"
    );
    assert_eq!(rig.this_dc(&mut second, Duration::from_millis(20)), Some(1));
    assert_eq!(
        rig.this_dc(&mut first, Duration::from_millis(30)),
        Some(1),
        "back to the first"
    );
}

#[test]
fn a_stalled_file_request_gets_no_answer_and_the_connection_goes_on() {
    let mut rig = Rig::new("stall", "stall=1");
    let mut client = rig.session(0x3333);
    let get_file = functions::upload::GetFile {
        precise: false,
        cdn_supported: false,
        location: types::InputDocumentFileLocation {
            id: 1,
            access_hash: 2,
            file_reference: Default::default(),
            thumb_size: String::new(),
        }
        .into(),
        offset: 0,
        limit: 4096,
    };
    assert_eq!(
        rig.call(&mut client, get_file.to_bytes(), Duration::ZERO),
        [],
        "neither a result nor an error"
    );
    assert_eq!(rig.this_dc(&mut client, Duration::from_millis(10)), Some(1));
}
