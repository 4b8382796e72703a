//! Logins: who each auth key is logged in as, shared by all the DCs of one process.
//!
//! Rules (Telegram's test-DC conventions):
//! - a bot logs in with any token `<digits>:<text>`; its user id is the digits;
//! - a user's phone is `99966XYYYY` (X = a DC digit, YYYY any digits); the login code is X
//!   repeated five times; every such phone is registered (sign-up also works);
//! - with a password configured, a user must then pass SRP 2FA (the caller verifies the SRP
//!   proof; this module keeps the state);
//! - `auth.exportAuthorization` hands out a one-time (id, bytes) token that
//!   `auth.importAuthorization` on any DC of this process redeems for the same user.
//!
//! No I/O and no clock: tokens come from the caller's random source.

use std::collections::HashMap;

use bytes::Bytes;

use super::error::ApiError;
use super::ids;

/// Most pending codes / export tokens kept (older ones are forgotten first).
const MAX_PENDING: usize = 10_000;

/// Who an auth key is logged in as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Account {
    /// User id.
    pub id: i64,
    /// Access hash.
    pub access_hash: i64,
    /// A bot (token login) or a user (phone login).
    pub bot: bool,
    /// The phone number of a user, without `+`.
    pub phone: Option<String>,
    /// First name shown to clients.
    pub first_name: String,
}

impl Account {
    /// The account of a bot token `<digits>:<text>`.
    pub(super) fn for_bot_token(token: &str) -> Result<Account, ApiError> {
        let invalid = || ApiError::bad_request("ACCESS_TOKEN_INVALID");
        let (digits, secret) = token.split_once(':').ok_or_else(invalid)?;
        if digits.is_empty()
            || digits.len() > 15
            || !digits.bytes().all(|b| b.is_ascii_digit())
            || secret.is_empty()
        {
            return Err(invalid());
        }
        let id: i64 = digits.parse().map_err(|_| invalid())?;
        if id <= 0 {
            return Err(invalid());
        }
        let login = format!("bot:{id}");
        Ok(Account {
            id,
            access_hash: ids::user_access_hash(&login),
            bot: true,
            phone: None,
            first_name: format!("Bot {id}"),
        })
    }

    /// The account of a test phone.
    pub(super) fn for_phone(phone: &TestPhone) -> Account {
        Account {
            id: ids::user_id(&phone.number),
            access_hash: ids::user_access_hash(&phone.number),
            bot: false,
            phone: Some(phone.number.clone()),
            first_name: format!("User {}", &phone.number[6..]),
        }
    }
}

/// A test phone number `99966XYYYY`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct TestPhone {
    /// The digits (no `+`, no spaces).
    pub number: String,
    /// X: the DC digit.
    pub dc: i32,
}

impl TestPhone {
    /// Parses `99966XYYYY`, allowing a leading `+` and spaces/dashes as clients send them.
    pub(super) fn parse(phone: &str) -> Result<TestPhone, ApiError> {
        let number: String = phone
            .chars()
            .filter(|c| !matches!(c, '+' | ' ' | '-' | '(' | ')'))
            .collect();
        let ok = number.len() == 10
            && number.starts_with("99966")
            && number.bytes().all(|b| b.is_ascii_digit());
        if !ok {
            return Err(ApiError::bad_request("PHONE_NUMBER_INVALID"));
        }
        let dc = i32::from(number.as_bytes()[5] - b'0');
        Ok(TestPhone { number, dc })
    }

    /// The login code: X five times.
    pub(super) fn code(&self) -> String {
        self.dc.to_string().repeat(5)
    }
}

/// The login state of one auth key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum LoginState {
    /// Code accepted, the 2FA password is still to be checked.
    PasswordNeeded(Account),
    /// Logged in.
    Authorized(Account),
}

/// All logins of the process.
#[derive(Debug, Default)]
pub(super) struct Accounts {
    by_key: HashMap<i64, LoginState>,
    /// phone_code_hash → phone number.
    codes: HashMap<String, String>,
    /// export id → (bytes, account).
    exports: HashMap<i64, (Bytes, Account)>,
}

impl Accounts {
    /// The account an auth key is logged in as, or the 401 error to send.
    pub(super) fn require(&self, auth_key_id: i64) -> Result<&Account, ApiError> {
        match self.by_key.get(&auth_key_id) {
            Some(LoginState::Authorized(a)) => Ok(a),
            Some(LoginState::PasswordNeeded(_)) => {
                Err(ApiError::new(401, "SESSION_PASSWORD_NEEDED"))
            }
            None => Err(ApiError::unauthorized()),
        }
    }

    /// The account waiting for its 2FA check on this key.
    pub(super) fn password_pending(&self, auth_key_id: i64) -> Option<&Account> {
        match self.by_key.get(&auth_key_id) {
            Some(LoginState::PasswordNeeded(a)) => Some(a),
            _ => None,
        }
    }

    /// Logs a key in (or forgets it with `None`).
    pub(super) fn set(&mut self, auth_key_id: i64, state: Option<LoginState>) {
        match state {
            Some(s) => {
                self.by_key.insert(auth_key_id, s);
            }
            None => {
                self.by_key.remove(&auth_key_id);
            }
        }
    }

