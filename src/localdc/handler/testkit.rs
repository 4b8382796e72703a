//! Test fixtures for the API areas: a world over a small library (`chan/2.mp4`, 2 MiB + 5000
//! bytes on DC 2; `chan/3.mkv`, "three" on DC 3) and a client that calls it as one auth key.

use bytes::Bytes;

use crate::tl::{enums, functions, types, Deserializable, RemoteCall, Serializable};

use super::super::cdn;
use super::super::error::ApiError;
use super::super::faults::{FaultSpec, Faults};
use super::super::media::Library;
use super::super::objects::DcAddress;
use super::{Ctx, Reply, World};

pub(super) struct Fixture {
    pub(super) world: World,
    pub(super) dir: std::path::PathBuf,
    pub(super) data: Vec<u8>,
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

pub(super) fn fixture(name: &str, faults: &str) -> Fixture {
    fixture_with(name, faults, false)
}

/// A fixture with a CDN DC 201 (public key "CDN KEY PEM").
pub(super) fn cdn_fixture(name: &str, faults: &str) -> Fixture {
    fixture_with(name, faults, true)
}

fn fixture_with(name: &str, faults: &str, cdn: bool) -> Fixture {
    let data: Vec<u8> = (0..(2 * 1024 * 1024 + 5000u32))
        .map(|i| (i % 251) as u8)
        .collect();
    let (dir, mut world) = world_over(
        name,
        faults,
        &[("chan/2.mp4", &data), ("chan/3.mkv", b"three")],
    );
    if cdn {
        let dc = DcAddress {
            id: cdn::CDN_DC_ID,
            ip: "127.0.0.1".into(),
            port: 40004,
            cdn: true,
            media_only: false,
        };
        world = world.with_cdn(dc, "CDN KEY PEM".into());
    }
    Fixture { world, dir, data }
}

/// A world with three DCs (ports 40001..=40003) and `faults` over these files (path below
/// the media directory, contents).
pub(super) fn fixture_files(name: &str, faults: &str, files: &[(&str, &[u8])]) -> Fixture {
    let (dir, world) = world_over(name, faults, files);
    Fixture {
        world,
        dir,
        data: Vec::new(),
    }
}

fn world_over(name: &str, faults: &str, files: &[(&str, &[u8])]) -> (std::path::PathBuf, World) {
    let dir = std::env::temp_dir().join(format!("tgmux-handler-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    for (path, contents) in files {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, contents).unwrap();
    }
    let library = Library::scan(&dir, 3).unwrap();
    let dcs = (1..=3)
        .map(|id| DcAddress {
            id,
            ip: "127.0.0.1".into(),
            port: 40000 + id as u16,
            cdn: false,
            media_only: false,
        })
        .collect();
    (
        dir,
        World::new(library, dcs, FaultSpec::parse(faults).unwrap()),
    )
}

pub(super) struct Client<'w> {
    pub(super) world: &'w World,
    pub(super) dc: i32,
    pub(super) key: i64,
    pub(super) now: u64,
    pub(super) faults: Faults,
    pub(super) rng: rand::rngs::StdRng,
}

pub(super) fn client(world: &World, dc: i32, key: i64) -> Client<'_> {
    use rand::SeedableRng;
    Client {
        world,
        dc,
        key,
        now: 1_700_000_000,
        faults: Faults::new(world.faults.clone(), 1, dc, key as u64),
        rng: rand::rngs::StdRng::seed_from_u64(9),
    }
}

