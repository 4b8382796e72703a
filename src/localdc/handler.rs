//! The API: one decoded request in, one answer out (sans-IO, synchronous).
//!
//! [`World`] holds what all DCs of the process share (the library, the logins, the DC list);
//! each call gets a [`Ctx`] with the connection's DC, auth key, clock, fault stream and random
//! source. [`World::handle`] unwraps `invokeWithLayer` / `initConnection` / `invokeAfterMsg(s)` /
//! `invokeWithoutUpdates`, rolls the RPC faults, dispatches by constructor id and returns a
//! [`Reply`]: the serialised result, an `rpc_error`, or "drop the connection". Every method we
//! do not serve gets 400 METHOD_INVALID (400 CDN_METHOD_INVALID on the CDN DC, which serves only
//! `upload.getCdnFile`, see [`super::cdn`]); a body that does not decode gets 400
//! INPUT_REQUEST_INVALID. Nothing here blocks except the positional read of a file part.

use std::fs::File;
use std::sync::Mutex;

use bytes::Bytes;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::crypto::srp::{make_verifier, SrpServer};
use crate::crypto::DhGroup;
use crate::tl::{enums, functions, types, Deserializable, Identifiable, Raw, Serializable};
use std::collections::HashMap;

use super::accounts::{Account, Accounts, LoginState, TestPhone};
use super::cdn::{self, Cdn, Presence};
use super::error::RpcError;
use super::faults::{FaultSpec, Faults, RpcFault};
use super::fileref::FileRefs;
use super::getfile::{check_part, read_part, Part};
use super::media::{Document, Library};
use super::objects::{self, DcAddress};

/// Size of the parts `upload.getFileHashes` hashes.
pub const HASH_PART: u64 = 128 * 1024;
/// Most messages one `messages.getHistory` returns.
const MAX_HISTORY: usize = 100;
/// Deepest nesting of invoke wrappers we unwrap.
const MAX_WRAPPERS: usize = 8;

/// The answer to one RPC.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// The serialised result (to wrap in `rpc_result`).
    Result(Vec<u8>),
    /// An `rpc_error`.
    Error(RpcError),
    /// Close the connection without answering (the `drop` fault).
    Drop,
}

impl From<Result<Vec<u8>, RpcError>> for Reply {
    fn from(r: Result<Vec<u8>, RpcError>) -> Self {
        match r {
            Ok(v) => Reply::Result(v),
            Err(e) => Reply::Error(e),
        }
    }
}

/// Everything one call needs to know about its connection.
pub struct Ctx<'a> {
    /// The DC that received the request.
    pub dc_id: i32,
    /// The auth key the request was encrypted with.
    pub auth_key_id: i64,
    /// Unix time in seconds.
    pub now: u64,
    /// The connection's fault stream.
    pub faults: &'a mut Faults,
    /// Randomness (tokens, hashes).
    pub rng: &'a mut dyn RngCore,
    /// The layer the client announced with `invokeWithLayer` (we answer in 227 regardless).
    pub layer: Option<i32>,
    /// Set by [`World::handle`]: the constructor id of the innermost (unwrapped) method.
    pub method: u32,
}

/// What all DCs of one `tgmux local-dc` process share.
#[derive(Debug)]
pub struct World {
    /// The media library.
    pub library: Library,
    /// The DCs announced by `help.getConfig` (regular ones, then the CDN DC if any).
    pub dcs: Vec<DcAddress>,
    /// The fault spec.
    pub faults: FaultSpec,
    /// File reference rules.
    pub refs: FileRefs,
    accounts: Mutex<Accounts>,
    password: Option<PasswordSetup>,
    /// The CDN DC, with `--cdn`.
    cdn: Option<Cdn>,
    /// Pending SRP checks per auth key: (srp_id, server half).
    srp: Mutex<HashMap<i64, (i64, SrpServer)>>,
}

/// The 2FA password as the server keeps it: salts and SRP verifier, never the password.
#[derive(Debug, Clone)]
pub struct PasswordSetup {
    salt1: Vec<u8>,
    salt2: Vec<u8>,
    verifier: [u8; 256],
}

impl PasswordSetup {
    /// Salts from `rng`, verifier v = g^x for Telegram's group (runs the 100 000 PBKDF2 rounds).
    pub fn new(password: &str, rng: &mut dyn RngCore) -> Self {
        let mut salt1 = vec![0u8; 40];
        let mut salt2 = vec![0u8; 16];
        rng.fill_bytes(&mut salt1);
        rng.fill_bytes(&mut salt2);
        let verifier = make_verifier(&DhGroup::telegram(), password.as_bytes(), &salt1, &salt2);
        PasswordSetup {
            salt1,
            salt2,
            verifier,
        }
    }

    fn algo(&self) -> enums::PasswordKdfAlgo {
        let group = DhGroup::telegram();
        let mut p = group.p().to_bytes_be();
        while p.len() < 256 {
            p.insert(0, 0);
        }
        enums::PasswordKdfAlgo::PasswordKdfAlgoSha256Sha256Pbkdf2Hmacsha512iter100000Sha256ModPow(
            types::PasswordKdfAlgoSha256Sha256Pbkdf2Hmacsha512iter100000Sha256ModPow {
                salt1: Bytes::from(self.salt1.clone()),
                salt2: Bytes::from(self.salt2.clone()),
                g: group.g() as i32,
                p: Bytes::from(p),
            },
        )
    }
}

fn serialize<T: Serializable>(v: &T) -> Result<Vec<u8>, RpcError> {
    let mut out = Vec::new();
    v.serialize(&mut out);
    Ok(out)
}

fn decode<T: Deserializable>(body: &Bytes) -> Result<T, RpcError> {
    T::from_bytes(body.clone()).map_err(|_| RpcError::bad_request("INPUT_REQUEST_INVALID"))
}

