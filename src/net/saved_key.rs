//! Connecting with the key a session saved, and what a `-404` answer to it may change.
//!
//! Transport error `-404` ("auth key not found") is four unencrypted bytes: anyone on the path
//! can send them in place of the server's answer (the default transports are not obfuscated,
//! and obfuscation is no authentication either: its keys travel in the clear in the init).
//! So a `-404` is taken as a reason to make a new key for the connection at hand, never as
//! proof that the saved key is gone:
//!
//! - an **unauthorized** saved key (no login on it) is replaced by the new key, which is saved
//!   ([`KeyUse::Replaced`]): nothing but a key exchange is lost if the frame was forged;
//! - an **authorized** saved key stays in the session file, and the new key serves this run
//!   only ([`KeyUse::Temporary`]): it is not logged in, so calls that need the login fail
//!   until a login on it succeeds, which is an encrypted answer no one on the path can forge;
//!   only then does the new key take the saved key's place.

use super::client::{connect, ConnectOptions, Connected};
use super::InvokeError;
use crate::crypto::AuthKey;

/// The key a connection may start with: the session's for the DC.
#[derive(Clone, Debug)]
pub struct SavedKey {
    /// The key.
    pub key: AuthKey,
    /// The last server salt with it.
    pub server_salt: i64,
    /// Whether a login is on it (see the module docs).
    pub authorized: bool,
}

/// What became of the key a connection was given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyUse {
    /// The saved key works.
    Saved,
    /// There was no key: a new one was made, to be saved.
    New,
    /// The server answered -404 to an unauthorized key: a new one was made, to be saved in
    /// its place.
    Replaced,
    /// The server (or someone on the path) answered -404 to an authorized key: a new key for
    /// this run only; the saved one stays.
    Temporary,
}

impl KeyUse {
    /// Whether the connection's key is to be saved as the DC's key.
    pub fn save_key(self) -> bool {
        matches!(self, KeyUse::New | KeyUse::Replaced)
    }
}

/// Connects with `saved` when given, making a new key when there is none or the server
/// answers -404 to it; says which (see the module docs for what -404 may change).
pub async fn connect_saved(
    opts: &mut ConnectOptions,
    saved: Option<&SavedKey>,
) -> Result<(Connected, KeyUse), InvokeError> {
    let Some(saved) = saved else {
        opts.auth_key = None;
        opts.server_salt = 0;
        return Ok((connect(opts).await?, KeyUse::New));
    };
    opts.auth_key = Some(saved.key.clone());
    opts.server_salt = saved.server_salt;
    match connect(opts).await {
        Err(e) if e.is_auth_key_unknown() => {}
        other => return other.map(|c| (c, KeyUse::Saved)),
    }
    opts.auth_key = None;
    opts.server_salt = 0;
    let connected = connect(opts).await?;
    let used = if saved.authorized {
        KeyUse::Temporary
    } else {
        KeyUse::Replaced
    };
    Ok((connected, used))
}
