//! `tgmux local-dc --cdn` end to end over real sockets, driven by our own sans-IO client
//! machines (transport codec, auth-key exchange, client session) on blocking `TcpStream`s:
//!
//! - DC 1 announces the CDN DC in `help.getConfig` (id 201, `cdn` flag, port PORT + N) and its
//!   key in `help.getCdnConfig`;
//! - the CDN port accepts an auth-key exchange with that key, and refuses the main key (and
//!   DC 1 refuses the CDN key);
//! - a large document's `upload.getFile` with `cdn_supported` is redirected, and the CDN's
//!   `upload.getCdnFile` parts, decrypted with AES-256-CTR, are the file's bytes.

mod localdc_util;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use localdc_util::media_bytes;
use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};
use sha2::{Digest, Sha256};
use tgmux::crypto::RsaPublicKey;
use tgmux::dcconfig::DcConfig;
use tgmux::localdc::ids;
use tgmux::mtproto::auth::client::{self as auth, ClientConfig, DhGenOutcome};
use tgmux::mtproto::auth::{plain, AuthError, Finished};
use tgmux::mtproto::session::{ClientSession, ClientSessionConfig, Event};
use tgmux::mtproto::transport::{self, Codec, Frame, Kind};
use tgmux::tl::{enums, functions, types, Deserializable, RemoteCall, Serializable};

const BIG: usize = 1536 * 1024 + 12345;

/// One blocking connection: a client codec (intermediate framing) over a TcpStream.
struct Conn {
    stream: TcpStream,
    codec: Codec,
    rng: StdRng,
    msg_id: i64,
}

fn unix_now() -> Duration {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap()
}

impl Conn {
    fn connect(addr: SocketAddr, seed: u64) -> Conn {
        let stream = TcpStream::connect(addr).unwrap();
        // A guard against a hung server, not a timing assertion.
        stream
            .set_read_timeout(Some(Duration::from_secs(120)))
            .unwrap();
        let mut rng = StdRng::seed_from_u64(seed);
        let config = transport::ClientConfig {
            kind: Kind::Intermediate,
            obfuscation: None,
        };
        let codec = Codec::client(&config, &mut rng).unwrap();
        Conn {
            stream,
            codec,
            rng,
            msg_id: 0,
        }
    }

    fn send(&mut self, payload: &[u8]) {
        let mut out = Vec::new();
        self.codec.encode(payload, &mut self.rng, &mut out).unwrap();
        self.stream.write_all(&out).unwrap();
    }

    /// The next frame; `None` when the server closed the connection.
    fn recv(&mut self) -> Option<Frame> {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            if let Some(f) = self.codec.poll_frame().unwrap() {
                return Some(f);
            }
            match self.stream.read(&mut buf) {
                Ok(0) => return None,
                Ok(n) => self.codec.push(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return None,
                Err(e) => panic!("read: {e}"),
            }
        }
    }

    fn plain_call(&mut self, body: &[u8]) -> Option<Vec<u8>> {
        let t = (unix_now().as_secs() as i64) << 32;
        self.msg_id = t.max(self.msg_id + 4);
        self.send(&plain::encode(self.msg_id, body));
        match self.recv()? {
            Frame::Payload(p) => Some(plain::decode(&p).unwrap().body.to_vec()),
            other => panic!("plain answer expected, got {other:?}"),
        }
    }

    /// An auth-key exchange trusting only `key`. `Err` when the client machine refuses the
    /// server's answer (no fingerprint of ours in resPQ...); `Ok(None)` if the server hung up.
    fn auth_key(&mut self, key: &RsaPublicKey, dc: i32) -> Result<Option<Finished>, AuthError> {
        let config = ClientConfig {
            keys: vec![key.clone()],
            dc: Some(dc),
            temp_expires_in: None,
        };
        let (req, s) = auth::start(config, &mut self.rng);
        let Some(res) = self.plain_call(&req) else {
            return Ok(None);
        };
        let (req, s) = s.handle(&res, &mut self.rng)?;
        let Some(res) = self.plain_call(&req) else {
            return Ok(None);
        };
        let (req, s) = s.handle(&res, unix_now().as_secs() as i64, &mut self.rng)?;
        let Some(res) = self.plain_call(&req) else {
            return Ok(None);
        };
        match s.handle(&res, &mut self.rng)? {
            DhGenOutcome::Done(f) => Ok(Some(f)),
            DhGenOutcome::Retry(..) => panic!("dh_gen_retry from a fresh exchange"),
        }
    }
}

/// An encrypted session on a connection.
struct Session {
    conn: Conn,
    session: ClientSession,
}

