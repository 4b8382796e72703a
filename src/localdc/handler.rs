//! The API: one decoded request in, one answer out (sans-IO, synchronous).
//!
//! [`World`] holds what all DCs of the process share (the library, the logins, the DC list);
//! each call gets a [`Ctx`] with the connection's DC, auth key, clock, fault stream and random
//! source. [`World::handle`] unwraps `invokeWithLayer` / `initConnection` / `invokeAfterMsg(s)` /
//! `invokeWithoutUpdates`, rolls the RPC faults, dispatches by constructor id and returns a
//! [`Reply`]: the serialised result, an `rpc_error`, or "drop the connection". Every method we
//! do not serve gets 400 METHOD_INVALID; a body that does not decode gets 400
//! INPUT_REQUEST_INVALID. Nothing here blocks except the positional read of a file part.

use std::fs::File;
use std::sync::Mutex;

use bytes::Bytes;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::tl::{enums, functions, types, Deserializable, Identifiable, Raw, Serializable};

use super::accounts::{Account, Accounts, LoginState, TestPhone};
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
        }
    }

    /// Number of regular (non-CDN) DCs.
    pub fn dc_count(&self) -> usize {
        self.dcs.iter().filter(|d| !d.cdn).count()
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
                    public_keys: vec![],
                }))
            }
            updates::GetState::CONSTRUCTOR_ID => self.get_state(ctx),
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
            acc::GetPassword::CONSTRUCTOR_ID => Err(RpcError::method_invalid()),
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
        ctx: &Ctx<'_>,
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
        .map(|v| {
            let _ = ctx;
            v
        })
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
        self.channel_messages(ctx, c, messages, c.messages.len())
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
        self.channel_messages(ctx, c, messages, c.messages.len())
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
