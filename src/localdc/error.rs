//! Errors of the local DC: RPC errors sent to clients, and startup errors.

use std::fmt;

/// An `rpc_error` to send: an HTTP-like code and an upper-case message such as `LIMIT_INVALID`
/// or `FILE_MIGRATE_2`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// 303 (migrate), 400 (bad request), 401 (unauthorized), 420 (flood)...
    pub code: i32,
    /// The error message, e.g. `FLOOD_WAIT_3`.
    pub message: String,
}

impl ApiError {
    /// An error with this code and message.
    pub fn new(code: i32, message: impl Into<String>) -> Self {
        ApiError {
            code,
            message: message.into(),
        }
    }

    /// 400 with this message.
    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError::new(400, message)
    }

    /// 400 LIMIT_INVALID.
    pub fn limit_invalid() -> Self {
        ApiError::bad_request("LIMIT_INVALID")
    }

    /// 400 OFFSET_INVALID.
    pub fn offset_invalid() -> Self {
        ApiError::bad_request("OFFSET_INVALID")
    }

    /// 303 FILE_MIGRATE_X: the file lives on DC `dc`.
    pub fn file_migrate(dc: i32) -> Self {
        ApiError::new(303, format!("FILE_MIGRATE_{dc}"))
    }

    /// 303 PHONE_MIGRATE_X: this phone number belongs to DC `dc`.
    pub fn phone_migrate(dc: i32) -> Self {
        ApiError::new(303, format!("PHONE_MIGRATE_{dc}"))
    }

    /// 420 FLOOD_WAIT_X.
    pub fn flood_wait(seconds: u32) -> Self {
        ApiError::new(420, format!("FLOOD_WAIT_{seconds}"))
    }

    /// 420 FLOOD_PREMIUM_WAIT_X.
    pub fn premium_flood_wait(seconds: u32) -> Self {
        ApiError::new(420, format!("FLOOD_PREMIUM_WAIT_{seconds}"))
    }

    /// 401 AUTH_KEY_UNREGISTERED: the key is not logged in.
    pub fn unauthorized() -> Self {
        ApiError::new(401, "AUTH_KEY_UNREGISTERED")
    }

    /// 400 METHOD_INVALID: a method we do not serve.
    pub fn method_invalid() -> Self {
        ApiError::bad_request("METHOD_INVALID")
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.code, self.message)
    }
}

impl std::error::Error for ApiError {}

/// Why the local DC could not start (bad flags, unreadable media, key problems...).
#[derive(Debug)]
#[non_exhaustive]
pub enum LocalDcError {
    /// `--faults` did not parse.
    Faults(String),
    /// The media directory could not be scanned.
    Media(String),
    /// Some other startup problem, already phrased for the user.
    Other(String),
}

impl fmt::Display for LocalDcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LocalDcError::Faults(m) => write!(f, "--faults: {m}"),
            LocalDcError::Media(m) => write!(f, "--media: {m}"),
            LocalDcError::Other(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for LocalDcError {}