impl Session {
    fn new(mut conn: Conn, key: &RsaPublicKey, dc: i32) -> Session {
        let f = conn
            .auth_key(key, dc)
            .expect("auth-key exchange")
            .expect("server hung up during the exchange");
        let session = ClientSession::new(
            ClientSessionConfig {
                auth_key: f.auth_key,
                session_id: conn.rng.next_u64() as i64,
                server_salt: f.server_salt,
                time_offset: f.time_offset,
            },
            Box::new(StdRng::seed_from_u64(conn.rng.next_u64())),
        );
        Session { conn, session }
    }

    fn raw(&mut self, body: Vec<u8>) -> Result<Bytes, (i32, String)> {
        let id = self.session.request(body);
        let mut packet = Vec::new();
        for _ in 0..100 {
            while self.session.poll_transmit(unix_now(), &mut packet) {
                let p = std::mem::take(&mut packet);
                self.conn.send(&p);
            }
            match self.conn.recv().expect("server closed the session") {
                Frame::Payload(p) => self.session.handle_input(p, unix_now()).unwrap(),
                Frame::TransportError(code) => panic!("transport error {code}"),
                Frame::QuickAck(_) => {}
            }
            while let Some(ev) = self.session.poll_event() {
                match ev {
                    Event::RpcResult { request, body } if request == id => return Ok(body),
                    Event::RpcError {
                        request,
                        code,
                        message,
                        ..
                    } if request == id => return Err((code, message)),
                    _ => {}
                }
            }
        }
        panic!("no answer after 100 packets");
    }

    fn call<F: RemoteCall>(&mut self, f: &F) -> Result<F::Return, (i32, String)> {
        self.raw(f.to_bytes())
            .map(|b| F::Return::from_bytes(b).expect("answer decodes"))
    }
}

fn init<F: Serializable>(query: F) -> Vec<u8> {
    functions::InvokeWithLayer {
        layer: 227,
        query: functions::InitConnection {
            api_id: 1,
            device_model: "test".into(),
            system_version: "test".into(),
            app_version: "test".into(),
            system_lang_code: "en".into(),
            lang_pack: String::new(),
            lang_code: "en".into(),
            proxy: None,
            params: None,
            query,
        },
    }
    .to_bytes()
}

/// AES-256-CTR with the CDN IV (last 4 bytes = offset / 16, big-endian), straight from the
/// `aes` and `ctr` crates.
fn cdn_decrypt(key: &[u8], iv: &[u8], offset: i64, data: &[u8]) -> Vec<u8> {
    use aes::cipher::{KeyIvInit, StreamCipher};
    let mut counter = [0u8; 16];
    counter[..12].copy_from_slice(&iv[..12]);
    counter[12..].copy_from_slice(&((offset / 16) as u32).to_be_bytes());
    let mut c = ctr::Ctr128BE::<aes::Aes256>::new_from_slices(key, &counter).unwrap();
    let mut out = data.to_vec();
    c.apply_keystream(&mut out);
    out
}