    /// `auth.sendCode`: remembers a code hash for the phone (chosen by the caller).
    pub(super) fn send_code(&mut self, phone: &TestPhone, phone_code_hash: String) {
        if self.codes.len() >= MAX_PENDING {
            self.codes.clear();
        }
        self.codes.insert(phone_code_hash, phone.number.clone());
    }

    /// `auth.signIn`/`auth.signUp`: checks hash and code, returns the account.
    pub(super) fn check_code(
        &self,
        phone: &TestPhone,
        phone_code_hash: &str,
        code: &str,
    ) -> Result<Account, ApiError> {
        match self.codes.get(phone_code_hash) {
            None if phone_code_hash.is_empty() => {
                return Err(ApiError::bad_request("PHONE_CODE_EMPTY"))
            }
            None => return Err(ApiError::bad_request("PHONE_CODE_EXPIRED")),
            Some(p) if *p != phone.number => {
                return Err(ApiError::bad_request("PHONE_CODE_EXPIRED"))
            }
            Some(_) => {}
        }
        if code.is_empty() {
            return Err(ApiError::bad_request("PHONE_CODE_EMPTY"));
        }
        if code != phone.code() {
            return Err(ApiError::bad_request("PHONE_CODE_INVALID"));
        }
        Ok(Account::for_phone(phone))
    }

    /// `auth.exportAuthorization`: remembers a token for `account`.
    pub(super) fn export(&mut self, id: i64, bytes: Bytes, account: Account) {
        if self.exports.len() >= MAX_PENDING {
            self.exports.clear();
        }
        self.exports.insert(id, (bytes, account));
    }

    /// `auth.importAuthorization`: redeems a token (once) and logs `auth_key_id` in.
    pub(super) fn import(
        &mut self,
        auth_key_id: i64,
        id: i64,
        bytes: &[u8],
    ) -> Result<Account, ApiError> {
        match self.exports.get(&id) {
            Some((b, _)) if b[..] == *bytes => {}
            _ => return Err(ApiError::bad_request("AUTH_BYTES_INVALID")),
        }
        let (_, account) = self.exports.remove(&id).expect("checked above");
        self.by_key
            .insert(auth_key_id, LoginState::Authorized(account.clone()));
        Ok(account)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bot_tokens() {
        let a = Account::for_bot_token("123:abc").unwrap();
        assert_eq!((a.id, a.bot), (123, true));
        for bad in [
            "",
            "abc",
            "123",
            "123:",
            ":abc",
            "12a:abc",
            "0:x",
            "1234567890123456:x",
        ] {
            assert_eq!(
                Account::for_bot_token(bad).unwrap_err().message,
                "ACCESS_TOKEN_INVALID",
                "{bad}"
            );
        }
    }

    #[test]
    fn phones_and_codes() {
        let p = TestPhone::parse("+999 662 1234").unwrap();
        assert_eq!(
            (p.number.as_str(), p.dc, p.code()),
            ("9996621234", 2, "22222".to_string())
        );
        assert!(TestPhone::parse("9996621").is_err());
        assert!(TestPhone::parse("1234567890").is_err());
        let mut acc = Accounts::default();
        acc.send_code(&p, "h1".into());
        assert_eq!(
            acc.check_code(&p, "h1", "11111").unwrap_err().message,
            "PHONE_CODE_INVALID"
        );
        assert_eq!(
            acc.check_code(&p, "h2", "22222").unwrap_err().message,
            "PHONE_CODE_EXPIRED"
        );
        let other = TestPhone::parse("9996629999").unwrap();
        assert_eq!(
            acc.check_code(&other, "h1", "22222").unwrap_err().message,
            "PHONE_CODE_EXPIRED"
        );
        let a = acc.check_code(&p, "h1", "22222").unwrap();
        assert_eq!(a, Account::for_phone(&p));
        assert!(!a.bot);
    }

    #[test]
    fn login_states_and_export_import() {
        let mut acc = Accounts::default();
        assert_eq!(acc.require(7).unwrap_err().message, "AUTH_KEY_UNREGISTERED");
        let bot = Account::for_bot_token("5:x").unwrap();
        acc.set(7, Some(LoginState::PasswordNeeded(bot.clone())));
        assert_eq!(
            acc.require(7).unwrap_err().message,
            "SESSION_PASSWORD_NEEDED"
        );
        assert_eq!(acc.password_pending(7), Some(&bot));
        acc.set(7, Some(LoginState::Authorized(bot.clone())));
        assert_eq!(acc.require(7).unwrap(), &bot);
        acc.export(99, Bytes::from_static(b"secret"), bot.clone());
        assert_eq!(
            acc.import(8, 99, b"wrong").unwrap_err().message,
            "AUTH_BYTES_INVALID"
        );
        assert_eq!(acc.import(8, 99, b"secret").unwrap(), bot);
        assert_eq!(acc.require(8).ok(), Some(&bot));
        assert!(
            acc.import(9, 99, b"secret").is_err(),
            "tokens are single-use"
        );
        acc.set(7, None);
        assert!(acc.require(7).is_err());
    }
}
