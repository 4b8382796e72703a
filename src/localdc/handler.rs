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
//!
//! This file is the dispatch table; the methods live by API area:
//! [`auth`] (logins, 2FA, exported authorizations), [`help`] (config, nearest DC, CDN keys),
//! [`chats`] (users, contacts, channels, messages), [`files`] (upload.*, the CDN), [`updates`].

mod auth;
mod chats;
mod files;
mod help;
#[cfg(test)]
mod testkit;
mod updates;

use std::collections::HashMap;
use std::sync::Mutex;

use bytes::Bytes;
use rand::RngCore;

use crate::crypto::srp::SrpServer;
use crate::tl::{functions, Deserializable, Identifiable, Raw, Serializable};

use super::accounts::{Account, Accounts};
use super::cdn::Cdn;
use super::error::ApiError;
use super::faults::{FaultSpec, Faults, RpcFault};
use super::fileref::FileRefs;
use super::media::Library;
use super::objects::DcAddress;
use super::stats::{Silent, Stats};
use crate::scale::bucket::TokenBucket;

pub(super) use auth::PasswordSetup;

/// Deepest nesting of invoke wrappers we unwrap.
const MAX_WRAPPERS: usize = 8;

/// The answer to one RPC.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// The serialised result (to wrap in `rpc_result`).
    Result(Vec<u8>),
    /// An `rpc_error`.
    Error(ApiError),
    /// Close the connection without answering (the `drop` fault).
    Drop,
    /// Never answer, keep the connection (the `stall` fault).
    Stall,
}

