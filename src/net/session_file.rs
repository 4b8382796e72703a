//! The session file: what a client must remember between runs.
//!
//! Auth keys per DC (so a second run makes no new key exchange), the home DC, the last server
//! salt per DC, the clock offset to the server, and who is logged in. It is a small versioned
//! binary file, all integers little-endian:
//!
//! ```text
//! magic    8 bytes  "TGMUXSES"
//! version  u32      1
//! length   u32      length of the body
//! body     ...      see below
//! check    32 bytes SHA-256 of the body
//! ```
//!
//! body: `network` (u16 length + UTF-8: which set of DCs the keys belong to), `home_dc` i32,
//! `time_offset` i32, user kind u8 (0 none, 1 user, 2 bot) + user id i64, DC count u16, then per
//! DC: id i32, flags u8 (bit 0: an auth key follows, bit 1: authorized on that DC), the 256-byte
//! key if present, server salt i64.
//!
//! The file is written atomically (a temporary file created with mode 0600 in the same
//! directory, fsync, rename over the old one), so a crash never leaves half a session. A file
//! that does not parse, or whose checksum does not match, is a [`SessionFileError::Corrupt`]:
//! the caller reports it and stops, it never starts over with a silent new login.
//!
//! Several processes may share one file (a long `ping` while a `login` runs). Each change goes
//! through [`update`]: under an exclusive advisory lock (`flock` on a lock file beside it,
//! `.<name>.lock`, mode 0600, never removed: the session file itself is replaced by every
//! save, so it cannot carry the lock), the file is read again, the change applied to what it
//! holds now and the result written. A process thus never writes back an old snapshot over
//! another's login; [`SessionData::record_connection`] is the merge rule for what a connection
//! learned (a new key never replaces a key someone else saved meanwhile).

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

const MAGIC: &[u8; 8] = b"TGMUXSES";
const VERSION: u32 = 1;
/// No real session comes near this (a few DCs of 270 bytes each).
const MAX_FILE_LEN: u64 = 1 << 20;
/// An MTProto auth key is 2048 bits.
pub const AUTH_KEY_LEN: usize = 256;

/// Who the session is logged in as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoggedIn {
    /// The Telegram user id.
    pub user_id: i64,
    /// Whether it is a bot account.
    pub bot: bool,
}

/// What a session remembers about one DC.
#[derive(Clone, PartialEq, Eq)]
pub struct DcState {
    /// The DC id.
    pub id: i32,
    /// The permanent auth key made with this DC, if any.
    pub auth_key: Option<[u8; AUTH_KEY_LEN]>,
    /// Whether the key is authorized (logged in on the home DC, or imported on another DC).
    pub authorized: bool,
    /// The last server salt this DC gave us (0 when unknown).
    pub server_salt: i64,
}

impl fmt::Debug for DcState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print key material.
        f.debug_struct("DcState")
            .field("id", &self.id)
            .field("auth_key", &self.auth_key.as_ref().map(|_| "<256 bytes>"))
            .field("authorized", &self.authorized)
            .field("server_salt", &self.server_salt)
            .finish()
    }
}

impl DcState {
    /// A DC we know nothing about yet.
    pub fn new(id: i32) -> Self {
        DcState {
            id,
            auth_key: None,
            authorized: false,
            server_salt: 0,
        }
    }
}

/// The whole session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionData {
    /// Which set of DCs the keys belong to (`production`, `test`, or `dc-config:<hash>`): a
    /// key made with one network means nothing to another.
    pub network: String,
    /// The DC the account lives on (the one we log in to).
    pub home_dc: i32,
    /// Server time minus local time, in seconds.
    pub time_offset: i32,
    /// Who is logged in, if anyone.
    pub user: Option<LoggedIn>,
    /// Per-DC state, at most one entry per DC id.
    pub dcs: Vec<DcState>,
}

impl SessionData {
    /// A fresh session for `network` whose home is `home_dc`.
    pub fn new(network: impl Into<String>, home_dc: i32) -> Self {
        SessionData {
            network: network.into(),
            home_dc,
            time_offset: 0,
            user: None,
            dcs: Vec::new(),
        }
    }