fn constructor_id(body: &Bytes) -> Option<u32> {
    body.get(..4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

impl World {
    /// A world over `library`, announcing `dcs`, with `faults`.
    pub fn new(library: Library, dcs: Vec<DcAddress>, faults: FaultSpec) -> Self {
        let refs = FileRefs {
            period: faults.expire_refs,
        };
        World {
            library,
            dcs,
            faults,
            refs,
            accounts: Mutex::new(Accounts::default()),
            password: None,
            cdn: None,
            srp: Mutex::new(HashMap::new()),
        }
    }

    /// The same world with 2FA: user logins must pass an SRP check of `setup`'s password.
    pub fn with_password(mut self, setup: PasswordSetup) -> Self {
        self.password = Some(setup);
        self
    }

    /// The same world with a CDN DC at `dc` (announced last in `help.getConfig`, with the `cdn`
    /// flag) whose RSA public key is `public_key_pem` (PKCS#1 PEM).
    pub fn with_cdn(mut self, dc: DcAddress, public_key_pem: String) -> Self {
        self.cdn = Some(Cdn::new(dc.id, public_key_pem));
        self.dcs.push(DcAddress { cdn: true, ..dc });
        self
    }

    /// The CDN DC's id, with `--cdn`.
    pub fn cdn_dc_id(&self) -> Option<i32> {
        self.cdn.as_ref().map(|c| c.dc_id)
    }

    /// Number of regular (non-CDN) DCs.
    pub fn dc_count(&self) -> usize {
        self.dcs.iter().filter(|d| !d.cdn && !d.media_only).count()
    }

    fn accounts(&self) -> std::sync::MutexGuard<'_, Accounts> {
        // A panic while holding the lock cannot leave Accounts half-updated in a harmful way
        // (each method is a single insert/remove), so a poisoned lock is still usable.
        self.accounts.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The account behind `auth_key_id`, if logged in.
    pub fn account(&self, auth_key_id: i64) -> Option<Account> {
        self.accounts().authorized(auth_key_id).cloned()
    }

    /// Answers one RPC request `body` (a serialised TL function).
    pub fn handle(&self, ctx: &mut Ctx<'_>, body: Bytes) -> Reply {
        let mut body = body;
        for _ in 0..MAX_WRAPPERS {
            let Some(id) = constructor_id(&body) else {
                return Reply::Error(RpcError::bad_request("INPUT_REQUEST_INVALID"));
            };
            let inner: Result<Bytes, RpcError> = match id {
                functions::InvokeWithLayer::<Raw>::CONSTRUCTOR_ID => {
                    decode::<functions::InvokeWithLayer<Raw>>(&body).map(|w| {
                        ctx.layer = Some(w.layer);
                        w.query.0
                    })
                }
                functions::InitConnection::<Raw>::CONSTRUCTOR_ID => {
                    decode::<functions::InitConnection<Raw>>(&body).map(|w| w.query.0)
                }
                functions::InvokeAfterMsg::<Raw>::CONSTRUCTOR_ID => {
                    decode::<functions::InvokeAfterMsg<Raw>>(&body).map(|w| w.query.0)
                }
                functions::InvokeAfterMsgs::<Raw>::CONSTRUCTOR_ID => {
                    decode::<functions::InvokeAfterMsgs<Raw>>(&body).map(|w| w.query.0)
                }
                functions::InvokeWithoutUpdates::<Raw>::CONSTRUCTOR_ID => {
                    decode::<functions::InvokeWithoutUpdates<Raw>>(&body).map(|w| w.query.0)
                }
                _ => return self.dispatch(ctx, id, &body),
            };
            match inner {
                Ok(b) => body = b,
                Err(e) => return Reply::Error(e),
            }
        }
        Reply::Error(RpcError::bad_request("INPUT_REQUEST_INVALID"))
    }

    fn dispatch(&self, ctx: &mut Ctx<'_>, id: u32, body: &Bytes) -> Reply {
        ctx.method = id;
        let is_file = id == functions::upload::GetFile::CONSTRUCTOR_ID
            || id == functions::upload::GetCdnFile::CONSTRUCTOR_ID;
        match ctx.faults.for_rpc(is_file) {
            RpcFault::Drop => return Reply::Drop,
            RpcFault::Flood(message) => return Reply::Error(RpcError::new(420, message)),
            RpcFault::None => {}
        }
        use functions::{
            account as acc, auth, channels, contacts, help, messages, updates, upload, users,
        };
        if self.cdn_dc_id() == Some(ctx.dc_id) {
            // The CDN knows no users and serves one method.
            let r = match id {
                upload::GetCdnFile::CONSTRUCTOR_ID => {
                    decode(body).and_then(|r| self.get_cdn_file(ctx, r))
                }
                _ => Err(RpcError::bad_request("CDN_METHOD_INVALID")),
            };
            return r.into();
        }
        let r = match id {
            help::GetConfig::CONSTRUCTOR_ID => serialize(&objects::config(
                &self.dcs,
                ctx.dc_id,
                ctx.now.min(i32::MAX as u64) as i32,
            )),
            help::GetNearestDc::CONSTRUCTOR_ID => {
                serialize(&enums::NearestDc::NearestDc(types::NearestDc {
                    country: "ZZ".into(),
                    this_dc: ctx.dc_id,
                    nearest_dc: ctx.dc_id,
                }))
            }
            help::GetCdnConfig::CONSTRUCTOR_ID => {
                serialize(&enums::CdnConfig::CdnConfig(types::CdnConfig {
                    public_keys: self
                        .cdn
                        .iter()
                        .map(|c| {
                            enums::CdnPublicKey::CdnPublicKey(types::CdnPublicKey {
                                dc_id: c.dc_id,
                                public_key: c.public_key_pem.clone(),
                            })
                        })
                        .collect(),
                }))
            }
            updates::GetState::CONSTRUCTOR_ID => self.get_state(ctx),
            updates::GetDifference::CONSTRUCTOR_ID => {
                // Nothing ever happens here: no updates since any state.
                self.require(ctx).and_then(|_| {
                    serialize(&enums::updates::Difference::DifferenceEmpty(
                        types::updates::DifferenceEmpty {
                            date: ctx.now.min(i32::MAX as u64) as i32,
                            seq: 1,
                        },
                    ))
                })
            }
            users::GetUsers::CONSTRUCTOR_ID => decode(body).and_then(|r| self.get_users(ctx, r)),
            users::GetFullUser::CONSTRUCTOR_ID => {
                decode(body).and_then(|r| self.get_full_user(ctx, r))
            }
            contacts::ResolveUsername::CONSTRUCTOR_ID => {
                decode(body).and_then(|r| self.resolve_username(ctx, r))
            }
            channels::GetChannels::CONSTRUCTOR_ID => {
                decode(body).and_then(|r| self.get_channels(ctx, r))
            }
            channels::GetMessages::CONSTRUCTOR_ID => {
                decode(body).and_then(|r| self.get_channel_messages(ctx, r))
            }
            messages::GetMessages::CONSTRUCTOR_ID => {
                decode(body).and_then(|r| self.get_messages(ctx, r))
            }
            messages::GetHistory::CONSTRUCTOR_ID => {
                decode(body).and_then(|r| self.get_history(ctx, r))
            }
            upload::GetFile::CONSTRUCTOR_ID => decode(body).and_then(|r| self.get_file(ctx, r)),
            upload::GetFileHashes::CONSTRUCTOR_ID => {
                decode(body).and_then(|r| self.get_file_hashes(ctx, r))
            }
            upload::GetCdnFileHashes::CONSTRUCTOR_ID => {
                decode(body).and_then(|r| self.get_cdn_file_hashes(ctx, r))
            }
            upload::ReuploadCdnFile::CONSTRUCTOR_ID => {
                decode(body).and_then(|r| self.reupload_cdn_file(ctx, r))
            }
            auth::ImportBotAuthorization::CONSTRUCTOR_ID => {
                decode(body).and_then(|r| self.import_bot(ctx, r))
            }
            auth::SendCode::CONSTRUCTOR_ID => decode(body).and_then(|r| self.send_code(ctx, r)),
            auth::SignIn::CONSTRUCTOR_ID => decode(body).and_then(|r| self.sign_in(ctx, r)),
            auth::SignUp::CONSTRUCTOR_ID => decode(body).and_then(|r| self.sign_up(ctx, r)),
            auth::ExportAuthorization::CONSTRUCTOR_ID => {
                decode(body).and_then(|r| self.export_auth(ctx, r))
            }
            auth::ImportAuthorization::CONSTRUCTOR_ID => {
                decode(body).and_then(|r| self.import_auth(ctx, r))
            }
            auth::BindTempAuthKey::CONSTRUCTOR_ID => {
                decode::<auth::BindTempAuthKey>(body).and_then(|_| serialize(&true))
            }
            auth::LogOut::CONSTRUCTOR_ID => {
                self.accounts().set(ctx.auth_key_id, None);
                serialize(&enums::auth::LoggedOut::LoggedOut(types::auth::LoggedOut {
                    future_auth_token: None,
                }))
            }
            acc::GetPassword::CONSTRUCTOR_ID => self.get_password(ctx),
            auth::CheckPassword::CONSTRUCTOR_ID => {
                decode(body).and_then(|r| self.check_password(ctx, r))
            }
            _ => Err(RpcError::method_invalid()),
        };
        r.into()
    }

    fn require(&self, ctx: &Ctx<'_>) -> Result<Account, RpcError> {
        self.accounts().require(ctx.auth_key_id).cloned()
    }

    fn get_state(&self, ctx: &Ctx<'_>) -> Result<Vec<u8>, RpcError> {
        self.require(ctx)?;
        serialize(&enums::updates::State::State(types::updates::State {
            pts: 1,
            qts: 0,
            date: ctx.now.min(i32::MAX as u64) as i32,
            seq: 1,
            unread_count: 0,
        }))
    }

    fn is_self(me: &Account, u: &enums::InputUser) -> bool {
        match u {
            enums::InputUser::InputUserSelf(_) => true,
            enums::InputUser::InputUser(x) => x.user_id == me.id,
            _ => false,
        }
    }

    fn get_users(&self, ctx: &Ctx<'_>, r: functions::users::GetUsers) -> Result<Vec<u8>, RpcError> {
        let me = self.require(ctx)?;
        let users: Vec<enums::User> =
            r.id.iter()
                .filter(|u| Self::is_self(&me, u))
                .map(|_| objects::user(&me, true))
                .collect();
        serialize(&users)
    }

    fn get_full_user(
        &self,
        ctx: &Ctx<'_>,
        r: functions::users::GetFullUser,
    ) -> Result<Vec<u8>, RpcError> {
        let me = self.require(ctx)?;
        if !Self::is_self(&me, &r.id) {
            return Err(RpcError::bad_request("USER_ID_INVALID"));
        }
        serialize(&enums::users::UserFull::UserFull(objects::user_full(&me)))
    }

    fn resolve_username(
        &self,
        ctx: &Ctx<'_>,
        r: functions::contacts::ResolveUsername,
    ) -> Result<Vec<u8>, RpcError> {
        self.require(ctx)?;
        let c = self
            .library
            .channel_by_username(r.username.trim_start_matches('@'))
            .ok_or_else(|| RpcError::bad_request("USERNAME_NOT_OCCUPIED"))?;
        serialize(&enums::contacts::ResolvedPeer::ResolvedPeer(
            types::contacts::ResolvedPeer {
                peer: objects::peer(c),
                chats: vec![objects::channel(c)],
                users: vec![],
            },
        ))
    }

    fn channel_of(&self, ic: &enums::InputChannel) -> Result<&super::media::Channel, RpcError> {
        let invalid = || RpcError::bad_request("CHANNEL_INVALID");
        match ic {
            enums::InputChannel::InputChannel(x) => {
                let c = self.library.channel(x.channel_id).ok_or_else(invalid)?;
                if c.access_hash == x.access_hash {
                    Ok(c)
                } else {
                    Err(invalid())
                }
            }
            _ => Err(invalid()),
        }
    }

    fn channel_of_peer(&self, p: &enums::InputPeer) -> Result<&super::media::Channel, RpcError> {
        match p {
            enums::InputPeer::InputPeerChannel(x) => {
                self.channel_of(&enums::InputChannel::InputChannel(types::InputChannel {
                    channel_id: x.channel_id,
                    access_hash: x.access_hash,
                }))
            }
            _ => Err(RpcError::bad_request("PEER_ID_INVALID")),
        }
    }

    fn get_channels(
        &self,
        ctx: &Ctx<'_>,
        r: functions::channels::GetChannels,
    ) -> Result<Vec<u8>, RpcError> {
        self.require(ctx)?;
        let chats =
            r.id.iter()
                .map(|ic| self.channel_of(ic).map(objects::channel))
                .collect::<Result<Vec<_>, _>>()?;
        serialize(&enums::messages::Chats::Chats(types::messages::Chats {
            chats,
        }))
    }

    /// The message as this client sees it: the document's announced DC is its real one, or
    /// (under the `migrate` fault) the DC that was asked.
    fn message_of(&self, ctx: &Ctx<'_>, c: &super::media::Channel, d: &Document) -> enums::Message {
        let dc = if self.faults.migrate {
            ctx.dc_id
        } else {
            d.dc_id
        };
        let doc = objects::document(d, self.refs.issue(d.id, ctx.now), dc);
        objects::message(c, d, doc)
    }

    fn channel_messages(
        &self,
        c: &super::media::Channel,
        messages: Vec<enums::Message>,
        count: usize,
    ) -> Result<Vec<u8>, RpcError> {
        serialize(&enums::messages::Messages::ChannelMessages(
            types::messages::ChannelMessages {
                inexact: false,
                pts: 1,
                count: i32::try_from(count).unwrap_or(i32::MAX),
                offset_id_offset: None,
                messages,
                topics: vec![],
                chats: vec![objects::channel(c)],
                users: vec![],
            },
        ))
    }

    fn get_channel_messages(
        &self,
        ctx: &Ctx<'_>,
        r: functions::channels::GetMessages,
    ) -> Result<Vec<u8>, RpcError> {
        self.require(ctx)?;
        let c = self.channel_of(&r.channel)?;
        let messages =
            r.id.iter()
                .map(|m| match m {
                    enums::InputMessage::InputMessageId(x) => match c.messages.get(&x.id) {
                        Some(d) => self.message_of(ctx, c, d),
                        None => objects::empty_message(x.id, Some(objects::peer(c))),
                    },
                    _ => objects::empty_message(0, None),
                })
                .collect();
        self.channel_messages(c, messages, c.messages.len())
    }

    fn get_messages(
        &self,
        ctx: &Ctx<'_>,
        r: functions::messages::GetMessages,
    ) -> Result<Vec<u8>, RpcError> {
        self.require(ctx)?;
        // Only channels have messages here; private/group message ids are all empty.
        let messages =
            r.id.iter()
                .map(|m| match m {
                    enums::InputMessage::InputMessageId(x) => objects::empty_message(x.id, None),
                    _ => objects::empty_message(0, None),
                })
                .collect();
        serialize(&enums::messages::Messages::Messages(
            types::messages::Messages {
                messages,
                topics: vec![],
                chats: vec![],
                users: vec![],
            },
        ))
    }

    fn get_history(
        &self,
        ctx: &Ctx<'_>,
        r: functions::messages::GetHistory,
    ) -> Result<Vec<u8>, RpcError> {
        self.require(ctx)?;
        let c = self.channel_of_peer(&r.peer)?;
        let ids = history_ids(c.messages.keys().copied(), &r);
        let messages = ids
            .iter()
            .map(|id| self.message_of(ctx, c, &c.messages[id]))
            .collect();
        self.channel_messages(c, messages, c.messages.len())
    }

    /// The document and part of an `upload.getFile`/`getFileHashes` location, checked in
    /// Telegram's order: location, DC (FILE_MIGRATE_X), file reference.
    fn locate(
        &self,
        ctx: &Ctx<'_>,
        location: &enums::InputFileLocation,
    ) -> Result<&Document, RpcError> {
        let enums::InputFileLocation::InputDocumentFileLocation(loc) = location else {
            return Err(RpcError::bad_request("LOCATION_INVALID"));
        };
        if !loc.thumb_size.is_empty() {
            return Err(RpcError::bad_request("LOCATION_INVALID"));
        }
        let d = self
            .library
            .document(loc.id)
            .filter(|d| d.access_hash == loc.access_hash)
            .ok_or_else(|| RpcError::bad_request("FILE_ID_INVALID"))?;
        if d.dc_id != ctx.dc_id {
            return Err(RpcError::file_migrate(d.dc_id));
        }
        self.refs.check(d.id, &loc.file_reference, ctx.now)?;
        Ok(d)
    }

    fn get_file(&self, ctx: &Ctx<'_>, r: functions::upload::GetFile) -> Result<Vec<u8>, RpcError> {
        self.require(ctx)?;
        let part = check_part(r.offset, r.limit, r.precise)?;
        let d = self.locate(ctx, &r.location)?;
        if let Some(c) = &self.cdn {
            if r.cdn_supported && Cdn::holds(d) {
                return self.cdn_redirect(c, d, part.offset);
            }
        }
        let bytes = read_document(d, part)?;
        serialize(&enums::upload::File::File(types::upload::File {
            r#type: enums::storage::FileType::FilePartial(types::storage::FilePartial {}),
            mtime: d.date,
            bytes,
        }))
    }

    fn get_file_hashes(
        &self,
        ctx: &Ctx<'_>,
        r: functions::upload::GetFileHashes,
    ) -> Result<Vec<u8>, RpcError> {
        self.require(ctx)?;
        if r.offset < 0 {
            return Err(RpcError::offset_invalid());
        }
        let d = self.locate(ctx, &r.location)?;
        let hashes = file_hashes(d, r.offset as u64)?;
        serialize(&hashes)
    }

    fn cdn_redirect(&self, c: &Cdn, d: &Document, offset: u64) -> Result<Vec<u8>, RpcError> {
        let (key, iv) = cdn::secrets(d);
        let token = super::ids::cdn_file_token(d.id, &d.username, &d.file_name);
        serialize(&enums::upload::File::FileCdnRedirect(
            types::upload::FileCdnRedirect {
                dc_id: c.dc_id,
                file_token: Bytes::copy_from_slice(&token),
                encryption_key: Bytes::copy_from_slice(&key),
                encryption_iv: Bytes::copy_from_slice(&iv),
                file_hashes: file_hashes(d, offset)?,
            },
        ))
    }

    /// The CDN document behind `token`, checked on a regular DC: it must be the home DC.
    fn cdn_document(&self, ctx: &Ctx<'_>, token: &[u8]) -> Result<&Document, RpcError> {
        let invalid = || RpcError::bad_request("FILE_TOKEN_INVALID");
        self.cdn.as_ref().ok_or_else(invalid)?;
        let d = Cdn::document(&self.library, token).ok_or_else(invalid)?;
        if d.dc_id != ctx.dc_id {
            return Err(RpcError::file_migrate(d.dc_id));
        }
        Ok(d)
    }

    /// `upload.getCdnFile` on the CDN DC: no login, the part rules of `upload.getFile`, the
    /// `reupload` fault, the bytes AES-256-CTR encrypted.
    fn get_cdn_file(
        &self,
        ctx: &mut Ctx<'_>,
        r: functions::upload::GetCdnFile,
    ) -> Result<Vec<u8>, RpcError> {
        let Some(c) = &self.cdn else {
            return Err(RpcError::method_invalid());
        };
        let part = check_part(r.offset, r.limit, false)?;
        let d = Cdn::document(&self.library, &r.file_token)
            .ok_or_else(|| RpcError::bad_request("FILE_TOKEN_INVALID"))?;
        let faults = &mut *ctx.faults;
        let rng = &mut *ctx.rng;
        let presence = c.presence(d, part.offset, || faults.reupload(), |t| rng.fill_bytes(t));
        if let Presence::Missing(request_token) = presence {
            return serialize(&enums::upload::CdnFile::CdnFileReuploadNeeded(
                types::upload::CdnFileReuploadNeeded { request_token },
            ));
        }
        let mut bytes = read_document(d, part)?.to_vec();
        cdn::encrypt_part(d, part.offset, &mut bytes);
        serialize(&enums::upload::CdnFile::CdnFile(types::upload::CdnFile {
            bytes: Bytes::from(bytes),
        }))
    }

    fn get_cdn_file_hashes(
        &self,
        ctx: &Ctx<'_>,
        r: functions::upload::GetCdnFileHashes,
    ) -> Result<Vec<u8>, RpcError> {
        self.require(ctx)?;
        if r.offset < 0 {
            return Err(RpcError::offset_invalid());
        }
        let d = self.cdn_document(ctx, &r.file_token)?;
        serialize(&file_hashes(d, r.offset as u64)?)
    }

    fn reupload_cdn_file(
        &self,
        ctx: &Ctx<'_>,
        r: functions::upload::ReuploadCdnFile,
    ) -> Result<Vec<u8>, RpcError> {
        self.require(ctx)?;
        let d = self.cdn_document(ctx, &r.file_token)?;
        let c = self.cdn.as_ref().ok_or_else(RpcError::method_invalid)?;
        let offset = c
            .reupload(d, &r.request_token)
            .ok_or_else(|| RpcError::bad_request("REQUEST_TOKEN_INVALID"))?;
        serialize(&file_hashes(d, offset)?)
    }

    fn authorization(&self, ctx: &Ctx<'_>, account: Account) -> Result<Vec<u8>, RpcError> {
        self.accounts().set(
            ctx.auth_key_id,
            Some(LoginState::Authorized(account.clone())),
        );
        serialize(&enums::auth::Authorization::Authorization(
            types::auth::Authorization {
                setup_password_required: false,
                otherwise_relogin_days: None,
                tmp_sessions: None,
                future_auth_token: None,
                user: objects::user(&account, true),
            },
        ))
    }

    fn import_bot(
        &self,
        ctx: &Ctx<'_>,
        r: functions::auth::ImportBotAuthorization,
    ) -> Result<Vec<u8>, RpcError> {
        let account = Account::for_bot_token(&r.bot_auth_token)?;
        self.authorization(ctx, account)
    }

    fn phone_on_this_dc(&self, ctx: &Ctx<'_>, phone: &str) -> Result<TestPhone, RpcError> {
        let p = TestPhone::parse(phone)?;
        let known = (1..=self.dc_count() as i32).contains(&p.dc);
        if self.faults.migrate && known && p.dc != ctx.dc_id {
            return Err(RpcError::phone_migrate(p.dc));
        }
        Ok(p)
    }

    fn send_code(
        &self,
        ctx: &mut Ctx<'_>,
        r: functions::auth::SendCode,
    ) -> Result<Vec<u8>, RpcError> {
        let phone = self.phone_on_this_dc(ctx, &r.phone_number)?;
        let mut h = [0u8; 8];
        ctx.rng.fill_bytes(&mut h);
        let hash: String = h.iter().map(|b| format!("{b:02x}")).collect();
        self.accounts().send_code(&phone, hash.clone());
        serialize(&enums::auth::SentCode::SentCode(types::auth::SentCode {
            r#type: enums::auth::SentCodeType::SentCodeTypeApp(types::auth::SentCodeTypeApp {
                length: 5,
            }),
            phone_code_hash: hash,
            next_type: None,
            timeout: None,
        }))
    }

    fn after_code(&self, ctx: &Ctx<'_>, account: Account) -> Result<Vec<u8>, RpcError> {
        if self.password.is_some() {
            self.accounts()
                .set(ctx.auth_key_id, Some(LoginState::PasswordNeeded(account)));
            return Err(RpcError::new(401, "SESSION_PASSWORD_NEEDED"));
        }
        self.authorization(ctx, account)
    }

    fn get_password(&self, ctx: &mut Ctx<'_>) -> Result<Vec<u8>, RpcError> {
        let mut secure_random = vec![0u8; 32];
        ctx.rng.fill_bytes(&mut secure_random);
        let unknown =
            || enums::PasswordKdfAlgo::PasswordKdfAlgoUnknown(types::PasswordKdfAlgoUnknown {});
        let (current_algo, srp_b, srp_id, new_algo) = match &self.password {
            None => (None, None, None, unknown()),
            Some(setup) => {
                let srp = SrpServer::new(DhGroup::telegram(), &setup.verifier, &mut *ctx.rng);
                let srp_id = (ctx.rng.next_u64() >> 1) as i64;
                let b = Bytes::copy_from_slice(&srp.srp_b());
                let mut pending = self.srp.lock().unwrap_or_else(|p| p.into_inner());
                if pending.len() >= 10_000 {
                    pending.clear();
                }
                pending.insert(ctx.auth_key_id, (srp_id, srp));
                (Some(setup.algo()), Some(b), Some(srp_id), setup.algo())
            }
        };
        serialize(&enums::account::Password::Password(
            types::account::Password {
                has_recovery: false,
                has_secure_values: false,
                has_password: self.password.is_some(),
                current_algo,
                srp_b,
                srp_id,
                hint: None,
                email_unconfirmed_pattern: None,
                new_algo,
                new_secure_algo: enums::SecurePasswordKdfAlgo::SecurePasswordKdfAlgoUnknown(
                    types::SecurePasswordKdfAlgoUnknown {},
                ),
                secure_random: Bytes::from(secure_random),
                pending_reset_date: None,
                login_email_pattern: None,
            },
        ))
    }

    fn check_password(
        &self,
        ctx: &Ctx<'_>,
        r: functions::auth::CheckPassword,
    ) -> Result<Vec<u8>, RpcError> {
        let (Some(setup), Some(account)) = (
            &self.password,
            self.accounts().password_pending(ctx.auth_key_id).cloned(),
        ) else {
            return Err(RpcError::bad_request("PASSWORD_HASH_INVALID"));
        };
        let enums::InputCheckPasswordSrp::InputCheckPasswordSrp(check) = r.password else {
            return Err(RpcError::bad_request("PASSWORD_HASH_INVALID"));
        };
        let pending = self
            .srp
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&ctx.auth_key_id);
        let Some((srp_id, srp)) = pending.filter(|(id, _)| *id == check.srp_id) else {
            return Err(RpcError::bad_request("SRP_ID_INVALID"));
        };
        let _ = srp_id;
        srp.verify(&setup.salt1, &setup.salt2, &check.a, &check.m1)
            .map_err(|_| RpcError::bad_request("PASSWORD_HASH_INVALID"))?;
        self.authorization(ctx, account)
    }

    fn sign_in(&self, ctx: &Ctx<'_>, r: functions::auth::SignIn) -> Result<Vec<u8>, RpcError> {
        let phone = self.phone_on_this_dc(ctx, &r.phone_number)?;
        let code = r.phone_code.unwrap_or_default();
        let account = self
            .accounts()
            .check_code(&phone, &r.phone_code_hash, &code)?;
        self.after_code(ctx, account)
    }

    fn sign_up(&self, ctx: &Ctx<'_>, r: functions::auth::SignUp) -> Result<Vec<u8>, RpcError> {
        // Every test phone is registered already; sign-up only re-checks the code hash.
        let phone = self.phone_on_this_dc(ctx, &r.phone_number)?;
        let account = self
            .accounts()
            .check_code(&phone, &r.phone_code_hash, &phone.code())?;
        self.after_code(ctx, account)
    }

    fn export_auth(
        &self,
        ctx: &mut Ctx<'_>,
        r: functions::auth::ExportAuthorization,
    ) -> Result<Vec<u8>, RpcError> {
        let me = self.require(ctx)?;
        if r.dc_id == ctx.dc_id || !self.dcs.iter().any(|d| d.id == r.dc_id && !d.cdn) {
            return Err(RpcError::bad_request("DC_ID_INVALID"));
        }
        let id = (ctx.rng.next_u64() >> 1) as i64;
        let mut token = vec![0u8; 32];
        ctx.rng.fill_bytes(&mut token);
        let token = Bytes::from(token);
        self.accounts().export(id, token.clone(), me);
        serialize(&enums::auth::ExportedAuthorization::ExportedAuthorization(
            types::auth::ExportedAuthorization { id, bytes: token },
        ))
    }

    fn import_auth(
        &self,
        ctx: &Ctx<'_>,
        r: functions::auth::ImportAuthorization,
    ) -> Result<Vec<u8>, RpcError> {
        let account = self.accounts().import(ctx.auth_key_id, r.id, &r.bytes)?;
        self.authorization(ctx, account)
    }
}