#[test]
fn cdn_dc_has_its_own_key_and_serves_encrypted_parts() {
    let data = media_bytes(BIG, 0x9e37_79b9_7f4a_7c15);
    let dc = localdc_util::start_with_files(
        "localdc-cdn",
        2,
        &["--cdn"],
        &[("1.mp4", &data), ("2.txt", b"small")],
    );
    let (config, port) = (&dc.config, dc.port);
    let cfg = DcConfig::read(config).unwrap();
    // The config file lists the regular DCs only.
    assert_eq!(
        cfg.dcs.iter().map(|d| (d.id, d.port)).collect::<Vec<_>>(),
        vec![(1, port), (2, port + 1)]
    );
    let main_key = RsaPublicKey::from_pkcs1_pem(&cfg.rsa_public_keys[0]).unwrap();
    let dc1: SocketAddr = cfg.dcs[0].addr();

    // DC 1 announces the CDN DC and its key.
    let mut home = Session::new(Conn::connect(dc1, 1), &main_key, 1);
    let enums::Config::Config(c) = enums::Config::from_bytes(
        home.raw(init(functions::help::GetConfig {}))
            .expect("getConfig"),
    )
    .unwrap();
    let cdn_opts: Vec<_> = c
        .dc_options
        .iter()
        .map(|enums::DcOption::DcOption(o)| o)
        .filter(|o| o.cdn)
        .map(|o| (o.id, o.ip_address.clone(), o.port))
        .collect();
    assert_eq!(
        cdn_opts,
        vec![(201, "127.0.0.1".to_string(), i32::from(port) + 2)]
    );
    let enums::CdnConfig::CdnConfig(cc) = home.call(&functions::help::GetCdnConfig {}).unwrap();
    let [enums::CdnPublicKey::CdnPublicKey(pk)] = &cc.public_keys[..] else {
        panic!("one CDN key expected: {cc:?}")
    };
    assert_eq!(pk.dc_id, 201);
    let cdn_key = RsaPublicKey::from_pkcs1_pem(&pk.public_key).unwrap();
    assert_ne!(pk.public_key, cfg.rsa_public_keys[0], "a key of its own");
    let cdn_addr = SocketAddr::from(([127, 0, 0, 1], port + 2));

    // Keys do not cross: the CDN refuses the main key, DC 1 the CDN key.
    // The CDN's resPQ lists the CDN key's fingerprint only, DC 1's the main key's only.
    match Conn::connect(cdn_addr, 2).auth_key(&main_key, 201) {
        Err(AuthError::UnknownFingerprints(fps)) => {
            assert_eq!(fps, vec![cdn_key.fingerprint() as i64])
        }
        other => panic!("the CDN must refuse the main key: {other:?}"),
    }
    match Conn::connect(dc1, 3).auth_key(&cdn_key, 1) {
        Err(AuthError::UnknownFingerprints(fps)) => {
            assert_eq!(fps, vec![main_key.fingerprint() as i64])
        }
        other => panic!("DC 1 must refuse the CDN key: {other:?}"),
    }

    // A CDN session with the CDN key; no login there.
    let mut cdn = Session::new(Conn::connect(cdn_addr, 4), &cdn_key, 201);
    assert_eq!(
        cdn.raw(init(functions::help::GetConfig {})).unwrap_err(),
        (400, "CDN_METHOD_INVALID".to_string())
    );

    // Redirect and download through the CDN.
    home.call(&functions::auth::ImportBotAuthorization {
        flags: 0,
        api_id: 1,
        api_hash: "x".into(),
        bot_auth_token: "123:abc".into(),
    })
    .unwrap();
    let got = home
        .call(&functions::channels::GetMessages {
            channel: enums::InputChannel::InputChannel(types::InputChannel {
                channel_id: ids::channel_id("chan"),
                access_hash: ids::channel_access_hash("chan"),
            }),
            id: vec![enums::InputMessage::InputMessageId(types::InputMessageId {
                id: 1,
            })],
        })
        .unwrap();
    let enums::messages::Messages::ChannelMessages(m) = got else {
        panic!("channelMessages expected")
    };
    let enums::Message::Message(msg) = &m.messages[0] else {
        panic!("message 1 expected")
    };
    let Some(enums::MessageMedia::MessageMediaDocument(md)) = &msg.media else {
        panic!("a document expected")
    };
    let Some(enums::Document::Document(doc)) = &md.document else {
        panic!("a document expected")
    };
    assert_eq!((doc.dc_id, doc.size), (1, BIG as i64));
    let r = home
        .call(&functions::upload::GetFile {
            precise: false,
            cdn_supported: true,
            location: enums::InputFileLocation::InputDocumentFileLocation(
                types::InputDocumentFileLocation {
                    id: doc.id,
                    access_hash: doc.access_hash,
                    file_reference: doc.file_reference.clone(),
                    thumb_size: String::new(),
                },
            ),
            offset: 0,
            limit: 1 << 20,
        })
        .unwrap();
    let enums::upload::File::FileCdnRedirect(r) = r else {
        panic!("a CDN redirect expected, got {r:?}")
    };
    assert_eq!(r.dc_id, 201);
    let mut plain = Vec::new();
    for offset in [0i64, 1 << 20] {
        let part = cdn
            .call(&functions::upload::GetCdnFile {
                file_token: r.file_token.clone(),
                offset,
                limit: 1 << 20,
            })
            .unwrap();
        let enums::upload::CdnFile::CdnFile(part) = part else {
            panic!("cdnFile expected, got {part:?}")
        };
        plain.extend(cdn_decrypt(
            &r.encryption_key,
            &r.encryption_iv,
            offset,
            &part.bytes,
        ));
    }
    assert!(plain == data, "decrypted CDN parts differ from the file");
    let hashes = home
        .call(&functions::upload::GetCdnFileHashes {
            file_token: r.file_token.clone(),
            offset: 0,
        })
        .unwrap();
    let enums::FileHash::FileHash(h0) = &hashes[0];
    assert_eq!(&h0.hash[..], &Sha256::digest(&data[..128 * 1024])[..]);
}