    /// The state of DC `id`, if we have any.
    pub fn dc(&self, id: i32) -> Option<&DcState> {
        self.dcs.iter().find(|d| d.id == id)
    }

    /// The state of DC `id`, created empty if missing.
    pub fn dc_mut(&mut self, id: i32) -> &mut DcState {
        if let Some(i) = self.dcs.iter().position(|d| d.id == id) {
            &mut self.dcs[i]
        } else {
            self.dcs.push(DcState::new(id));
            self.dcs.sort_by_key(|d| d.id);
            let i = self
                .dcs
                .iter()
                .position(|d| d.id == id)
                .expect("just inserted");
            &mut self.dcs[i]
        }
    }

    /// Forgets the login (every DC's authorization) but keeps the auth keys.
    pub fn forget_login(&mut self) {
        self.user = None;
        for dc in &mut self.dcs {
            dc.authorized = false;
        }
    }

    /// Records what a connection to `dc` learned: the key `used` (`new`: made by this
    /// connection; `replaced`: the saved key it was made instead of), the server salt and the
    /// clock offset. A new key is saved only where the DC has no key, or still holds the
    /// unauthorized key it replaced: a key another process saved meanwhile (perhaps logged in)
    /// is kept. The salt is saved only with the key it belongs to.
    pub fn record_connection(
        &mut self,
        dc: i32,
        used: &[u8; AUTH_KEY_LEN],
        new: bool,
        replaced: Option<&[u8; AUTH_KEY_LEN]>,
        server_salt: i64,
        time_offset: i32,
    ) {
        let state = self.dc_mut(dc);
        if new {
            let free = match (&state.auth_key, replaced) {
                (None, _) => true,
                (Some(saved), Some(old)) => saved == old && !state.authorized,
                (Some(_), None) => false,
            };
            if free {
                state.auth_key = Some(*used);
                state.authorized = false;
            }
        }
        if state.auth_key.as_ref() == Some(used) {
            state.server_salt = server_salt;
        }
        self.time_offset = time_offset;
    }

