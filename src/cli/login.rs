//! `tgmux login` and `tgmux logout`.
//!
//! Both work through a [`Pool`] over the session file (`--session`, default
//! `$XDG_DATA_HOME/tgmux/session`): keys made once per DC, the home DC moved by
//! `PHONE_MIGRATE_X`, the login recorded on success. A user login asks for the code (and the
//! 2FA password) on the terminal; when stdin is not a terminal each is read as one line, so a
//! script can pipe them in.

use std::io::{BufRead, IsTerminal, Write};
use std::time::Duration;

use super::ping::{invoke_error, transport_name, PLACEHOLDER_API_ID};
use super::{CliError, Globals};
use crate::config::ClientConfig;
use crate::crypto::srp;
use crate::net::session_file::LoggedIn;
use crate::net::{InvokeError, Pool, PoolConfig};
use crate::tl::{enums, functions, types};

/// Log in as a bot (`--bot-token`) or a user (`--phone`, or `--qr`).
#[derive(Debug, clap::Args)]
#[group(required = true, multiple = false)]
pub struct Args {
    /// Bot token from @BotFather (`<digits>:<text>`).
    #[arg(long, value_name = "TOKEN")]
    pub bot_token: Option<String>,
    /// Phone number in international format; asks for the code (and the 2FA password).
    #[arg(long, value_name = "PHONE")]
    pub phone: Option<String>,
    /// Log in by scanning a QR code with a logged-in app.
    #[arg(long)]
    pub qr: bool,
}

/// Log out.
#[derive(Debug, clap::Args)]
pub struct LogoutArgs {}

fn err(e: impl std::fmt::Display) -> CliError {
    CliError::new(e.to_string())
}

/// The pool for the global flags, and the config it came from.
fn open_pool(g: &Globals, api_id: i32, cfg: &ClientConfig) -> Result<Pool, CliError> {
    let mut pc = PoolConfig::new(cfg.network.clone(), api_id);
    pc.transport = transport_name(g.transport).to_string();
    pc.session_path = Some(cfg.session_path.clone());
    pc.flood_wait_threshold = cfg.flood_wait_threshold_secs;
    pc.proxy = cfg.proxy.clone();
    Pool::open(pc).map_err(|e| invoke_error(&e))
}

/// `DC N (address)` of the home DC, as ping names a DC (with the proxy when there is one).
fn home_at(pool: &Pool) -> String {
    let dc = pool.home_dc();
    let addr = pool
        .address(dc, false)
        .map_or_else(|| "no address".to_string(), |a| a.to_string());
    match &pool.config().proxy {
        Some(p) => format!("DC {dc} ({addr} via {p})"),
        None => format!("DC {dc} ({addr})"),
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::new(format!("cannot start the runtime: {e}")))
}

/// `<digits>:<text>`, as @BotFather hands them out.
fn valid_bot_token(t: &str) -> bool {
    match t.split_once(':') {
        Some((id, rest)) => {
            !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) && !rest.is_empty()
        }
        None => false,
    }
}

/// How the login line names a user: `@username`, else the name, else nothing.
pub(super) fn describe(u: &types::User) -> String {
    let name = match (&u.username, &u.first_name, &u.last_name) {
        (Some(n), _, _) => format!(" (@{n})"),
        (None, Some(f), Some(l)) => format!(" ({f} {l})"),
        (None, Some(f), None) => format!(" ({f})"),
        _ => String::new(),
    };
    let kind = if u.bot { "bot" } else { "user" };
    format!("{kind} {}{name}", u.id)
}

/// Reads the code and password: prompts on a terminal, lines from a pipe.
struct Input {
    tty: bool,
    lines: std::io::Lines<std::io::StdinLock<'static>>,
}

impl Input {
    fn new() -> Self {
        Input {
            tty: std::io::stdin().is_terminal(),
            lines: std::io::stdin().lock().lines(),
        }
    }

    fn line(&mut self, prompt: &str, what: &str) -> Result<String, CliError> {
        if self.tty {
            eprint!("{prompt}");
            let _ = std::io::stderr().flush();
        }
        match self.lines.next() {
            Some(Ok(l)) if !l.trim().is_empty() => Ok(l.trim().to_string()),
            Some(Err(e)) => Err(CliError::new(format!("reading the {what}: {e}"))),
            _ => Err(CliError::new(format!("no {what} given"))),
        }
    }

