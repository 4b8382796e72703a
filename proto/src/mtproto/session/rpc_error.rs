//! RPC errors (`rpc_error error_code error_message`) parsed into a typed kind
//! (core.telegram.org/api/errors). The numeric suffix of `FLOOD_WAIT_X`, `*_MIGRATE_X` and
//! similar is extracted; anything unknown stays available as the raw message.

/// What an rpc_error message means to a client.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RpcErrorKind {
    /// `FLOOD_WAIT_X`: wait X seconds, then repeat.
    FloodWait {
        /// Seconds to wait.
        seconds: u32,
    },
    /// `FLOOD_PREMIUM_WAIT_X`: as FLOOD_WAIT, for non-premium accounts' download limits.
    FloodPremiumWait {
        /// Seconds to wait.
        seconds: u32,
    },
    /// `SLOWMODE_WAIT_X`.
    SlowmodeWait {
        /// Seconds to wait.
        seconds: u32,
    },
    /// `FILE_MIGRATE_X`: the file lives on DC X.
    FileMigrate {
        /// Target DC.
        dc: i32,
    },
    /// `PHONE_MIGRATE_X`: log in on DC X.
    PhoneMigrate {
        /// Target DC.
        dc: i32,
    },
    /// `NETWORK_MIGRATE_X`: this IP should use DC X.
    NetworkMigrate {
        /// Target DC.
        dc: i32,
    },
    /// `USER_MIGRATE_X`: the account lives on DC X.
    UserMigrate {
        /// Target DC.
        dc: i32,
    },
    /// `STATS_MIGRATE_X`: statistics live on DC X.
    StatsMigrate {
        /// Target DC.
        dc: i32,
    },
    /// `AUTH_KEY_UNREGISTERED`: the key is not logged in.
    AuthKeyUnregistered,
    /// `SESSION_REVOKED`: the authorization was terminated.
    SessionRevoked,
    /// `AUTH_KEY_DUPLICATED`: the key is used from two places at once.
    AuthKeyDuplicated,
    /// `SESSION_PASSWORD_NEEDED`: 2FA password required.
    SessionPasswordNeeded,
    /// `FILE_REFERENCE_EXPIRED` (any `FILE_REFERENCE_*` error keeps its name in `Other`).
    FileReferenceExpired,
    /// Any other error: the message itself is the information.
    Other,
}

impl RpcErrorKind {
    /// Parses an error message (the code is not needed: the message names the error).
    pub fn parse(message: &str) -> RpcErrorKind {
        fn suffix<T: std::str::FromStr>(message: &str, prefix: &str) -> Option<T> {
            let rest = message.strip_prefix(prefix)?;
            if rest.is_empty() || !rest.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            rest.parse().ok()
        }
        if let Some(seconds) = suffix(message, "FLOOD_PREMIUM_WAIT_") {
            return RpcErrorKind::FloodPremiumWait { seconds };
        }
        if let Some(seconds) = suffix(message, "FLOOD_WAIT_") {
            return RpcErrorKind::FloodWait { seconds };
        }
        if let Some(seconds) = suffix(message, "SLOWMODE_WAIT_") {
            return RpcErrorKind::SlowmodeWait { seconds };
        }
        type Make = fn(i32) -> RpcErrorKind;
        let migrations: [(&str, Make); 5] = [
            ("FILE_MIGRATE_", |dc| RpcErrorKind::FileMigrate { dc }),
            ("PHONE_MIGRATE_", |dc| RpcErrorKind::PhoneMigrate { dc }),
            ("NETWORK_MIGRATE_", |dc| RpcErrorKind::NetworkMigrate { dc }),
            ("USER_MIGRATE_", |dc| RpcErrorKind::UserMigrate { dc }),
            ("STATS_MIGRATE_", |dc| RpcErrorKind::StatsMigrate { dc }),
        ];
        for (prefix, make) in migrations {
            if let Some(dc) = suffix(message, prefix) {
                return make(dc);
            }
        }
        match message {
            "AUTH_KEY_UNREGISTERED" => RpcErrorKind::AuthKeyUnregistered,
            "SESSION_REVOKED" => RpcErrorKind::SessionRevoked,
            "AUTH_KEY_DUPLICATED" => RpcErrorKind::AuthKeyDuplicated,
            "SESSION_PASSWORD_NEEDED" => RpcErrorKind::SessionPasswordNeeded,
            "FILE_REFERENCE_EXPIRED" => RpcErrorKind::FileReferenceExpired,
            _ => RpcErrorKind::Other,
        }
    }