    /// The file bytes of this session.
    pub fn encode(&self) -> Vec<u8> {
        let mut body = Vec::with_capacity(64 + self.dcs.len() * (AUTH_KEY_LEN + 16));
        let network = self.network.as_bytes();
        let net_len = u16::try_from(network.len()).unwrap_or(u16::MAX);
        body.extend_from_slice(&net_len.to_le_bytes());
        body.extend_from_slice(&network[..net_len as usize]);
        body.extend_from_slice(&self.home_dc.to_le_bytes());
        body.extend_from_slice(&self.time_offset.to_le_bytes());
        match self.user {
            None => {
                body.push(0);
                body.extend_from_slice(&0i64.to_le_bytes());
            }
            Some(u) => {
                body.push(if u.bot { 2 } else { 1 });
                body.extend_from_slice(&u.user_id.to_le_bytes());
            }
        }
        let count = u16::try_from(self.dcs.len()).unwrap_or(u16::MAX);
        body.extend_from_slice(&count.to_le_bytes());
        for dc in self.dcs.iter().take(count as usize) {
            body.extend_from_slice(&dc.id.to_le_bytes());
            let flags = u8::from(dc.auth_key.is_some()) | (u8::from(dc.authorized) << 1);
            body.push(flags);
            if let Some(key) = &dc.auth_key {
                body.extend_from_slice(key);
            }
            body.extend_from_slice(&dc.server_salt.to_le_bytes());
        }
        let mut out = Vec::with_capacity(body.len() + 48);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&VERSION.to_le_bytes());
        out.extend_from_slice(&(body.len() as u32).to_le_bytes());
        out.extend_from_slice(&body);
        out.extend_from_slice(&Sha256::digest(&body));
        out
    }

    /// Parses file bytes; the error says what is wrong, in a few words.
    pub fn decode(bytes: &[u8]) -> Result<Self, &'static str> {
        let mut r = Reader(bytes);
        if r.take(8).map_err(|_| "too short")? != MAGIC {
            return Err("not a tgmux session file");
        }
        let version = r.u32()?;
        if version != VERSION {
            return Err("unsupported version");
        }
        let len = r.u32()? as usize;
        let body = r.take(len)?;
        let check = r.take(32)?;
        if !r.0.is_empty() {
            return Err("trailing bytes");
        }
        if Sha256::digest(body).as_slice() != check {
            return Err("checksum mismatch");
        }
        let mut r = Reader(body);
        let net_len = r.u16()? as usize;
        let network = std::str::from_utf8(r.take(net_len)?)
            .map_err(|_| "network name is not UTF-8")?
            .to_owned();
        let home_dc = r.i32()?;
        let time_offset = r.i32()?;
        let kind = r.u8()?;
        let user_id = r.i64()?;
        let user = match kind {
            0 => None,
            1 => Some(LoggedIn {
                user_id,
                bot: false,
            }),
            2 => Some(LoggedIn { user_id, bot: true }),
            _ => return Err("bad user kind"),
        };
        let count = r.u16()? as usize;
        let mut dcs: Vec<DcState> = Vec::with_capacity(count.min(body.len() / 13));
        for _ in 0..count {
            let id = r.i32()?;
            let flags = r.u8()?;
            if flags & !3 != 0 {
                return Err("bad DC flags");
            }
            let auth_key = if flags & 1 != 0 {
                let mut key = [0u8; AUTH_KEY_LEN];
                key.copy_from_slice(r.take(AUTH_KEY_LEN)?);
                Some(key)
            } else {
                None
            };
            let server_salt = r.i64()?;
            if dcs.iter().any(|d| d.id == id) {
                return Err("a DC appears twice");
            }
            dcs.push(DcState {
                id,
                auth_key,
                authorized: flags & 2 != 0,
                server_salt,
            });
        }
        if !r.0.is_empty() {
            return Err("trailing bytes in body");
        }
        Ok(SessionData {
            network,
            home_dc,
            time_offset,
            user,
            dcs,
        })
    }
}

/// A bounded little-endian reader: every read checks the remaining length.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], &'static str> {
        if self.0.len() < n {
            return Err("truncated");
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }
    fn u8(&mut self) -> Result<u8, &'static str> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16, &'static str> {
        Ok(u16::from_le_bytes(
            self.take(2)?.try_into().expect("2 bytes"),
        ))
    }
    fn u32(&mut self) -> Result<u32, &'static str> {
        Ok(u32::from_le_bytes(
            self.take(4)?.try_into().expect("4 bytes"),
        ))
    }
    fn i32(&mut self) -> Result<i32, &'static str> {
        Ok(i32::from_le_bytes(
            self.take(4)?.try_into().expect("4 bytes"),
        ))
    }
    fn i64(&mut self) -> Result<i64, &'static str> {
        Ok(i64::from_le_bytes(
            self.take(8)?.try_into().expect("8 bytes"),
        ))
    }
}

/// Why a session file could not be read or written.
#[derive(Debug)]
#[non_exhaustive]
pub enum SessionFileError {
    /// Reading, writing or renaming failed.
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        error: std::io::Error,
    },
    /// The file exists but is not a valid session.
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong, in a few words.
        reason: &'static str,
    },
    /// No `--session` and neither `XDG_DATA_HOME` nor `HOME` is set.
    NoDefaultPath,
    /// The file holds keys of another network (production, test, a DC config).
    OtherNetwork {
        /// The file.
        path: PathBuf,
        /// The network it belongs to.
        found: String,
        /// The network asked for.
        expected: String,
    },
}