/// Message ids a `messages.getHistory` returns, newest first, from the ids that exist.
pub fn history_ids(
    ids: impl DoubleEndedIterator<Item = i32>,
    r: &functions::messages::GetHistory,
) -> Vec<i32> {
    let newest_first: Vec<i32> = ids
        .rev()
        .filter(|&id| r.max_id <= 0 || id < r.max_id)
        .filter(|&id| id > r.min_id)
        .collect();
    let start = if r.offset_id > 0 {
        newest_first
            .iter()
            .position(|&id| id < r.offset_id)
            .unwrap_or(newest_first.len())
    } else {
        0
    };
    let start =
        (start as i64 + i64::from(r.add_offset)).clamp(0, newest_first.len() as i64) as usize;
    let limit = if r.limit <= 0 {
        20
    } else {
        (r.limit as usize).min(MAX_HISTORY)
    };
    newest_first.into_iter().skip(start).take(limit).collect()
}

fn internal(e: std::io::Error) -> RpcError {
    RpcError::new(
        500,
        format!("FILE_READ_FAILED: {e}")
            .replace(' ', "_")
            .to_uppercase(),
    )
}

/// Reads one part of a document from disk.
pub fn read_document(d: &Document, part: Part) -> Result<Bytes, RpcError> {
    let f = File::open(&d.path).map_err(internal)?;
    read_part(&f, d.size, part).map_err(internal)
}