impl Client<'_> {
    pub(super) fn raw(&mut self, body: Vec<u8>) -> Reply {
        let mut ctx = Ctx {
            dc_id: self.dc,
            auth_key_id: self.key,
            now: self.now,
            faults: &mut self.faults,
            rng: &mut self.rng,
            layer: None,
            method: 0,
        };
        self.world.handle(&mut ctx, Bytes::from(body))
    }

    pub(super) fn call<F: RemoteCall>(&mut self, f: &F) -> Result<F::Return, ApiError> {
        match self.raw(f.to_bytes()) {
            Reply::Result(v) => {
                Ok(F::Return::from_bytes(v)
                    .expect("our answer decodes as the declared return type"))
            }
            Reply::Error(e) => Err(e),
            Reply::Drop => panic!("dropped"),
            Reply::Stall => panic!("stalled"),
        }
    }

    pub(super) fn login_bot(&mut self) {
        self.call(&functions::auth::ImportBotAuthorization {
            flags: 0,
            api_id: 1,
            api_hash: "x".into(),
            bot_auth_token: "123:abc".into(),
        })
        .unwrap();
    }

    pub(super) fn message(&mut self, id: i32) -> types::Document {
        let msg = self.messages("chan", &[id]).remove(0);
        let Some(enums::MessageMedia::MessageMediaDocument(md)) = &msg.media else {
            panic!("a document expected")
        };
        let Some(enums::Document::Document(d)) = &md.document else {
            panic!()
        };
        d.clone()
    }

    /// `inputChannel` of the chat in directory `dir` (`chan`, `+secret`, `chan.comments`).
    pub(super) fn input_channel(&self, dir: &str) -> enums::InputChannel {
        let c = self
            .world
            .library
            .channels()
            .find(|c| c.dir == dir)
            .unwrap();
        enums::InputChannel::InputChannel(types::InputChannel {
            channel_id: c.id,
            access_hash: c.access_hash,
        })
    }

    /// `inputPeerChannel` of the chat in directory `dir`.
    pub(super) fn input_peer(&self, dir: &str) -> enums::InputPeer {
        let enums::InputChannel::InputChannel(c) = self.input_channel(dir) else {
            unreachable!()
        };
        enums::InputPeer::InputPeerChannel(types::InputPeerChannel {
            channel_id: c.channel_id,
            access_hash: c.access_hash,
        })
    }

    /// The message ids `messages.getHistory` gives for `peer` (newest first, up to 10).
    pub(super) fn history(&mut self, peer: enums::InputPeer) -> Vec<i32> {
        let r = self.call(&functions::messages::GetHistory {
            peer,
            offset_id: 0,
            offset_date: 0,
            add_offset: 0,
            limit: 10,
            max_id: 0,
            min_id: 0,
            hash: 0,
        });
        channel_messages(r.unwrap()).iter().map(|m| m.id).collect()
    }

    /// The message ids `messages.getReplies` gives for `msg_id` of the chat in `dir`.
    pub(super) fn replies(&mut self, dir: &str, msg_id: i32) -> Result<Vec<i32>, ApiError> {
        let r = self.call(&functions::messages::GetReplies {
            peer: self.input_peer(dir),
            msg_id,
            offset_id: 0,
            offset_date: 0,
            add_offset: 0,
            limit: 10,
            max_id: 0,
            min_id: 0,
            hash: 0,
        })?;
        Ok(channel_messages(r).iter().map(|m| m.id).collect())
    }

    /// Messages `ids` of the chat in directory `dir`, by `channels.getMessages`.
    pub(super) fn messages(&mut self, dir: &str, ids: &[i32]) -> Vec<types::Message> {
        let r = self
            .call(&functions::channels::GetMessages {
                channel: self.input_channel(dir),
                id: ids
                    .iter()
                    .map(|&id| enums::InputMessage::InputMessageId(types::InputMessageId { id }))
                    .collect(),
            })
            .unwrap();
        channel_messages(r)
    }

    pub(super) fn get_file_cdn(
        &mut self,
        d: &types::Document,
        offset: i64,
        limit: i32,
    ) -> Result<enums::upload::File, ApiError> {
        self.call(&functions::upload::GetFile {
            precise: false,
            cdn_supported: true,
            location: location(d),
            offset,
            limit,
        })
    }

    pub(super) fn redirect(&mut self, d: &types::Document) -> types::upload::FileCdnRedirect {
        match self.get_file_cdn(d, 0, 1 << 20).unwrap() {
            enums::upload::File::FileCdnRedirect(r) => r,
            other => panic!("a redirect expected, got {other:?}"),
        }
    }

    pub(super) fn get_cdn_file(
        &mut self,
        token: &[u8],
        offset: i64,
        limit: i32,
    ) -> Result<enums::upload::CdnFile, ApiError> {
        self.call(&functions::upload::GetCdnFile {
            file_token: Bytes::copy_from_slice(token),
            offset,
            limit,
        })
    }

    pub(super) fn get_file(
        &mut self,
        d: &types::Document,
        offset: i64,
        limit: i32,
        precise: bool,
    ) -> Result<Bytes, ApiError> {
        let r = self.call(&functions::upload::GetFile {
            precise,
            cdn_supported: false,
            location: location(d),
            offset,
            limit,
        })?;
        match r {
            enums::upload::File::File(f) => Ok(f.bytes),
            other => panic!("unexpected {other:?}"),
        }
    }
}

pub(super) fn wrapped<F: Serializable>(f: F) -> Vec<u8> {
    functions::InvokeWithLayer {
        layer: 227,
        query: functions::InitConnection {
            api_id: 1,
            device_model: "d".into(),
            system_version: "s".into(),
            app_version: "a".into(),
            system_lang_code: "en".into(),
            lang_pack: "".into(),
            lang_code: "en".into(),
            proxy: None,
            params: None,
            query: f,
        },
    }
    .to_bytes()
}

/// The `inputDocumentFileLocation` of `d`.
pub(super) fn location(d: &types::Document) -> enums::InputFileLocation {
    enums::InputFileLocation::InputDocumentFileLocation(types::InputDocumentFileLocation {
        id: d.id,
        access_hash: d.access_hash,
        file_reference: d.file_reference.clone(),
        thumb_size: String::new(),
    })
}

/// `codeSettings` with nothing set (what a test phone login sends).
pub(super) fn code_settings() -> enums::CodeSettings {
    enums::CodeSettings::CodeSettings(types::CodeSettings {
        allow_flashcall: false,
        current_number: false,
        allow_app_hash: false,
        allow_missed_call: false,
        allow_firebase: false,
        unknown_number: false,
        logout_tokens: None,
        token: None,
        app_sandbox: None,
    })
}

/// The messages of a `messages.channelMessages` (each must be a `message`).
pub(super) fn channel_messages(r: enums::messages::Messages) -> Vec<types::Message> {
    let enums::messages::Messages::ChannelMessages(m) = r else {
        panic!("channelMessages expected")
    };
    m.messages
        .into_iter()
        .map(|m| match m {
            enums::Message::Message(m) => m,
            other => panic!("a message expected, got {other:?}"),
        })
        .collect()
}