    fn password(&mut self) -> Result<String, CliError> {
        if self.tty {
            let p = rpassword::prompt_password("2FA password: ")
                .map_err(|e| CliError::new(format!("reading the 2FA password: {e}")))?;
            if p.is_empty() {
                return Err(CliError::new("no 2FA password given"));
            }
            Ok(p)
        } else {
            // A piped password keeps its spaces; only the line end goes.
            match self.lines.next() {
                Some(Ok(l)) if !l.is_empty() => Ok(l),
                Some(Err(e)) => Err(CliError::new(format!("reading the 2FA password: {e}"))),
                _ => Err(CliError::new("no 2FA password given")),
            }
        }
    }
}

fn authorized_user(a: enums::auth::Authorization) -> Result<types::User, CliError> {
    match a {
        enums::auth::Authorization::Authorization(a) => match a.user {
            enums::User::User(u) => Ok(u),
            enums::User::UserEmpty(u) => Err(CliError::new(format!(
                "the server logged us in as an empty user {}",
                u.id
            ))),
        },
        enums::auth::Authorization::AuthorizationSignUpRequired(_) => Err(CliError::new(
            "this phone number has no Telegram account: sign up in an official app first",
        )),
    }
}

pub(super) async fn login_bot(
    pool: &Pool,
    api: (i32, String),
    token: &str,
) -> Result<types::User, CliError> {
    let a = pool
        .invoke_login(&functions::auth::ImportBotAuthorization {
            flags: 0,
            api_id: api.0,
            api_hash: api.1,
            bot_auth_token: token.to_string(),
        })
        .await
        .map_err(|e| CliError::new(format!("bot login: {}: {e}", home_at(pool))))?;
    authorized_user(a)
}

async fn login_phone(
    pool: &Pool,
    api: (i32, String),
    phone: &str,
    input: &mut Input,
) -> Result<types::User, CliError> {
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
    let sent = pool
        .invoke_login(&functions::auth::SendCode {
            phone_number: phone.to_string(),
            api_id: api.0,
            api_hash: api.1,
            settings,
        })
        .await
        .map_err(|e| CliError::new(format!("sending the login code: {}: {e}", home_at(pool))))?;
    let hash = match sent {
        enums::auth::SentCode::SentCode(s) => s.phone_code_hash,
        enums::auth::SentCode::SentCodeSuccess(s) => return authorized_user(s.authorization),
        enums::auth::SentCode::SentCodePaymentRequired(_) => {
            return Err(CliError::new(
                "Telegram asks for a payment before sending a login code to this number",
            ))
        }
    };
    let code = input.line("Login code: ", "login code")?;
    let signed = pool
        .invoke_login(&functions::auth::SignIn {
            phone_number: phone.to_string(),
            phone_code_hash: hash,
            phone_code: Some(code),
            email_verification: None,
        })
        .await;
    match signed {
        Ok(a) => authorized_user(a),
        Err(e)
            if e.rpc()
                .is_some_and(|r| r.message == "SESSION_PASSWORD_NEEDED") =>
        {
            let password = input.password()?;
            check_password(pool, &password).await
        }
        Err(e) if e.rpc().is_some_and(|r| r.message == "PHONE_CODE_INVALID") => {
            Err(CliError::new("wrong login code"))
        }
        Err(e) => Err(CliError::new(format!("signing in: {}: {e}", home_at(pool)))),
    }
}

/// The 2FA step: account.getPassword, the SRP answer, auth.checkPassword.
async fn check_password(pool: &Pool, password: &str) -> Result<types::User, CliError> {
    let enums::account::Password::Password(p) = pool
        .invoke(&functions::account::GetPassword {})
        .await
        .map_err(|e| CliError::new(format!("account.getPassword: {e}")))?;
    let (Some(algo), Some(srp_b), Some(srp_id)) = (p.current_algo, p.srp_b, p.srp_id) else {
        return Err(CliError::new(
            "the server asks for a 2FA password but offers no way to check one",
        ));
    };
    let enums::PasswordKdfAlgo::PasswordKdfAlgoSha256Sha256Pbkdf2Hmacsha512iter100000Sha256ModPow(
        algo,
    ) = algo
    else {
        return Err(CliError::new(
            "the server's 2FA password algorithm is unknown to tgmux",
        ));
    };
    let g = u32::try_from(algo.g).map_err(|_| CliError::new("2FA: bad generator g"))?;
    let answer = srp::client_answer(
        g,
        &algo.p,
        password.as_bytes(),
        &algo.salt1,
        &algo.salt2,
        &srp_b,
        &mut rand::thread_rng(),
    )
    .map_err(|e| CliError::new(format!("2FA: the server's SRP values are unusable: {e}")))?;
    let checked = pool
        .invoke(&functions::auth::CheckPassword {
            password: enums::InputCheckPasswordSrp::InputCheckPasswordSrp(
                types::InputCheckPasswordSrp {
                    srp_id,
                    a: answer.a.to_vec().into(),
                    m1: answer.m1.to_vec().into(),
                },
            ),
        })
        .await;
    match checked {
        Ok(a) => authorized_user(a),
        Err(e)
            if e.rpc()
                .is_some_and(|r| r.message == "PASSWORD_HASH_INVALID") =>
        {
            Err(CliError::new("wrong 2FA password"))
        }
        Err(e) => Err(CliError::new(format!("checking the 2FA password: {e}"))),
    }
}

