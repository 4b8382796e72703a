//! `tgmux login` and `tgmux logout` against a real `tgmux local-dc`: a bot, a user with a
//! migrated home DC and a 2FA password, the session file (0600, keys reused across runs, a
//! corrupt one refused, the XDG default), and what a call says after logout.

mod localdc_util;

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use localdc_util::{
    config_with_port, one_line_error, s, start, start_with, stdout, wait_or_fail, Injector, LocalDc,
};
use tgmux::net::session_file;
use tgmux::net::{Pool, PoolConfig};
use tgmux::tl::{enums, functions, types};

/// Runs tgmux with `stdin` piped in; a run that does not end within 60 s fails (a hang).
fn tgmux_env(args: &[&str], stdin: &str, env: &[(&str, &Path)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tgmux"));
    cmd.args(args)
        .env_remove("TGMUX_API_ID")
        .env_remove("TGMUX_API_HASH")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    {
        let mut input = child.stdin.take().unwrap();
        let _ = input.write_all(stdin.as_bytes());
    }
    wait_or_fail(child, args)
}

fn tgmux(args: &[&str], stdin: &str) -> Output {
    tgmux_env(args, stdin, &[])
}

/// The global flags for `dc` and `session`, then `rest`.
fn args<'a>(dc: &'a LocalDc, session: &'a Path, rest: &[&'a str]) -> Vec<&'a str> {
    args_for(&dc.config, session, rest)
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

fn keys(p: &Path) -> Vec<(i32, Option<[u8; 256]>)> {
    let s = session_file::load(p).unwrap().unwrap();
    s.dcs.iter().map(|d| (d.id, d.auth_key)).collect()
}

#[test]
fn bot_login_saves_a_private_session_that_later_runs_reuse() {
    let dc = start("login-bot", 2);
    let session = dc.dir.join("state/session");
    let out = tgmux(
        &args(&dc, &session, &["login", "--bot-token", "123456:secret"]),
        "",
    );
    let line = stdout(&out);
    assert!(
        line.starts_with("logged in as bot 123456 (@") && line.trim_end().ends_with(" on DC 1"),
        "{line}"
    );
    assert_eq!(line.lines().count(), 1, "{line}");
    assert_eq!(mode(&session), 0o600);
    let saved = session_file::load(&session).unwrap().unwrap();
    assert_eq!(saved.user.map(|u| (u.user_id, u.bot)), Some((123456, true)));
    assert!(saved.dc(1).unwrap().authorized);
    let first = keys(&session);
    assert!(first[0].1.is_some());

    // A second login on the same file (over another transport) makes no new key.
    let out = tgmux(
        &args(
            &dc,
            &session,
            &[
                "-v",
                "--transport",
                "obfuscated",
                "login",
                "--bot-token",
                "123456:secret",
            ],
        ),
        "",
    );
    stdout(&out);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("auth keys: 0 new"), "{err}");
    assert_eq!(keys(&session), first);
    assert_eq!(mode(&session), 0o600);
    // Nor does ping.
    let out = tgmux(&args(&dc, &session, &["ping", "--count", "1"]), "");
    assert!(stdout(&out).contains("key: reused"));
}

#[test]
fn user_login_follows_phone_migrate_and_answers_2fa() {
    let dc = start_with(
        "login-user",
        2,
        &["--faults", "migrate", "--password", "hunter 2"],
    );
    let session = dc.dir.join("session");
    // A test phone of DC 2 (code 22222): DC 1 answers PHONE_MIGRATE_2.
    let login = args(&dc, &session, &["login", "--phone", "+9996621234"]);
    one_line_error(&tgmux(&login, "11111\nhunter 2\n"), "wrong login code");
    one_line_error(&tgmux(&login, "22222\nhunter\n"), "wrong 2FA password");
    one_line_error(&tgmux(&login, ""), "no login code given");
    one_line_error(&tgmux(&login, "22222\n"), "no 2FA password given");
    let line = stdout(&tgmux(&login, "22222\nhunter 2\n"));
    assert!(line.starts_with("logged in as user "), "{line}");
    assert!(line.trim_end().ends_with(" on DC 2"), "{line}");
    let saved = session_file::load(&session).unwrap().unwrap();
    assert_eq!(saved.home_dc, 2);
    assert!(saved.user.is_some_and(|u| !u.bot));
    assert!(saved.dc(2).unwrap().authorized);
    assert_eq!(mode(&session), 0o600);
}