    /// Seconds to wait before repeating, for the flood-wait kinds.
    pub fn wait_seconds(&self) -> Option<u32> {
        match *self {
            RpcErrorKind::FloodWait { seconds }
            | RpcErrorKind::FloodPremiumWait { seconds }
            | RpcErrorKind::SlowmodeWait { seconds } => Some(seconds),
            _ => None,
        }
    }

    /// The DC to go to, for the `*_MIGRATE_X` kinds.
    pub fn migrate_dc(&self) -> Option<i32> {
        match *self {
            RpcErrorKind::FileMigrate { dc }
            | RpcErrorKind::PhoneMigrate { dc }
            | RpcErrorKind::NetworkMigrate { dc }
            | RpcErrorKind::UserMigrate { dc }
            | RpcErrorKind::StatsMigrate { dc } => Some(dc),
            _ => None,
        }
    }

    /// Whether the authorization is gone (the user must log in again).
    pub fn is_unauthorized(&self) -> bool {
        matches!(
            self,
            RpcErrorKind::AuthKeyUnregistered | RpcErrorKind::SessionRevoked
        )
    }
}

/// An rpc_error as received: code, message and its parsed meaning.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RpcError {
    /// The error code (303, 400, 401, 420, 500...).
    pub code: i32,
    /// The error message, e.g. `FLOOD_WAIT_30`.
    pub message: String,
    /// The parsed meaning of `message`.
    pub kind: RpcErrorKind,
}

impl RpcError {
    /// Builds an error, parsing the message.
    pub fn new(code: i32, message: impl Into<String>) -> Self {
        let message = message.into();
        let kind = RpcErrorKind::parse(&message);
        RpcError {
            code,
            message,
            kind,
        }
    }
}

impl std::fmt::Display for RpcError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "rpc error {}: {}", self.code, self.message)
    }
}

impl std::error::Error for RpcError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_known_errors() {
        assert_eq!(
            RpcErrorKind::parse("FLOOD_WAIT_30"),
            RpcErrorKind::FloodWait { seconds: 30 }
        );
        assert_eq!(
            RpcErrorKind::parse("FLOOD_PREMIUM_WAIT_5"),
            RpcErrorKind::FloodPremiumWait { seconds: 5 }
        );
        assert_eq!(
            RpcErrorKind::parse("FILE_MIGRATE_4"),
            RpcErrorKind::FileMigrate { dc: 4 }
        );
        assert_eq!(
            RpcErrorKind::parse("PHONE_MIGRATE_2"),
            RpcErrorKind::PhoneMigrate { dc: 2 }
        );
        assert_eq!(
            RpcErrorKind::parse("NETWORK_MIGRATE_1"),
            RpcErrorKind::NetworkMigrate { dc: 1 }
        );
        assert_eq!(
            RpcErrorKind::parse("USER_MIGRATE_5"),
            RpcErrorKind::UserMigrate { dc: 5 }
        );
        assert_eq!(
            RpcErrorKind::parse("STATS_MIGRATE_3"),
            RpcErrorKind::StatsMigrate { dc: 3 }
        );
        assert_eq!(
            RpcErrorKind::parse("AUTH_KEY_UNREGISTERED"),
            RpcErrorKind::AuthKeyUnregistered
        );
        assert_eq!(
            RpcErrorKind::parse("SESSION_REVOKED"),
            RpcErrorKind::SessionRevoked
        );
        assert!(RpcErrorKind::parse("SESSION_REVOKED").is_unauthorized());
        assert_eq!(
            RpcErrorKind::parse("FLOOD_WAIT_30").wait_seconds(),
            Some(30)
        );
        assert_eq!(RpcErrorKind::parse("FILE_MIGRATE_4").migrate_dc(), Some(4));
        let e = RpcError::new(420, "FLOOD_WAIT_7");
        assert_eq!(e.kind, RpcErrorKind::FloodWait { seconds: 7 });
        assert_eq!(e.to_string(), "rpc error 420: FLOOD_WAIT_7");
    }

    #[test]
    fn malformed_suffixes_are_other() {
        for m in [
            "FLOOD_WAIT_",
            "FLOOD_WAIT_X",
            "FLOOD_WAIT_99999999999",
            "FILE_MIGRATE_-1",
            "FILE_MIGRATE_1a",
            "",
            "METHOD_INVALID",
        ] {
            assert_eq!(RpcErrorKind::parse(m), RpcErrorKind::Other, "{m}");
        }
    }
}