impl fmt::Display for SessionFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SessionFileError::Io { path, error } => {
                write!(f, "session file {}: {error}", path.display())
            }
            SessionFileError::Corrupt { path, reason } => write!(
                f,
                "session file {} is corrupt ({reason}); move it away and run `tgmux login` again",
                path.display()
            ),
            SessionFileError::NoDefaultPath => {
                f.write_str("no session path: set --session, XDG_DATA_HOME or HOME")
            }
            SessionFileError::OtherNetwork {
                path,
                found,
                expected,
            } => write!(
                f,
                "session file {} belongs to network `{found}`, not `{expected}`",
                path.display()
            ),
        }
    }
}

impl std::error::Error for SessionFileError {}

/// The default session path: `$XDG_DATA_HOME/tgmux/session`, else
/// `~/.local/share/tgmux/session`.
pub fn default_path() -> Result<PathBuf, SessionFileError> {
    if let Some(dir) = std::env::var_os("XDG_DATA_HOME").map(PathBuf::from) {
        // The XDG spec says relative values are invalid and must be ignored.
        if dir.is_absolute() {
            return Ok(dir.join("tgmux").join("session"));
        }
    }
    match std::env::var_os("HOME").map(PathBuf::from) {
        Some(home) if home.is_absolute() => Ok(home.join(".local/share/tgmux/session")),
        _ => Err(SessionFileError::NoDefaultPath),
    }
}

/// Reads a session file; `Ok(None)` when it does not exist.
pub fn load(path: &Path) -> Result<Option<SessionData>, SessionFileError> {
    let io = |error| SessionFileError::Io {
        path: path.to_owned(),
        error,
    };
    let corrupt = |reason| SessionFileError::Corrupt {
        path: path.to_owned(),
        reason,
    };
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io(e)),
    };
    if !meta.is_file() {
        return Err(corrupt("not a regular file"));
    }
    if meta.len() > MAX_FILE_LEN {
        return Err(corrupt("too large"));
    }
    let bytes = std::fs::read(path).map_err(io)?;
    SessionData::decode(&bytes).map(Some).map_err(corrupt)
}

/// The directory of `path` (created with mode 0700 if missing) and the file's name.
fn dir_and_name(path: &Path) -> Result<(PathBuf, String), std::io::Error> {
    use std::os::unix::fs::DirBuilderExt;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
        _ => PathBuf::from("."),
    };
    if !dir.exists() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&dir)?;
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "session".into());
    Ok((dir, name))
}

/// An exclusive advisory lock on a session file, held until dropped.
#[derive(Debug)]
pub struct FileLock {
    /// Closing it releases the lock.
    _file: std::fs::File,
}

impl FileLock {
    /// Takes the lock of `path` (waiting for other holders), creating its lock file.
    pub fn acquire(path: &Path) -> Result<FileLock, SessionFileError> {
        use std::os::unix::fs::OpenOptionsExt;
        let io = |error| SessionFileError::Io {
            path: path.to_owned(),
            error,
        };
        let (dir, name) = dir_and_name(path).map_err(io)?;
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(dir.join(format!(".{name}.lock")))
            .map_err(io)?;
        loop {
            match rustix::fs::flock(&file, rustix::fs::FlockOperation::LockExclusive) {
                Ok(()) => return Ok(FileLock { _file: file }),
                Err(rustix::io::Errno::INTR) => {}
                Err(e) => return Err(io(e.into())),
            }
        }
    }
}

/// Read–modify–write under the file's lock: reads the file (a missing one starts as
/// `missing()`), applies `change`, writes the result and returns it. A file of another
/// network than `network` is [`SessionFileError::OtherNetwork`] and stays as it is.
pub fn update(
    path: &Path,
    network: &str,
    missing: impl FnOnce() -> SessionData,
    change: impl FnOnce(&mut SessionData),
) -> Result<SessionData, SessionFileError> {
    let _lock = FileLock::acquire(path)?;
    let mut s = match load(path)? {
        None => missing(),
        Some(s) if s.network != network => {
            return Err(SessionFileError::OtherNetwork {
                path: path.to_owned(),
                found: s.network,
                expected: network.to_owned(),
            })
        }
        Some(s) => s,
    };
    change(&mut s);
    save(path, &s)?;
    Ok(s)
}