#[test]
fn logout_forgets_the_login_and_calls_then_say_run_tgmux_login() {
    let dc = start("login-logout", 2);
    let session = dc.dir.join("session");
    stdout(&tgmux(
        &args(&dc, &session, &["login", "--bot-token", "42:x"]),
        "",
    ));
    let key_before = keys(&session);
    assert_eq!(
        stdout(&tgmux(&args(&dc, &session, &["logout"]), "")).trim(),
        "logged out"
    );
    let saved = session_file::load(&session).unwrap().unwrap();
    assert!(saved.user.is_none() && saved.dcs.iter().all(|d| !d.authorized));
    assert_eq!(keys(&session), key_before, "logout keeps the keys");
    one_line_error(
        &tgmux(&args(&dc, &session, &["logout"]), ""),
        "not logged in",
    );
    // A call through the pool on the same session file.
    let (e, _) = get_self(&dc, &session);
    let e = e.unwrap_err();
    assert!(
        e.to_string()
            .starts_with("not logged in: run `tgmux login`"),
        "{e}"
    );
}

#[test]
fn session_file_default_location_and_a_corrupt_one() {
    let dc = start("login-files", 1);
    let data = dc.dir.join("xdg");
    let login = [
        "--dc-config",
        s(&dc.config),
        "--api-id",
        "1",
        "--api-hash",
        "x",
        "login",
        "--bot-token",
        "7:y",
    ];
    stdout(&tgmux_env(&login, "", &[("XDG_DATA_HOME", &data)]));
    let session = data.join("tgmux/session");
    assert_eq!(mode(&session), 0o600);
    assert!(session_file::load(&session)
        .unwrap()
        .unwrap()
        .user
        .is_some());

    // A corrupt file is an error, and stays as it was (no silent new login).
    std::fs::write(&session, b"TGMUXSES garbage").unwrap();
    one_line_error(
        &tgmux_env(&login, "", &[("XDG_DATA_HOME", &data)]),
        "is corrupt",
    );
    assert_eq!(std::fs::read(&session).unwrap(), b"TGMUXSES garbage");
    one_line_error(
        &tgmux_env(&["logout"], "", &[("XDG_DATA_HOME", &data)]),
        "is corrupt",
    );
}

#[test]
fn bad_login_input_is_a_one_line_error() {
    let dc = start("login-bad", 1);
    let session = dc.dir.join("session");
    one_line_error(
        &tgmux(&args(&dc, &session, &["login", "--bot-token", "abc"]), ""),
        "--bot-token",
    );
    one_line_error(
        &tgmux(&args(&dc, &session, &["login", "--phone", "12x"]), ""),
        "--phone",
    );
    // No api_id/api_hash anywhere.
    one_line_error(
        &tgmux(
            &[
                "--dc-config",
                s(&dc.config),
                "--session",
                s(&session),
                "login",
                "--bot-token",
                "1:a",
            ],
            "",
        ),
        "api",
    );
    assert!(
        !session.exists()
            || session_file::load(&session)
                .unwrap()
                .unwrap()
                .user
                .is_none()
    );
}

/// `users.getUsers(self)` through a pool on `session` (directly to `dc`), and the pool's stats.
fn get_self(
    dc: &LocalDc,
    session: &Path,
) -> (
    Result<Vec<enums::User>, tgmux::net::InvokeError>,
    tgmux::net::PoolStats,
) {
    let mut config = PoolConfig::new(dc.network(), 1);
    config.session_path = Some(session.to_owned());
    let pool = Pool::open(config).unwrap();
    let r = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(pool.invoke(&functions::users::GetUsers {
            id: vec![enums::InputUser::InputUserSelf(types::InputUserSelf {})],
        }));
    (r, pool.stats())
}

/// `rest` after the flags for the DC config `config` and `session`.
fn args_for<'a>(config: &'a Path, session: &'a Path, rest: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec![
        "--dc-config",
        s(config),
        "--session",
        s(session),
        "--api-id",
        "1",
        "--api-hash",
        "x",
    ];
    v.extend_from_slice(rest);
    v
}

/// Asserts that the session is still logged in as a bot on DC 1 with `key`.
fn still_logged_in(session: &Path, key: &[u8; 256]) {
    let saved = session_file::load(session).unwrap().unwrap();
    assert!(saved.user.is_some(), "the login is gone");
    let dc1 = saved.dc(1).unwrap();
    assert!(dc1.authorized, "DC 1 is no longer authorized");
    assert!(
        dc1.auth_key.as_ref() == Some(key),
        "the logged-in key was replaced"
    );
    assert_eq!(mode(session), 0o600);
}