/// With `-v`: what the run cost in keys and connections.
fn report(pool: &Pool, g: &Globals) {
    if g.verbose > 0 {
        let s = pool.stats();
        eprintln!(
            "tgmux: auth keys: {} new, connections: {}, authorizations moved: {}",
            s.key_exchanges, s.connections, s.exports
        );
    }
}

pub fn run(args: &Args, g: &Globals) -> Result<(), CliError> {
    if args.qr {
        return Err(CliError::not_implemented("login --qr"));
    }
    if let Some(t) = &args.bot_token {
        if !valid_bot_token(t) {
            return Err(CliError::new(
                "--bot-token: expected <digits>:<text>, as @BotFather gives it",
            ));
        }
    }
    if let Some(p) = &args.phone {
        let digits = p.strip_prefix('+').unwrap_or(p);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(CliError::new(
                "--phone: expected digits in international format, e.g. +4915112345678",
            ));
        }
    }
    let cfg = ClientConfig::from_globals(g).map_err(err)?;
    let api = cfg.require_api().map_err(err)?.clone();
    let pool = open_pool(g, api.api_id, &cfg)?;
    let mut input = Input::new();
    runtime()?.block_on(async {
        let user = match (&args.bot_token, &args.phone) {
            (Some(token), _) => login_bot(&pool, (api.api_id, api.api_hash), token).await?,
            (None, Some(phone)) => {
                let phone = phone.strip_prefix('+').unwrap_or(phone);
                login_phone(&pool, (api.api_id, api.api_hash), phone, &mut input).await?
            }
            (None, None) => return Err(CliError::new("give --bot-token or --phone")),
        };
        pool.set_logged_in(LoggedIn {
            user_id: user.id,
            bot: user.bot,
        })
        .map_err(|e| invoke_error(&e))?;
        report(&pool, g);
        if !g.quiet {
            println!("logged in as {} on DC {}", describe(&user), pool.home_dc());
        }
        Ok(())
    })
}

pub fn logout(_args: &LogoutArgs, g: &Globals) -> Result<(), CliError> {
    let cfg = ClientConfig::from_globals(g).map_err(err)?;
    if !cfg.session_path.exists() {
        return Err(CliError::new(format!(
            "not logged in: no session file at {}",
            cfg.session_path.display()
        )));
    }
    let api_id = cfg.api.as_ref().map_or(PLACEHOLDER_API_ID, |a| a.api_id);
    let pool = open_pool(g, api_id, &cfg)?;
    if pool.logged_in().is_none() {
        return Err(CliError::new(format!(
            "not logged in (session file {})",
            cfg.session_path.display()
        )));
    }
    runtime()?.block_on(async {
        let done = match tokio::time::timeout(Duration::from_secs(60), pool.logout()).await {
            Err(_) => return Err(CliError::new("logout: no answer within 60 s")),
            Ok(r) => r,
        };
        report(&pool, g);
        match done {
            Ok(()) => {
                if !g.quiet {
                    println!("logged out");
                }
                Ok(())
            }
            Err(InvokeError::NotLoggedIn(_)) => {
                if !g.quiet {
                    println!("logged out (the server had already ended this login)");
                }
                Ok(())
            }
            Err(e @ InvokeError::KeyRefused { .. }) => Err(CliError::new(format!(
                "logout: {}: {e} (try again; if every run says so, `tgmux login` again)",
                home_at(&pool)
            ))),
            Err(e) => Err(CliError::new(format!("logout: {}: {e}", home_at(&pool)))),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bot_tokens() {
        assert!(valid_bot_token("123456:AAE-x_y"));
        for bad in ["", ":", "123:", ":abc", "12a:b", "abc"] {
            assert!(!valid_bot_token(bad), "{bad}");
        }
    }
}