/// Writes a session file atomically with mode 0600 (the parent directory is created with mode
/// 0700 if missing). Processes sharing the file go through [`update`] instead.
pub fn save(path: &Path, data: &SessionData) -> Result<(), SessionFileError> {
    use std::os::unix::fs::OpenOptionsExt;
    let io = |error| SessionFileError::Io {
        path: path.to_owned(),
        error,
    };
    let (dir, name) = dir_and_name(path).map_err(io)?;
    let tmp = dir.join(format!(
        ".{name}.tmp-{}-{:08x}",
        std::process::id(),
        rand::random::<u32>()
    ));
    let result = (|| {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        file.write_all(&data.encode())?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&tmp, path)?;
        // Make the rename itself durable.
        if let Ok(d) = std::fs::File::open(&dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> SessionData {
        let mut s = SessionData::new("test", 2);
        s.time_offset = -300;
        s.user = Some(LoggedIn {
            user_id: 123456789,
            bot: true,
        });
        let dc = s.dc_mut(2);
        dc.auth_key = Some([7u8; AUTH_KEY_LEN]);
        dc.authorized = true;
        dc.server_salt = 0x1122334455667788;
        s.dc_mut(1).server_salt = -5;
        s
    }

    #[test]
    fn encode_decode_round_trip() {
        let s = sample();
        let bytes = s.encode();
        assert_eq!(SessionData::decode(&bytes).unwrap(), s);
        assert_eq!(s.dcs[0].id, 1, "kept sorted");
        assert!(
            !format!("{:?}", s).contains("7, 7"),
            "Debug never prints keys"
        );
    }

    #[test]
    fn a_new_key_never_replaces_one_saved_meanwhile() {
        let (ours, theirs, old) = (
            [1u8; AUTH_KEY_LEN],
            [2u8; AUTH_KEY_LEN],
            [3u8; AUTH_KEY_LEN],
        );
        // No key yet: ours is saved, with its salt.
        let mut s = SessionData::new("n", 1);
        s.record_connection(1, &ours, true, None, 5, -2);
        assert_eq!(s.dc(1).unwrap().auth_key, Some(ours));
        assert_eq!((s.dc(1).unwrap().server_salt, s.time_offset), (5, -2));
        // Another process saved (and logged in with) its key meanwhile: it stays, salt too.
        let mut s = SessionData::new("n", 1);
        s.dc_mut(1).auth_key = Some(theirs);
        s.dc_mut(1).authorized = true;
        s.dc_mut(1).server_salt = 9;
        s.record_connection(1, &ours, true, None, 5, 0);
        s.record_connection(1, &ours, true, Some(&theirs), 5, 0);
        let d = s.dc(1).unwrap();
        assert_eq!(
            (d.auth_key, d.authorized, d.server_salt),
            (Some(theirs), true, 9)
        );
        // The unauthorized key we replaced is still there: ours takes its place.
        let mut s = SessionData::new("n", 1);
        s.dc_mut(1).auth_key = Some(old);
        s.record_connection(1, &ours, true, Some(&old), 5, 0);
        assert_eq!(s.dc(1).unwrap().auth_key, Some(ours));
        // A connection on the saved key updates its salt only.
        s.record_connection(1, &ours, false, None, 6, 0);
        assert_eq!(s.dc(1).unwrap().server_salt, 6);
        s.record_connection(1, &theirs, false, None, 7, 0);
        assert_eq!(s.dc(1).unwrap().server_salt, 6);
    }

    #[test]
    fn every_truncation_and_bit_flip_is_an_error() {
        let bytes = sample().encode();
        for n in 0..bytes.len() {
            assert!(
                SessionData::decode(&bytes[..n]).is_err(),
                "truncated at {n}"
            );
        }
        for i in 0..bytes.len() {
            let mut b = bytes.clone();
            b[i] ^= 0x40;
            assert!(SessionData::decode(&b).is_err(), "flip at {i}");
        }
        let mut long = bytes.clone();
        long.push(0);
        assert_eq!(SessionData::decode(&long), Err("trailing bytes"));
    }
}