#[test]
fn a_forged_404_never_discards_the_logged_in_key() {
    let dc = start("login-forged-404", 1);
    let session = dc.dir.join("session");
    stdout(&tgmux(
        &args(&dc, &session, &["login", "--bot-token", "123456:secret"]),
        "",
    ));
    let key = keys(&session)[0].1.unwrap();
    // Someone on the path answers the first connection with the 4 bytes of -404.
    let proxy = Injector::start(dc.port, 1);
    let forged = config_with_port(&dc, 1, proxy.port, &dc.dir.join("forged.toml"));

    let out = tgmux(&args_for(&forged, &session, &["ping", "--count", "2"]), "");
    let text = stdout(&out);
    assert_eq!(proxy.injected(), 1);
    assert!(text.contains("key: temporary"), "{text}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("answered -404") && err.contains("kept"),
        "{err}"
    );
    still_logged_in(&session, &key);

    // Through the pool: a logout on the temporary key is refused, the login stays.
    proxy.arm(1);
    one_line_error(
        &tgmux(&args_for(&forged, &session, &["logout"]), ""),
        "answered -404",
    );
    assert_eq!(proxy.injected(), 2);
    still_logged_in(&session, &key);

    // A later run without the injection works logged in with the same key.
    let (users, stats) = get_self(&dc, &session);
    assert_eq!(users.unwrap().len(), 1);
    assert_eq!(stats.key_exchanges, 0);
    still_logged_in(&session, &key);

    // A login that succeeds on a temporary key is the evidence: that key replaces the old one.
    proxy.arm(1);
    stdout(&tgmux(
        &args_for(
            &forged,
            &session,
            &["login", "--bot-token", "123456:secret"],
        ),
        "",
    ));
    assert_eq!(proxy.injected(), 3);
    let saved = session_file::load(&session).unwrap().unwrap();
    let dc1 = saved.dc(1).unwrap();
    assert!(dc1.authorized && dc1.auth_key.is_some() && dc1.auth_key != Some(key));
    assert_eq!(
        stdout(&tgmux(&args(&dc, &session, &["logout"]), "")).trim(),
        "logged out"
    );
}

#[test]
fn a_concurrent_ping_keeps_a_login_made_meanwhile() {
    let dc = start_with("login-concurrent", 2, &["--faults", "delay=20"]);
    let session = dc.dir.join("session");
    let ping_args = args(&dc, &session, &["ping", "--dc", "all", "--count", "40"]);
    let mut ping = Command::new(env!("CARGO_BIN_EXE_tgmux"));
    ping.args(&ping_args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut ping = ping.spawn().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    let line = stdout(&tgmux(
        &args(&dc, &session, &["login", "--bot-token", "123456:abc"]),
        "",
    ));
    assert!(line.starts_with("logged in as bot 123456"), "{line}");
    assert!(
        ping.try_wait().unwrap().is_none(),
        "the ping ended before the login: the test shows nothing"
    );
    let out = wait_or_fail(ping, &ping_args);
    assert_eq!(stdout(&out).lines().count(), 2);
    assert_eq!(mode(&session), 0o600);
    let saved = session_file::load(&session).unwrap().unwrap();
    assert!(saved.user.is_some(), "the ping's save lost the login");
    assert_eq!(
        stdout(&tgmux(&args(&dc, &session, &["logout"]), "")).trim(),
        "logged out"
    );
}

#[test]
fn login_errors_name_the_address_and_other_networks_the_choices() {
    let dc = start("login-where", 1);
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let config = config_with_port(&dc, 1, closed, &dc.dir.join("closed.toml"));
    let session = dc.dir.join("session");
    one_line_error(
        &tgmux(
            &args_for(&config, &session, &["login", "--bot-token", "1:a"]),
            "",
        ),
        &format!("bot login: DC 1 (127.0.0.1:{closed}): "),
    );
    stdout(&tgmux(
        &args(&dc, &session, &["login", "--bot-token", "1:a"]),
        "",
    ));
    let other = start("login-where-other", 1);
    for cmd in [&["logout"][..], &["ping"][..]] {
        one_line_error(
            &tgmux(&args(&other, &session, cmd), ""),
            "; delete the file to start a new session there, or use another --session",
        );
    }
}