/// SHA-256 of the 128 KiB parts of a document starting at the part holding `offset`, for up to
/// one 1 MiB block (what `upload.getFileHashes` answers).
pub fn file_hashes(d: &Document, offset: u64) -> Result<Vec<enums::FileHash>, RpcError> {
    let f = File::open(&d.path).map_err(internal)?;
    let mut out = Vec::new();
    let mut at = offset / HASH_PART * HASH_PART;
    while at < d.size && out.len() < 8 {
        let part = Part {
            offset: at,
            limit: HASH_PART as u32,
        };
        let bytes = read_part(&f, d.size, part).map_err(internal)?;
        out.push(enums::FileHash::FileHash(types::FileHash {
            offset: at as i64,
            limit: bytes.len() as i32,
            hash: Bytes::from(Sha256::digest(&bytes).to_vec()),
        }));
        at += HASH_PART;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tl::RemoteCall;

    struct Fixture {
        world: World,
        dir: std::path::PathBuf,
        data: Vec<u8>,
    }

    impl Drop for Fixture {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }

    fn fixture(name: &str, faults: &str) -> Fixture {
        fixture_with(name, faults, false)
    }

    /// A fixture with a CDN DC 201 (public key "CDN KEY PEM").
    fn cdn_fixture(name: &str, faults: &str) -> Fixture {
        fixture_with(name, faults, true)
    }

    fn fixture_with(name: &str, faults: &str, cdn: bool) -> Fixture {
        let dir = std::env::temp_dir().join(format!("tgmux-handler-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("chan")).unwrap();
        let data: Vec<u8> = (0..(2 * 1024 * 1024 + 5000u32))
            .map(|i| (i % 251) as u8)
            .collect();
        std::fs::write(dir.join("chan/2.mp4"), &data).unwrap();
        std::fs::write(dir.join("chan/3.mkv"), b"three").unwrap();
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
        let mut world = World::new(library, dcs, FaultSpec::parse(faults).unwrap());
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

    struct Client<'w> {
        world: &'w World,
        dc: i32,
        key: i64,
        now: u64,
        faults: Faults,
        rng: rand::rngs::StdRng,
    }

    fn client(world: &World, dc: i32, key: i64) -> Client<'_> {
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
        fn raw(&mut self, body: Vec<u8>) -> Reply {
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

        fn call<F: RemoteCall>(&mut self, f: &F) -> Result<F::Return, RpcError> {
            match self.raw(f.to_bytes()) {
                Reply::Result(v) => Ok(F::Return::from_bytes(v)
                    .expect("our answer decodes as the declared return type")),
                Reply::Error(e) => Err(e),
                Reply::Drop => panic!("dropped"),
            }
        }

        fn login_bot(&mut self) {
            self.call(&functions::auth::ImportBotAuthorization {
                flags: 0,
                api_id: 1,
                api_hash: "x".into(),
                bot_auth_token: "123:abc".into(),
            })
            .unwrap();
        }

        fn message(&mut self, id: i32) -> types::Document {
            let c = self.world.library.channel_by_username("chan").unwrap();
            let r = self
                .call(&functions::channels::GetMessages {
                    channel: enums::InputChannel::InputChannel(types::InputChannel {
                        channel_id: c.id,
                        access_hash: c.access_hash,
                    }),
                    id: vec![enums::InputMessage::InputMessageId(types::InputMessageId {
                        id,
                    })],
                })
                .unwrap();
            let enums::messages::Messages::ChannelMessages(m) = r else {
                panic!("channelMessages expected")
            };
            let enums::Message::Message(msg) = &m.messages[0] else {
                panic!("a message expected")
            };
            let Some(enums::MessageMedia::MessageMediaDocument(md)) = &msg.media else {
                panic!("a document expected")
            };
            let Some(enums::Document::Document(d)) = &md.document else {
                panic!()
            };
            d.clone()
        }

        fn get_file_cdn(
            &mut self,
            d: &types::Document,
            offset: i64,
            limit: i32,
        ) -> Result<enums::upload::File, RpcError> {
            self.call(&functions::upload::GetFile {
                precise: false,
                cdn_supported: true,
                location: enums::InputFileLocation::InputDocumentFileLocation(
                    types::InputDocumentFileLocation {
                        id: d.id,
                        access_hash: d.access_hash,
                        file_reference: d.file_reference.clone(),
                        thumb_size: String::new(),
                    },
                ),
                offset,
                limit,
            })
        }

        fn redirect(&mut self, d: &types::Document) -> types::upload::FileCdnRedirect {
            match self.get_file_cdn(d, 0, 1 << 20).unwrap() {
                enums::upload::File::FileCdnRedirect(r) => r,
                other => panic!("a redirect expected, got {other:?}"),
            }
        }

        fn get_cdn_file(
            &mut self,
            token: &[u8],
            offset: i64,
            limit: i32,
        ) -> Result<enums::upload::CdnFile, RpcError> {
            self.call(&functions::upload::GetCdnFile {
                file_token: Bytes::copy_from_slice(token),
                offset,
                limit,
            })
        }

        fn get_file(
            &mut self,
            d: &types::Document,
            offset: i64,
            limit: i32,
            precise: bool,
        ) -> Result<Bytes, RpcError> {
            let r = self.call(&functions::upload::GetFile {
                precise,
                cdn_supported: false,
                location: enums::InputFileLocation::InputDocumentFileLocation(
                    types::InputDocumentFileLocation {
                        id: d.id,
                        access_hash: d.access_hash,
                        file_reference: d.file_reference.clone(),
                        thumb_size: String::new(),
                    },
                ),
                offset,
                limit,
            })?;
            match r {
                enums::upload::File::File(f) => Ok(f.bytes),
                other => panic!("unexpected {other:?}"),
            }
        }
    }

    fn wrapped<F: Serializable>(f: F) -> Vec<u8> {
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

    #[test]
    fn config_through_wrappers_and_unknown_methods() {
        let fx = fixture("config", "");
        let mut c = client(&fx.world, 2, 1);
        let Reply::Result(v) = c.raw(wrapped(functions::help::GetConfig {})) else {
            panic!()
        };
        let enums::Config::Config(cfg) = enums::Config::from_bytes(v).unwrap();
        assert_eq!(cfg.this_dc, 2);
        assert_eq!(cfg.dc_options.len(), 3);
        let enums::DcOption::DcOption(o) = &cfg.dc_options[2];
        assert_eq!(
            (o.id, o.ip_address.as_str(), o.port),
            (3, "127.0.0.1", 40003)
        );
        // An unknown method, an empty body and garbage never hang: proper rpc_errors.
        assert_eq!(
            c.raw(wrapped(functions::help::GetAppConfig { hash: 0 })),
            Reply::Error(RpcError::method_invalid())
        );
        assert_eq!(
            c.raw(vec![]),
            Reply::Error(RpcError::bad_request("INPUT_REQUEST_INVALID"))
        );
        let mut truncated = functions::upload::GetFile::CONSTRUCTOR_ID
            .to_le_bytes()
            .to_vec();
        truncated.push(1);
        assert_eq!(
            c.raw(truncated),
            Reply::Error(RpcError::bad_request("INPUT_REQUEST_INVALID"))
        );
    }

    #[test]
    fn bot_login_resolve_and_download_across_dcs() {
        let fx = fixture("download", "");
        let mut home = client(&fx.world, 1, 10);
        assert_eq!(
            home.call(&functions::updates::GetState {})
                .unwrap_err()
                .message,
            "AUTH_KEY_UNREGISTERED"
        );
        home.login_bot();
        home.call(&functions::updates::GetState {}).unwrap();
        let users = home
            .call(&functions::users::GetUsers {
                id: vec![enums::InputUser::InputUserSelf(types::InputUserSelf {})],
            })
            .unwrap();
        let enums::User::User(me) = &users[0] else {
            panic!()
        };
        assert!(me.is_self && me.bot && me.id == 123);
        let resolved = home
            .call(&functions::contacts::ResolveUsername {
                username: "chan".into(),
                referer: None,
            })
            .unwrap();
        let enums::contacts::ResolvedPeer::ResolvedPeer(rp) = resolved;
        assert_eq!(
            rp.peer,
            enums::Peer::PeerChannel(types::PeerChannel {
                channel_id: crate::localdc::ids::channel_id("chan")
            })
        );
        assert_eq!(
            home.call(&functions::contacts::ResolveUsername {
                username: "nope".into(),
                referer: None
            })
            .unwrap_err()
            .message,
            "USERNAME_NOT_OCCUPIED"
        );
        let doc = home.message(2);
        assert_eq!((doc.dc_id, doc.size), (2, fx.data.len() as i64));
        // Asking DC 1 for a DC 2 file: FILE_MIGRATE_2.
        assert_eq!(
            home.get_file(&doc, 0, 1 << 20, false).unwrap_err(),
            RpcError::file_migrate(2)
        );
        // Export from DC 1, import on DC 2 with another key, download there.
        let enums::auth::ExportedAuthorization::ExportedAuthorization(ex) = home
            .call(&functions::auth::ExportAuthorization { dc_id: 2 })
            .unwrap();
        let mut media = client(&fx.world, 2, 20);
        assert_eq!(
            media.get_file(&doc, 0, 1 << 20, false).unwrap_err().message,
            "AUTH_KEY_UNREGISTERED"
        );
        media
            .call(&functions::auth::ImportAuthorization {
                id: ex.id,
                bytes: ex.bytes.clone(),
            })
            .unwrap();
        let mut got = Vec::new();
        let mut offset = 0i64;
        loop {
            let part = media.get_file(&doc, offset, 512 * 1024, false).unwrap();
            got.extend_from_slice(&part);
            if part.len() < 512 * 1024 {
                break;
            }
            offset += 512 * 1024;
        }
        assert_eq!(got, fx.data);
        // Precise parts and the rules.
        assert_eq!(
            &media.get_file(&doc, 3072, 5120, true).unwrap()[..],
            &fx.data[3072..8192]
        );
        assert_eq!(
            media.get_file(&doc, 3072, 4096, false).unwrap_err(),
            RpcError::offset_invalid()
        );
        assert_eq!(
            media.get_file(&doc, 0, 3 * 4096, false).unwrap_err(),
            RpcError::limit_invalid()
        );
        assert_eq!(
            media
                .get_file(&doc, (1 << 20) - 4096, 8192, false)
                .unwrap_err(),
            RpcError::limit_invalid()
        );
        assert!(media
            .get_file(&doc, 8 << 20, 4096, false)
            .unwrap()
            .is_empty());
        let mut bad = doc.clone();
        bad.access_hash ^= 1;
        assert_eq!(
            media.get_file(&bad, 0, 4096, false).unwrap_err().message,
            "FILE_ID_INVALID"
        );
        // Hashes of the first 128 KiB parts.
        let hashes = media
            .call(&functions::upload::GetFileHashes {
                location: enums::InputFileLocation::InputDocumentFileLocation(
                    types::InputDocumentFileLocation {
                        id: doc.id,
                        access_hash: doc.access_hash,
                        file_reference: doc.file_reference.clone(),
                        thumb_size: String::new(),
                    },
                ),
                offset: 200_000,
            })
            .unwrap();
        let enums::FileHash::FileHash(h0) = &hashes[0];
        assert_eq!((h0.offset, h0.limit), (131072, 131072));
        assert_eq!(&h0.hash[..], &Sha256::digest(&fx.data[131072..262144])[..]);
        // Single-use export tokens; same-DC export is DC_ID_INVALID.
        let mut third = client(&fx.world, 2, 30);
        assert_eq!(
            third
                .call(&functions::auth::ImportAuthorization {
                    id: ex.id,
                    bytes: ex.bytes
                })
                .unwrap_err()
                .message,
            "AUTH_BYTES_INVALID"
        );
        assert_eq!(
            home.call(&functions::auth::ExportAuthorization { dc_id: 1 })
                .unwrap_err()
                .message,
            "DC_ID_INVALID"
        );
        // History: newest first.
        let c = fx.world.library.channel_by_username("chan").unwrap();
        let h = home
            .call(&functions::messages::GetHistory {
                peer: enums::InputPeer::InputPeerChannel(types::InputPeerChannel {
                    channel_id: c.id,
                    access_hash: c.access_hash,
                }),
                offset_id: 0,
                offset_date: 0,
                add_offset: 0,
                limit: 10,
                max_id: 0,
                min_id: 0,
                hash: 0,
            })
            .unwrap();
        let enums::messages::Messages::ChannelMessages(h) = h else {
            panic!()
        };
        let ids: Vec<i32> = h
            .messages
            .iter()
            .map(|m| match m {
                enums::Message::Message(m) => m.id,
                _ => 0,
            })
            .collect();
        assert_eq!(ids, vec![3, 2]);
        home.call(&functions::auth::LogOut {}).unwrap();
        assert!(home.call(&functions::updates::GetState {}).is_err());
    }

    #[test]
    fn migrate_fault_announces_the_asked_dc() {
        let fx = fixture("migrate", "migrate");
        let mut c = client(&fx.world, 3, 1);
        c.login_bot();
        let doc = c.message(2);
        assert_eq!(doc.dc_id, 3, "announced on the asked DC");
        assert_eq!(
            c.get_file(&doc, 0, 4096, false).unwrap_err(),
            RpcError::file_migrate(2)
        );
        let e = c.call(&functions::auth::SendCode {
            phone_number: "9996611234".into(),
            api_id: 1,
            api_hash: "x".into(),
            settings: enums::CodeSettings::CodeSettings(types::CodeSettings {
                allow_flashcall: false,
                current_number: false,
                allow_app_hash: false,
                allow_missed_call: false,
                allow_firebase: false,
                unknown_number: false,
                logout_tokens: None,
                token: None,
                app_sandbox: None,
            }),
        });
        assert_eq!(e.unwrap_err(), RpcError::phone_migrate(1));
    }

    #[test]
    fn expired_file_references() {
        let fx = fixture("refs", "expire-refs=10");
        let mut c = client(&fx.world, 2, 1);
        c.login_bot();
        let doc = c.message(2);
        c.get_file(&doc, 0, 4096, false).unwrap();
        c.now += 10;
        assert_eq!(
            c.get_file(&doc, 0, 4096, false).unwrap_err().message,
            "FILE_REFERENCE_EXPIRED"
        );
        let fresh = c.message(2);
        assert_ne!(fresh.file_reference, doc.file_reference);
        c.get_file(&fresh, 0, 4096, false).unwrap();
    }

    #[test]
    fn flood_waits_only_on_file_requests() {
        let fx = fixture("flood", "flood=1:3");
        let mut c = client(&fx.world, 2, 1);
        c.login_bot();
        let doc = c.message(2);
        assert_eq!(
            c.get_file(&doc, 0, 4096, false).unwrap_err(),
            RpcError::flood_wait(3)
        );
        let fx = fixture("pflood", "premium-flood=1:5");
        let mut c = client(&fx.world, 2, 1);
        c.login_bot();
        let doc = c.message(2);
        assert_eq!(
            c.get_file(&doc, 0, 4096, false).unwrap_err(),
            RpcError::premium_flood_wait(5)
        );
        let fx = fixture("drop", "drop=1");
        let mut c = client(&fx.world, 2, 1);
        assert_eq!(c.raw(functions::help::GetConfig {}.to_bytes()), Reply::Drop);
    }

    #[test]
    fn user_login_with_test_phone() {
        let fx = fixture("user", "");
        let mut c = client(&fx.world, 1, 1);
        let settings = enums::CodeSettings::CodeSettings(types::CodeSettings {
            allow_flashcall: false,
            current_number: false,
            allow_app_hash: false,
            allow_missed_call: false,
            allow_firebase: false,
            unknown_number: false,
            logout_tokens: None,
            token: None,
            app_sandbox: None,
        });
        let enums::auth::SentCode::SentCode(sent) = c
            .call(&functions::auth::SendCode {
                phone_number: "+9996621234".into(),
                api_id: 1,
                api_hash: "x".into(),
                settings,
            })
            .unwrap()
        else {
            panic!()
        };
        let sign_in = |code: &str| functions::auth::SignIn {
            phone_number: "9996621234".into(),
            phone_code_hash: sent.phone_code_hash.clone(),
            phone_code: Some(code.into()),
            email_verification: None,
        };
        assert_eq!(
            c.call(&sign_in("11111")).unwrap_err().message,
            "PHONE_CODE_INVALID"
        );
        let enums::auth::Authorization::Authorization(a) = c.call(&sign_in("22222")).unwrap()
        else {
            panic!()
        };
        let enums::User::User(u) = a.user else {
            panic!()
        };
        assert!(!u.bot && u.phone.as_deref() == Some("9996621234"));
    }

    #[test]
    fn history_windows() {
        let r = |offset_id, add_offset, limit, max_id, min_id| functions::messages::GetHistory {
            peer: enums::InputPeer::InputPeerEmpty(types::InputPeerEmpty {}),
            offset_id,
            offset_date: 0,
            add_offset,
            limit,
            max_id,
            min_id,
            hash: 0,
        };
        let ids = [1, 2, 5, 9, 12];
        assert_eq!(
            history_ids(ids.into_iter(), &r(0, 0, 10, 0, 0)),
            vec![12, 9, 5, 2, 1]
        );
        assert_eq!(history_ids(ids.into_iter(), &r(9, 0, 2, 0, 0)), vec![5, 2]);
        assert_eq!(history_ids(ids.into_iter(), &r(9, -1, 2, 0, 0)), vec![9, 5]);
        assert_eq!(history_ids(ids.into_iter(), &r(0, 0, 10, 9, 1)), vec![5, 2]);
    }

    /// AES-256-CTR decryption as core.telegram.org/cdn describes it, written against the `aes`
    /// and `ctr` crates directly (not our `crate::crypto::ctr`).
    fn cdn_decrypt(key: &[u8], iv: &[u8], offset: i64, data: &[u8]) -> Vec<u8> {
        use aes::cipher::{KeyIvInit, StreamCipher};
        let mut counter = [0u8; 16];
        counter[..12].copy_from_slice(&iv[..12]);
        counter[12..].copy_from_slice(&((offset / 16) as u32).to_be_bytes());
        let mut cipher = ::ctr::Ctr128BE::<aes::Aes256>::new_from_slices(key, &counter).unwrap();
        let mut out = data.to_vec();
        cipher.apply_keystream(&mut out);
        out
    }

    fn cdn_bytes(r: Result<enums::upload::CdnFile, RpcError>) -> Bytes {
        match r.unwrap() {
            enums::upload::CdnFile::CdnFile(f) => f.bytes,
            other => panic!("cdnFile expected, got {other:?}"),
        }
    }

    fn hashes_of(v: &[enums::FileHash]) -> Vec<(i64, i32, Vec<u8>)> {
        v.iter()
            .map(|enums::FileHash::FileHash(h)| (h.offset, h.limit, h.hash.to_vec()))
            .collect()
    }

    /// The expected hashes: 128 KiB parts of `data` from the part holding `offset`, at most 8.
    fn expected_hashes(data: &[u8], offset: usize) -> Vec<(i64, i32, Vec<u8>)> {
        let part = HASH_PART as usize;
        (offset / part * part..data.len())
            .step_by(part)
            .take(8)
            .map(|at| {
                let end = (at + part).min(data.len());
                let h = Sha256::digest(&data[at..end]).to_vec();
                (at as i64, (end - at) as i32, h)
            })
            .collect()
    }

    #[test]
    fn cdn_redirect_only_for_large_documents_that_ask_for_it() {
        let fx = cdn_fixture("cdn-redirect", "");
        let mut home = client(&fx.world, 2, 1);
        home.login_bot();
        let big = home.message(2);
        let r = home.redirect(&big);
        assert_eq!(r.dc_id, 201);
        assert_eq!((r.encryption_key.len(), r.encryption_iv.len()), (32, 16));
        assert_eq!(r.file_token.len(), 32);
        assert_eq!(hashes_of(&r.file_hashes), expected_hashes(&fx.data, 0));
        // Stable: the same token and secrets again, and from a second world over the same media.
        assert_eq!(home.redirect(&big), r);
        let fx2 = cdn_fixture("cdn-redirect2", "");
        let mut other = client(&fx2.world, 2, 5);
        other.login_bot();
        assert_eq!(other.redirect(&big), r);
        // The part rules still come first.
        assert_eq!(
            home.get_file_cdn(&big, 1024, 4096).unwrap_err(),
            RpcError::offset_invalid()
        );
        // Not the home DC: FILE_MIGRATE as without a CDN.
        let mut dc1 = client(&fx.world, 1, 2);
        dc1.login_bot();
        assert_eq!(
            dc1.get_file_cdn(&big, 0, 4096).unwrap_err(),
            RpcError::file_migrate(2)
        );
        // Without cdn_supported: the bytes themselves.
        assert_eq!(
            &home.get_file(&big, 0, 4096, false).unwrap()[..],
            &fx.data[..4096]
        );
        // A small document ("three", on DC 3): never redirected.
        let mut dc3 = client(&fx.world, 3, 3);
        dc3.login_bot();
        let small = dc3.message(3);
        match dc3.get_file_cdn(&small, 0, 4096).unwrap() {
            enums::upload::File::File(f) => assert_eq!(&f.bytes[..], b"three"),
            other => panic!("bytes expected, got {other:?}"),
        }
        // Without --cdn: no redirect even when asked.
        let plain = fixture("cdn-off", "");
        let mut c = client(&plain.world, 2, 1);
        c.login_bot();
        assert!(matches!(
            c.get_file_cdn(&big, 0, 4096).unwrap(),
            enums::upload::File::File(_)
        ));
        let enums::CdnConfig::CdnConfig(none) = c.call(&functions::help::GetCdnConfig {}).unwrap();
        assert!(none.public_keys.is_empty());
    }

    #[test]
    fn cdn_dc_is_announced_and_serves_only_get_cdn_file() {
        let fx = cdn_fixture("cdn-config", "");
        let mut home = client(&fx.world, 1, 1);
        let enums::Config::Config(cfg) = home.call(&functions::help::GetConfig {}).unwrap();
        let cdns: Vec<_> = cfg
            .dc_options
            .iter()
            .map(|enums::DcOption::DcOption(o)| (o.id, o.port, o.cdn))
            .collect();
        assert_eq!(
            cdns,
            vec![
                (1, 40001, false),
                (2, 40002, false),
                (3, 40003, false),
                (201, 40004, true)
            ]
        );
        let enums::CdnConfig::CdnConfig(cc) = home.call(&functions::help::GetCdnConfig {}).unwrap();
        let [enums::CdnPublicKey::CdnPublicKey(k)] = &cc.public_keys[..] else {
            panic!("one key expected")
        };
        assert_eq!((k.dc_id, k.public_key.as_str()), (201, "CDN KEY PEM"));
        // The CDN DC: no users, no other methods, no exports to it.
        let mut cdn = client(&fx.world, 201, 2);
        for other in [
            wrapped(functions::help::GetConfig {}),
            functions::updates::GetState {}.to_bytes(),
            functions::auth::ImportBotAuthorization {
                flags: 0,
                api_id: 1,
                api_hash: "x".into(),
                bot_auth_token: "123:abc".into(),
            }
            .to_bytes(),
        ] {
            assert_eq!(
                cdn.raw(other),
                Reply::Error(RpcError::bad_request("CDN_METHOD_INVALID"))
            );
        }
        home.login_bot();
        assert_eq!(
            home.call(&functions::auth::ExportAuthorization { dc_id: 201 })
                .unwrap_err()
                .message,
            "DC_ID_INVALID"
        );
        // getCdnFile on a regular DC is not a method there.
        assert_eq!(
            home.get_cdn_file(&[0u8; 32], 0, 4096).unwrap_err(),
            RpcError::method_invalid()
        );
    }

    #[test]
    fn cdn_parts_decrypt_to_the_file() {
        let fx = cdn_fixture("cdn-parts", "");
        let mut home = client(&fx.world, 2, 1);
        home.login_bot();
        let doc = home.message(2);
        let r = home.redirect(&doc);
        // A key never logged in: the CDN does not know users.
        let mut cdn = client(&fx.world, 201, 99);
        let size = fx.data.len() as i64;
        for (offset, limit) in [
            (0, 131072),
            (131072 * 3, 131072),
            (4096, 4096),
            (1 << 20, 1 << 20),
            (2 << 20, 1 << 20), // the last, partial part (5000 bytes)
            (size / 4096 * 4096, 4096),
        ] {
            let enc = cdn_bytes(cdn.get_cdn_file(&r.file_token, offset, limit));
            let end = (offset + i64::from(limit)).min(size);
            let want = &fx.data[offset as usize..end as usize];
            assert_eq!(enc.len(), want.len(), "length at {offset}");
            assert_ne!(&enc[..], want, "encrypted at {offset}");
            assert_eq!(
                cdn_decrypt(&r.encryption_key, &r.encryption_iv, offset, &enc),
                want,
                "plaintext at {offset}"
            );
        }
        // Past the end: empty.
        assert!(cdn_bytes(cdn.get_cdn_file(&r.file_token, 4 << 20, 4096)).is_empty());
        // The getFile part rules (without precise).
        for (offset, limit, err) in [
            (1024, 4096, RpcError::offset_invalid()),
            (-4096, 4096, RpcError::offset_invalid()),
            (0, 1024, RpcError::limit_invalid()),
            (0, 3 * 4096, RpcError::limit_invalid()),
            (0, 0, RpcError::limit_invalid()),
            (0, 2 << 20, RpcError::limit_invalid()),
            ((1 << 20) - 4096, 8192, RpcError::limit_invalid()),
        ] {
            assert_eq!(
                cdn.get_cdn_file(&r.file_token, offset, limit).unwrap_err(),
                err,
                "{offset} {limit}"
            );
        }
        // Bad tokens.
        let small = fx
            .world
            .library
            .channel_by_username("chan")
            .unwrap()
            .messages[&3]
            .clone();
        let small_token = crate::localdc::ids::cdn_file_token(small.id, "chan", "3.mkv");
        let mut forged = r.file_token.to_vec();
        forged[31] ^= 1;
        for bad in [
            &[][..],
            &r.file_token[..31],
            &forged[..],
            &small_token[..],
            &[0u8; 32][..],
        ] {
            assert_eq!(
                cdn.get_cdn_file(bad, 0, 4096).unwrap_err().message,
                "FILE_TOKEN_INVALID"
            );
        }
        // Garbage request body: a typed error.
        let mut truncated = functions::upload::GetCdnFile::CONSTRUCTOR_ID
            .to_le_bytes()
            .to_vec();
        truncated.extend_from_slice(&[1, 2, 3]);
        assert_eq!(
            cdn.raw(truncated),
            Reply::Error(RpcError::bad_request("INPUT_REQUEST_INVALID"))
        );
    }

    #[test]
    fn cdn_file_hashes_match_the_plaintext() {
        let fx = cdn_fixture("cdn-hashes", "");
        let mut home = client(&fx.world, 2, 1);
        let hashes = |c: &mut Client<'_>, token: &[u8], offset: i64| {
            c.call(&functions::upload::GetCdnFileHashes {
                file_token: Bytes::copy_from_slice(token),
                offset,
            })
        };
        let token = crate::localdc::ids::cdn_file_token(
            crate::localdc::ids::document_id("chan", "2.mp4"),
            "chan",
            "2.mp4",
        );
        assert_eq!(
            hashes(&mut home, &token, 0).unwrap_err(),
            RpcError::unauthorized()
        );
        home.login_bot();
        let doc = home.message(2);
        let r = home.redirect(&doc);
        assert_eq!(&r.file_token[..], &token[..]);
        for offset in [0usize, 200_000, (1 << 20) + 1, 2 << 20] {
            let got = hashes(&mut home, &token, offset as i64).unwrap();
            assert_eq!(
                hashes_of(&got),
                expected_hashes(&fx.data, offset),
                "{offset}"
            );
        }
        // The last part is short.
        let last = hashes(&mut home, &token, 2 << 20).unwrap();
        assert_eq!(hashes_of(&last)[0].1, 5000);
        assert!(hashes(&mut home, &token, 8 << 20).unwrap().is_empty());
        assert_eq!(
            hashes(&mut home, &token, -1).unwrap_err(),
            RpcError::offset_invalid()
        );
        assert_eq!(
            hashes(&mut home, &[7u8; 32], 0).unwrap_err().message,
            "FILE_TOKEN_INVALID"
        );
        let mut dc1 = client(&fx.world, 1, 2);
        dc1.login_bot();
        assert_eq!(
            hashes(&mut dc1, &token, 0).unwrap_err(),
            RpcError::file_migrate(2)
        );
        let mut cdn = client(&fx.world, 201, 3);
        assert_eq!(
            hashes(&mut cdn, &token, 0).unwrap_err().message,
            "CDN_METHOD_INVALID"
        );
    }

    #[test]
    fn cdn_reupload_then_download() {
        let fx = cdn_fixture("cdn-reupload", "reupload=1");
        let mut home = client(&fx.world, 2, 1);
        home.login_bot();
        let doc = home.message(2);
        let r = home.redirect(&doc);
        let mut cdn = client(&fx.world, 201, 7);
        let offset = 3 * 131072;
        let request_token = match cdn.get_cdn_file(&r.file_token, offset, 131072).unwrap() {
            enums::upload::CdnFile::CdnFileReuploadNeeded(n) => n.request_token,
            other => panic!("a reupload request expected, got {other:?}"),
        };
        assert!(!request_token.is_empty());
        // Still missing (same request token) until reuploaded, from any connection.
        let mut cdn2 = client(&fx.world, 201, 8);
        assert_eq!(
            cdn2.get_cdn_file(&r.file_token, 0, 4096).unwrap(),
            enums::upload::CdnFile::CdnFileReuploadNeeded(types::upload::CdnFileReuploadNeeded {
                request_token: request_token.clone()
            })
        );
        let reupload = |c: &mut Client<'_>, token: &[u8]| {
            c.call(&functions::upload::ReuploadCdnFile {
                file_token: r.file_token.clone(),
                request_token: Bytes::copy_from_slice(token),
            })
        };
        let mut wrong = request_token.to_vec();
        wrong[0] ^= 1;
        assert_eq!(
            reupload(&mut home, &wrong).unwrap_err().message,
            "REQUEST_TOKEN_INVALID"
        );
        let mut dc1 = client(&fx.world, 1, 2);
        dc1.login_bot();
        assert_eq!(
            reupload(&mut dc1, &request_token).unwrap_err(),
            RpcError::file_migrate(2)
        );
        // The right token on the home DC: the hashes of the block that failed.
        let got = reupload(&mut home, &request_token).unwrap();
        assert_eq!(hashes_of(&got), expected_hashes(&fx.data, offset as usize));
        // Now served, though the fault fires always.
        let enc = cdn_bytes(cdn.get_cdn_file(&r.file_token, offset, 131072));
        assert_eq!(
            cdn_decrypt(&r.encryption_key, &r.encryption_iv, offset, &enc),
            &fx.data[offset as usize..offset as usize + 131072]
        );
        // A used request token is spent.
        assert_eq!(
            reupload(&mut home, &request_token).unwrap_err().message,
            "REQUEST_TOKEN_INVALID"
        );
    }

    #[test]
    fn cdn_file_requests_get_flood_and_drop_faults() {
        let token = crate::localdc::ids::cdn_file_token(
            crate::localdc::ids::document_id("chan", "2.mp4"),
            "chan",
            "2.mp4",
        );
        let fx = cdn_fixture("cdn-flood", "flood=1:3");
        let mut cdn = client(&fx.world, 201, 1);
        assert_eq!(
            cdn.get_cdn_file(&token, 0, 4096).unwrap_err(),
            RpcError::flood_wait(3)
        );
        let fx = cdn_fixture("cdn-drop", "drop=1");
        let mut cdn = client(&fx.world, 201, 1);
        let body = functions::upload::GetCdnFile {
            file_token: Bytes::copy_from_slice(&token),
            offset: 0,
            limit: 4096,
        }
        .to_bytes();
        assert_eq!(cdn.raw(body), Reply::Drop);
        // Without faults the same request is served.
        let fx = cdn_fixture("cdn-nofault", "");
        let mut cdn = client(&fx.world, 201, 1);
        assert_eq!(cdn_bytes(cdn.get_cdn_file(&token, 0, 4096)).len(), 4096);
    }
}

#[cfg(test)]
mod password_tests {
    use super::*;
    use crate::crypto::srp::client_answer;
    use rand::SeedableRng;

    #[test]
    fn two_factor_login_with_srp() {
        let dir = std::env::temp_dir().join(format!("tgmux-handler-2fa-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut rng = rand::rngs::StdRng::seed_from_u64(5);
        let setup = PasswordSetup::new("hunter2", &mut rng);
        let world = World::new(
            Library::scan(&dir, 1).unwrap(),
            vec![],
            FaultSpec::default(),
        )
        .with_password(setup);
        let mut faults = Faults::new(FaultSpec::default(), 0, 1, 1);
        let mut call = |body: Vec<u8>, rng: &mut rand::rngs::StdRng| {
            let mut ctx = Ctx {
                dc_id: 1,
                auth_key_id: 77,
                now: 1_700_000_000,
                faults: &mut faults,
                rng,
                layer: None,
                method: 0,
            };
            world.handle(&mut ctx, Bytes::from(body))
        };
        let settings = enums::CodeSettings::CodeSettings(types::CodeSettings {
            allow_flashcall: false,
            current_number: false,
            allow_app_hash: false,
            allow_missed_call: false,
            allow_firebase: false,
            unknown_number: false,
            logout_tokens: None,
            token: None,
            app_sandbox: None,
        });
        let Reply::Result(v) = call(
            functions::auth::SendCode {
                phone_number: "9996611111".into(),
                api_id: 1,
                api_hash: "x".into(),
                settings,
            }
            .to_bytes(),
            &mut rng,
        ) else {
            panic!()
        };
        let enums::auth::SentCode::SentCode(sent) = enums::auth::SentCode::from_bytes(v).unwrap()
        else {
            panic!()
        };
        let sign_in = functions::auth::SignIn {
            phone_number: "9996611111".into(),
            phone_code_hash: sent.phone_code_hash,
            phone_code: Some("11111".into()),
            email_verification: None,
        };
        assert_eq!(
            call(sign_in.to_bytes(), &mut rng),
            Reply::Error(RpcError::new(401, "SESSION_PASSWORD_NEEDED"))
        );
        assert_eq!(
            call(functions::updates::GetState {}.to_bytes(), &mut rng),
            Reply::Error(RpcError::new(401, "SESSION_PASSWORD_NEEDED"))
        );
        let mut check = |password: &str, rng: &mut rand::rngs::StdRng| {
            let Reply::Result(v) = call(functions::account::GetPassword {}.to_bytes(), rng) else {
                panic!()
            };
            let enums::account::Password::Password(p) =
                enums::account::Password::from_bytes(v).unwrap();
            assert!(p.has_password);
            let Some(enums::PasswordKdfAlgo::PasswordKdfAlgoSha256Sha256Pbkdf2Hmacsha512iter100000Sha256ModPow(algo)) = p.current_algo else {
                panic!()
            };
            let answer = client_answer(
                algo.g as u32,
                &algo.p,
                password.as_bytes(),
                &algo.salt1,
                &algo.salt2,
                &p.srp_b.unwrap(),
                rng,
            )
            .unwrap();
            let req = functions::auth::CheckPassword {
                password: enums::InputCheckPasswordSrp::InputCheckPasswordSrp(
                    types::InputCheckPasswordSrp {
                        srp_id: p.srp_id.unwrap(),
                        a: Bytes::copy_from_slice(&answer.a),
                        m1: Bytes::copy_from_slice(&answer.m1),
                    },
                ),
            };
            call(req.to_bytes(), rng)
        };
        assert_eq!(
            check("wrong", &mut rng),
            Reply::Error(RpcError::bad_request("PASSWORD_HASH_INVALID"))
        );
        let Reply::Result(v) = check("hunter2", &mut rng) else {
            panic!("right password refused")
        };
        assert!(matches!(
            enums::auth::Authorization::from_bytes(v).unwrap(),
            enums::auth::Authorization::Authorization(_)
        ));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