impl From<Result<Vec<u8>, ApiError>> for Reply {
    fn from(r: Result<Vec<u8>, ApiError>) -> Self {
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

impl Ctx<'_> {
    /// `now` as a TL date (seconds, saturated to i32).
    fn date(&self) -> i32 {
        self.now.min(i32::MAX as u64) as i32
    }
}

/// What all DCs of one `tgmux local-dc` process share.
#[derive(Debug)]
pub struct World {
    /// The media library.
    pub library: Library,
    /// The DCs announced by `help.getConfig` (regular ones, then the CDN DC if any).
    pub(crate) dcs: Vec<DcAddress>,
    /// The fault spec.
    pub(crate) faults: FaultSpec,
    /// File reference rules.
    pub refs: FileRefs,
    accounts: Mutex<Accounts>,
    password: Option<PasswordSetup>,
    /// The CDN DC, with `--cdn`.
    cdn: Option<Cdn>,
    /// Pending SRP checks per auth key: (srp_id, server half).
    srp: Mutex<HashMap<i64, (i64, SrpServer)>>,
    /// What was asked (`--stats-file`).
    stats: Stats,
    /// `rate=R`: one `upload.getFile` bucket per (account, DC).
    getfile_buckets: Mutex<HashMap<(i64, i32), TokenBucket>>,
}

fn serialize<T: Serializable>(v: &T) -> Result<Vec<u8>, ApiError> {
    let mut out = Vec::new();
    v.serialize(&mut out);
    Ok(out)
}

fn decode<T: Deserializable>(body: &Bytes) -> Result<T, ApiError> {
    T::from_bytes(body.clone()).map_err(|_| ApiError::bad_request("INPUT_REQUEST_INVALID"))
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
            stats: Stats::default(),
            getfile_buckets: Mutex::new(HashMap::new()),
        }
    }

    /// The request counters (`--stats-file`).
    pub(crate) fn stats(&self) -> &Stats {
        &self.stats
    }

    /// The same world with 2FA: user logins must pass an SRP check of `setup`'s password.
    pub(crate) fn with_password(mut self, setup: PasswordSetup) -> Self {
        self.password = Some(setup);
        self
    }

    /// The same world with a CDN DC at `dc` (announced last in `help.getConfig`, with the `cdn`
    /// flag) whose RSA public key is `public_key_pem` (PKCS#1 PEM).
    pub(crate) fn with_cdn(mut self, dc: DcAddress, public_key_pem: String) -> Self {
        self.cdn = Some(Cdn::new(dc.id, public_key_pem));
        self.dcs.push(DcAddress { cdn: true, ..dc });
        self
    }

    /// The CDN DC's id, with `--cdn`.
    pub(crate) fn cdn_dc_id(&self) -> Option<i32> {
        self.cdn.as_ref().map(|c| c.dc_id)
    }

    /// Number of regular (non-CDN) DCs.
    pub(crate) fn dc_count(&self) -> usize {
        self.dcs.iter().filter(|d| !d.cdn && !d.media_only).count()
    }

    fn accounts(&self) -> std::sync::MutexGuard<'_, Accounts> {
        // A panic while holding the lock cannot leave Accounts half-updated in a harmful way
        // (each method is a single insert/remove), so a poisoned lock is still usable.
        self.accounts.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The account behind this call's auth key, or 401.
    fn require(&self, ctx: &Ctx<'_>) -> Result<Account, ApiError> {
        self.accounts().require(ctx.auth_key_id).cloned()
    }

    /// Answers one RPC request `body` (a serialised TL function).
    pub fn handle(&self, ctx: &mut Ctx<'_>, body: Bytes) -> Reply {
        let mut body = body;
        for _ in 0..MAX_WRAPPERS {
            let Some(id) = constructor_id(&body) else {
                return Reply::Error(ApiError::bad_request("INPUT_REQUEST_INVALID"));
            };
            let inner: Result<Bytes, ApiError> = match id {
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
        Reply::Error(ApiError::bad_request("INPUT_REQUEST_INVALID"))
    }

    /// Counts the request, rolls the RPC faults, then calls the method `id`.
    fn dispatch(&self, ctx: &mut Ctx<'_>, id: u32, body: &Bytes) -> Reply {
        ctx.method = id;
        let account = self.accounts().require(ctx.auth_key_id).ok().map(|a| a.id);
        self.stats.request(id, ctx.dc_id, account);
        let is_file = id == functions::upload::GetFile::CONSTRUCTOR_ID
            || id == functions::upload::GetCdnFile::CONSTRUCTOR_ID;
        if id == functions::upload::GetFile::CONSTRUCTOR_ID {
            if let Some(account) = account {
                self.stats.get_file(account, ctx.dc_id);
                if let Some(wait) = self.rate_limited(account, ctx.dc_id) {
                    let message = format!("FLOOD_WAIT_{wait}");
                    self.stats.error(&message);
                    return Reply::Error(ApiError::new(420, message));
                }
            }
        }
        let r = match ctx.faults.for_rpc(is_file) {
            RpcFault::Drop => {
                self.stats.fault(Silent::Drop);
                return Reply::Drop;
            }
            RpcFault::Stall => {
                self.stats.fault(Silent::Stall);
                return Reply::Stall;
            }
            RpcFault::Flood(message) => Err(ApiError::new(420, message)),
            RpcFault::None if self.cdn_dc_id() == Some(ctx.dc_id) => self.call_cdn(ctx, id, body),
            RpcFault::None => self.call(ctx, id, body),
        };
        if let Err(e) = &r {
            self.stats.error(&e.message);
        }
        r.into()
    }

    /// `rate=R`: takes a token of `account`'s bucket on `dc`; without one, the whole seconds
    /// (at least 1) of the `FLOOD_WAIT_X` to answer.
    fn rate_limited(&self, account: i64, dc: i32) -> Option<u64> {
        let rate = self.faults.rate?;
        let now = std::time::Instant::now();
        let mut buckets = self
            .getfile_buckets
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let bucket = buckets
            .entry((account, dc))
            .or_insert_with(|| TokenBucket::new(rate, rate.max(1.0), now));
        match bucket.try_take(1.0, now) {
            Ok(()) => None,
            Err(wait) => Some(wait.as_secs_f64().ceil().max(1.0) as u64),
        }
    }

    /// The method table of the regular DCs.
    fn call(&self, ctx: &mut Ctx<'_>, id: u32, body: &Bytes) -> Result<Vec<u8>, ApiError> {
        use functions::{
            account as acc, auth, channels, contacts, help, messages, updates, upload, users,
        };
        match id {
            help::GetConfig::CONSTRUCTOR_ID => self.get_config(ctx),
            help::GetNearestDc::CONSTRUCTOR_ID => self.get_nearest_dc(ctx),
            help::GetCdnConfig::CONSTRUCTOR_ID => self.get_cdn_config(),
            updates::GetState::CONSTRUCTOR_ID => self.get_state(ctx),
            updates::GetDifference::CONSTRUCTOR_ID => self.get_difference(ctx),
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
            messages::GetReplies::CONSTRUCTOR_ID => {
                decode(body).and_then(|r| self.get_replies(ctx, r))
            }
            messages::GetDiscussionMessage::CONSTRUCTOR_ID => {
                decode(body).and_then(|r| self.get_discussion_message(ctx, r))
            }
            messages::GetDialogs::CONSTRUCTOR_ID => {
                decode(body).and_then(|r| self.get_dialogs(ctx, r))
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
            auth::LogOut::CONSTRUCTOR_ID => self.log_out(ctx),
            acc::GetPassword::CONSTRUCTOR_ID => self.get_password(ctx),
            auth::CheckPassword::CONSTRUCTOR_ID => {
                decode(body).and_then(|r| self.check_password(ctx, r))
            }
            _ => Err(ApiError::method_invalid()),
        }
    }

    /// The CDN DC knows no users and serves one method.
    fn call_cdn(&self, ctx: &mut Ctx<'_>, id: u32, body: &Bytes) -> Result<Vec<u8>, ApiError> {
        match id {
            functions::upload::GetCdnFile::CONSTRUCTOR_ID => {
                decode(body).and_then(|r| self.get_cdn_file(ctx, r))
            }
            _ => Err(ApiError::bad_request("CDN_METHOD_INVALID")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::testkit::*;
    use super::*;
    use crate::tl::{enums, types};
    use sha2::{Digest, Sha256};

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
            Reply::Error(ApiError::method_invalid())
        );
        assert_eq!(
            c.raw(vec![]),
            Reply::Error(ApiError::bad_request("INPUT_REQUEST_INVALID"))
        );
        let mut truncated = functions::upload::GetFile::CONSTRUCTOR_ID
            .to_le_bytes()
            .to_vec();
        truncated.push(1);
        assert_eq!(
            c.raw(truncated),
            Reply::Error(ApiError::bad_request("INPUT_REQUEST_INVALID"))
        );
    }

    #[test]
    fn drop_fault_closes_instead_of_answering() {
        let fx = fixture("drop", "drop=1");
        let mut c = client(&fx.world, 2, 1);
        assert_eq!(c.raw(functions::help::GetConfig {}.to_bytes()), Reply::Drop);
        assert!(fx
            .world
            .stats()
            .to_json(0)
            .contains("\"faults\": {\"drop\": 1, \"stall\": 0}"));
    }

    #[test]
    fn stall_fault_leaves_file_requests_unanswered() {
        let fx = fixture("stall", "stall=1");
        let mut c = client(&fx.world, 2, 1);
        c.login_bot();
        let doc = c.message(2);
        let get_file = functions::upload::GetFile {
            precise: false,
            cdn_supported: false,
            location: location(&doc),
            offset: 0,
            limit: 4096,
        };
        assert_eq!(c.raw(wrapped(get_file)), Reply::Stall);
        // Other requests are answered as usual.
        c.call(&functions::updates::GetState {}).unwrap();
        let json = fx.world.stats().to_json(0);
        assert!(json.contains("\"stall\": 1"), "{json}");
        assert!(json.contains("\"documents\": {}"), "nothing served: {json}");
    }

    #[test]
    fn stats_count_methods_dcs_accounts_errors_and_parts() {
        let fx = fixture("stats", "");
        let mut anon = client(&fx.world, 1, 7);
        anon.raw(wrapped(functions::help::GetConfig {}));
        let mut c = client(&fx.world, 2, 1);
        c.login_bot();
        let doc = c.message(2);
        for offset in [0, 1 << 20, 2 << 20, 3 << 20] {
            c.get_file(&doc, offset, 1 << 20, false).unwrap();
        }
        let mut dc1 = client(&fx.world, 1, 2);
        dc1.login_bot();
        dc1.get_file(&doc, 0, 4096, false).unwrap_err();
        let json = fx.world.stats().to_json(1_700_000_000_123);
        let size = fx.data.len();
        let id = doc.id;
        for want in [
            "{\"written_at_ms\": 1700000000123, \"requests\": 9, ".to_string(),
            "\"methods\": {\"auth.importBotAuthorization\": 2, \"channels.getMessages\": 1, \
             \"help.getConfig\": 1, \"upload.getFile\": 5}"
                .into(),
            "\"dcs\": {\"1\": 3, \"2\": 6}".into(),
            "\"accounts\": {\"none\": 3, \"123\": 6}".into(),
            "\"errors\": {\"FILE_MIGRATE_2\": 1}".into(),
            format!(
                "\"documents\": {{\"chan/2.mp4\": {{\"id\": {id}, \"dc\": 2, \"size\": {size}, \
                 \"parts\": 4, \"bytes\": {size}, \"cdn_parts\": 0, \"cdn_bytes\": 0}}}}"
            ),
            // getFile per account and DC (the refused one on DC 1 counts too).
            "\"get_file\": {\"123\": {\"1\": 1, \"2\": 4}}}\n".into(),
        ] {
            assert!(json.contains(&want), "{want}\nin\n{json}");
        }
    }

    /// One bot through every area: login, resolve, FILE_MIGRATE, export/import, download,
    /// hashes, history, logout.
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
            ApiError::file_migrate(2)
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
            ApiError::offset_invalid()
        );
        assert_eq!(
            media.get_file(&doc, 0, 3 * 4096, false).unwrap_err(),
            ApiError::limit_invalid()
        );
        assert_eq!(
            media
                .get_file(&doc, (1 << 20) - 4096, 8192, false)
                .unwrap_err(),
            ApiError::limit_invalid()
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
                location: location(&doc),
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
        let peer = enums::InputPeer::InputPeerChannel(types::InputPeerChannel {
            channel_id: c.id,
            access_hash: c.access_hash,
        });
        assert_eq!(home.history(peer), vec![3, 2]);
        home.call(&functions::auth::LogOut {}).unwrap();
        assert!(home.call(&functions::updates::GetState {}).is_err());
    }
}
