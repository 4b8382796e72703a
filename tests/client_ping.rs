//! `tgmux ping` and the client connection driver against a real `tgmux local-dc` on 127.0.0.1:
//! every DC over every transport, session keys reused, clean one-line errors for unreachable
//! or misbehaving servers and bad files, and many pipelined calls on one connection.

mod localdc_util;

use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

use localdc_util::{
    config_with_port, one_line_error, s, scratch, start, start_with, stdout, tgmux, tgmux_in,
};
use tgmux::crypto::RsaPublicKey;
use tgmux::dcconfig::DcConfig;
use tgmux::net::session_file;
use tgmux::net::{connect, ConnectOptions, InvokeError};
use tgmux::tl::{enums, functions};

/// A DC config naming one DC at `port` on 127.0.0.1 (with a well-formed key).
fn config_for_port(dir: &Path, port: u16) -> std::path::PathBuf {
    let path = dir.join("dc.toml");
    DcConfig {
        rsa_public_keys: vec![tgmux::config::TEST_RSA_KEY.into()],
        dcs: vec![tgmux::dcconfig::DcEntry {
            id: 1,
            ip: "127.0.0.1".parse().unwrap(),
            port,
        }],
    }
    .write(&path)
    .unwrap();
    path
}

#[test]
fn every_dc_over_every_transport() {
    let dc = start("transports", 3);
    let config = s(&dc.config);
    let cases = [
        ("abridged", "abridged"),
        ("intermediate", "intermediate"),
        ("padded", "padded"),
        ("full", "full"),
        ("obfuscated", "obfuscated/intermediate"),
    ];
    for (i, (flag, shown)) in cases.iter().enumerate() {
        // --transport is global: before the subcommand for some, after it for others.
        let out = if i % 2 == 0 {
            tgmux(&[
                "--transport",
                flag,
                "--dc-config",
                config,
                "ping",
                "--dc",
                "all",
                "--count",
                "3",
            ])
        } else {
            tgmux(&[
                "--dc-config",
                config,
                "ping",
                "--dc",
                "all",
                "--transport",
                flag,
                "--count",
                "3",
            ])
        };
        let text = stdout(&out);
        let lines: Vec<_> = text.lines().collect();
        assert_eq!(lines.len(), 3, "{flag}: {text}");
        for (j, line) in lines.iter().enumerate() {
            let id = j + 1;
            let prefix = format!(
                "DC {id}  127.0.0.1:{}  {shown}  key: new ",
                dc.port as usize + j
            );
            assert!(line.starts_with(&prefix), "{flag}: {line}");
            assert!(line.contains("(median of 3)"), "{line}");
        }
    }
    // The home DC alone by default, one DC by id.
    let text = stdout(&tgmux(&["--dc-config", config, "ping"]));
    assert_eq!(text.lines().count(), 1);
    assert!(text.starts_with("DC 1  "), "{text}");
    let text = stdout(&tgmux(&[
        "--dc-config",
        config,
        "ping",
        "--dc",
        "2",
        "--count",
        "1",
    ]));
    assert!(
        text.starts_with("DC 2  ") && text.lines().count() == 1,
        "{text}"
    );
    one_line_error(
        &tgmux(&["--dc-config", config, "ping", "--dc", "9"]),
        "no such DC",
    );
}

#[test]
fn session_keys_are_saved_private_and_reused() {
    let dc = start("session", 2);
    let session = dc.dir.join("sub/session");
    let (config, sess) = (s(&dc.config), s(&session));
    let text = stdout(&tgmux(&[
        "--dc-config",
        config,
        "--session",
        sess,
        "ping",
        "--dc",
        "all",
    ]));
    assert_eq!(text.matches("key: new").count(), 2, "{text}");
    let mode = std::fs::metadata(&session).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "session mode {mode:o}");
    let first = session_file::load(&session).unwrap().unwrap();
    assert!(first.dc(1).unwrap().auth_key.is_some() && first.dc(2).unwrap().auth_key.is_some());

    let text = stdout(&tgmux(&[
        "--dc-config",
        config,
        "--session",
        sess,
        "--json",
        "ping",
        "--dc",
        "all",
    ]));
    let lines: Vec<_> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    for line in &lines {
        assert!(line.starts_with('{') && line.ends_with('}'), "{line}");
        assert!(
            line.contains("\"key\":\"reused\""),
            "no second key exchange: {line}"
        );
        assert!(line.contains("\"key_exchange_ms\":null"), "{line}");
    }
    let second = session_file::load(&session).unwrap().unwrap();
    for id in [1, 2] {
        assert_eq!(
            second.dc(id).unwrap().auth_key,
            first.dc(id).unwrap().auth_key
        );
    }
    assert_eq!(
        std::fs::metadata(&session).unwrap().permissions().mode() & 0o777,
        0o600
    );

    // Keys of another network are refused, with a clear line.
    let other = start("session-other", 1);
    one_line_error(
        &tgmux(&["--dc-config", s(&other.config), "--session", sess, "ping"]),
        "belongs to network",
    );
}

#[test]
fn a_key_the_server_forgot_is_replaced() {
    // Two local-dc runs with the same RSA key are the same network, but the second one does
    // not know the keys made with the first: it answers -404 and ping makes a new key.
    let dir = scratch("forgot");
    let key = tgmux::crypto::RsaPrivateKey::generate(
        2048,
        &mut <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(7),
    )
    .unwrap();
    let pem = dir.join("key.pem");
    std::fs::write(&pem, key.to_pkcs1_pem()).unwrap();
    let session = dir.join("session");
    let sess = s(&session);
    let first = start_with("forgot-1", 1, &["--rsa-key", s(&pem)]);
    let text = stdout(&tgmux(&[
        "--dc-config",
        s(&first.config),
        "--session",
        sess,
        "ping",
    ]));
    assert!(text.contains("key: new"), "{text}");
    let before = session_file::load(&session).unwrap().unwrap();
    drop(first);
    let second = start_with("forgot-2", 1, &["--rsa-key", s(&pem)]);
    let text = stdout(&tgmux(&[
        "--dc-config",
        s(&second.config),
        "--session",
        sess,
        "ping",
    ]));
    assert!(text.contains("key: new"), "{text}");
    let after = session_file::load(&session).unwrap().unwrap();
    assert_ne!(
        after.dc(1).unwrap().auth_key,
        before.dc(1).unwrap().auth_key
    );
    let text = stdout(&tgmux(&[
        "--dc-config",
        s(&second.config),
        "--session",
        sess,
        "ping",
    ]));
    assert!(text.contains("key: reused"), "{text}");
}

#[test]
fn corrupt_session_and_bad_config_are_clear_errors() {
    let dc = start("corrupt", 1);
    let session = dc.dir.join("session");
    std::fs::write(&session, b"TGMUXSES garbage").unwrap();
    one_line_error(
        &tgmux(&[
            "--dc-config",
            s(&dc.config),
            "--session",
            s(&session),
            "ping",
        ]),
        "corrupt",
    );
    let dir = scratch("badconfig");
    let bad = dir.join("dc.toml");
    std::fs::write(&bad, "dcs = 3").unwrap();
    one_line_error(&tgmux(&["--dc-config", s(&bad), "ping"]), "dc.toml");
    one_line_error(
        &tgmux(&["--dc-config", s(&dir.join("missing.toml")), "ping"]),
        "missing.toml",
    );
    std::fs::write(
        &bad,
        "rsa_public_keys = [\"-----BEGIN RSA PUBLIC KEY-----\\nAAAA\\n-----END RSA PUBLIC KEY-----\"]\n[[dcs]]\nid = 1\nip = \"127.0.0.1\"\nport = 1\n",
    )
    .unwrap();
    one_line_error(&tgmux(&["--dc-config", s(&bad), "ping"]), "RSA");
}

#[test]
fn unreachable_dc_is_a_one_line_error() {
    let dir = scratch("unreachable");
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let config = config_for_port(&dir, port);
    let out = tgmux(&["--dc-config", s(&config), "ping", "--timeout", "5"]);
    one_line_error(&out, &format!("DC 1 (127.0.0.1:{port})"));
}

#[test]
fn server_that_closes_or_stays_silent_is_an_error() {
    let dir = scratch("closing");
    let closer = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closer.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in closer.incoming() {
            drop(stream);
        }
    });
    let config = config_for_port(&dir, port);
    one_line_error(&tgmux(&["--dc-config", s(&config), "ping"]), "closed");

    // A server that reads and never answers: the answer timeout ends it.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in silent.incoming().flatten() {
            held.push(stream);
        }
    });
    let dir = scratch("silent");
    let config = config_for_port(&dir, port);
    one_line_error(
        &tgmux(&["--dc-config", s(&config), "ping", "--timeout", "1"]),
        "timed out",
    );
}

#[test]
fn hundred_pipelined_calls_on_one_connection() {
    let dc = start("pipelined", 1);
    let config = DcConfig::read(&dc.config).unwrap();
    let keys = vec![RsaPublicKey::from_pkcs1_pem(&config.rsa_public_keys[0]).unwrap()];
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let opts = ConnectOptions::new(1, config.dcs[0].addr(), keys, 1);
        let connected = connect(&opts).await.unwrap();
        assert!(connected.key_exchange.is_some());
        let enums::Config::Config(c) = &connected.config;
        assert_eq!(c.this_dc, 1);
        let client = connected.client;
        // Three kinds of call interleaved, so a mixed-up answer would show: help.getConfig
        // (a Config), help.getAppConfig (an rpc_error from local-dc) and MTProto pings.
        let mut tasks = Vec::new();
        for i in 0..100 {
            let client = client.clone();
            tasks.push(tokio::spawn(async move {
                match i % 3 {
                    0 => {
                        let enums::Config::Config(c) =
                            client.invoke(&functions::help::GetConfig {}).await.unwrap();
                        assert_eq!(c.this_dc, 1);
                        0
                    }
                    1 => {
                        let e = client
                            .invoke(&functions::help::GetAppConfig { hash: 0 })
                            .await
                            .unwrap_err();
                        let InvokeError::Rpc(rpc) = &e else {
                            panic!("expected an rpc_error, got {e:?}")
                        };
                        assert!(rpc.code >= 400, "{rpc:?}");
                        1
                    }
                    _ => {
                        client.ping().await.unwrap();
                        2
                    }
                }
            }));
        }
        let mut kinds = [0; 3];
        for t in tasks {
            kinds[t.await.unwrap()] += 1;
        }
        assert_eq!(kinds, [34, 33, 33]);
        assert!(!client.is_closed());
        // The connection carries on after all that.
        client.invoke(&functions::help::GetConfig {}).await.unwrap();
    });
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn options(dc: &localdc_util::LocalDc) -> ConnectOptions {
    let config = DcConfig::read(&dc.config).unwrap();
    let keys = vec![RsaPublicKey::from_pkcs1_pem(&config.rsa_public_keys[0]).unwrap()];
    ConnectOptions::new(1, config.dcs[0].addr(), keys, 1)
}

#[test]
fn flood_wait_is_a_typed_error() {
    let dc = start_with("flood", 1, &["--faults", "flood=1:5"]);
    runtime().block_on(async {
        let client = connect(&options(&dc)).await.unwrap().client;
        let request = functions::upload::GetFile {
            precise: false,
            cdn_supported: false,
            location: tgmux::tl::types::InputDocumentFileLocation {
                id: 1,
                access_hash: 2,
                file_reference: Default::default(),
                thumb_size: String::new(),
            }
            .into(),
            offset: 0,
            limit: 4096,
        };
        let e = client.invoke(&request).await.unwrap_err();
        assert!(e.is_flood_wait(), "{e:?}");
        assert_eq!(e.flood_wait_seconds(), Some(5));
        assert_eq!(e.rpc().map(|r| r.code), Some(420));
        // Not a connection error: the connection still answers.
        client.ping().await.unwrap();
    });
}

#[test]
fn pipelined_calls_survive_bad_server_salts() {
    // local-dc answers 20% of packets with bad_server_salt: the session resends them.
    let dc = start_with("salt", 1, &["--faults", "salt=0.2", "--seed", "3"]);
    runtime().block_on(async {
        let client = connect(&options(&dc)).await.unwrap().client;
        let mut tasks = Vec::new();
        for _ in 0..50 {
            let client = client.clone();
            tasks.push(tokio::spawn(async move {
                client.invoke(&functions::help::GetConfig {}).await
            }));
        }
        for t in tasks {
            t.await.unwrap().unwrap();
        }
    });
}

#[test]
fn a_server_dropping_the_connection_mid_rpc_is_an_error() {
    // drop=1: local-dc closes the connection on the first RPC (after the key exchange).
    let dc = start_with("drop", 1, &["--faults", "drop=1"]);
    one_line_error(
        &tgmux(&["--dc-config", s(&dc.config), "ping"]),
        "connection closed by the server",
    );
    runtime().block_on(async {
        let e = connect(&options(&dc)).await.unwrap_err();
        assert!(matches!(e, InvokeError::Closed), "{e:?}");
    });
}

#[test]
fn keepalive_pings_hold_an_idle_connection() {
    let dc = start("keepalive", 1);
    runtime().block_on(async {
        let mut opts = options(&dc);
        // A ping_delay_disconnect every second, each giving the server 2 s: had only the
        // first one gone out, the server would close the connection about 3 s in.
        opts.keepalive = Some(Duration::from_secs(1));
        let client = connect(&opts).await.unwrap().client;
        tokio::time::sleep(Duration::from_secs(5)).await;
        assert!(!client.is_closed());
        client.ping().await.unwrap();
        assert_eq!(client.reconnects(), 0);
    });
}

#[test]
fn ping_all_reports_every_dc_when_one_is_dead() {
    let dc = start("dead-dc", 3);
    let dead = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let config = config_with_port(&dc, 2, dead, &dc.dir.join("dead.toml"));
    let ping = [
        "--dc-config",
        s(&config),
        "ping",
        "--dc",
        "all",
        "--count",
        "1",
    ];
    let out = tgmux(&ping);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<_> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(
        lines[0].starts_with("DC 1  ") && lines[1].starts_with("DC 3  "),
        "{text}"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with(&format!("tgmux: error: DC 2 (127.0.0.1:{dead}): ")),
        "{err}"
    );

    let mut json = vec!["--json"];
    json.extend_from_slice(&ping);
    let out = tgmux(&json);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert_eq!(lines[1]["dc"], 2);
    assert_eq!(lines[1]["addr"], format!("127.0.0.1:{dead}"));
    assert!(lines[1]["error"].as_str().unwrap().starts_with("DC 2 ("));
    assert_eq!(lines[2]["dc"], 3);
    assert_eq!(lines[2]["key"], "new");
}

#[test]
fn ping_uses_the_default_session_like_login() {
    let dc = start("default-session", 1);
    let data = dc.dir.join("xdg");
    let ping = ["--dc-config", s(&dc.config), "ping", "--count", "1"];
    assert!(stdout(&tgmux_in(&ping, &data)).contains("key: new"));
    assert!(stdout(&tgmux_in(&ping, &data)).contains("key: reused"));
    let login = [
        "-v",
        "--dc-config",
        s(&dc.config),
        "--api-id",
        "1",
        "--api-hash",
        "x",
        "login",
        "--bot-token",
        "5:z",
    ];
    let out = tgmux_in(&login, &data);
    stdout(&out);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("auth keys: 0 new"), "{err}");
    let session = data.join("tgmux/session");
    assert_eq!(
        std::fs::metadata(&session).unwrap().permissions().mode() & 0o777,
        0o600
    );
}

#[test]
fn a_server_answering_http_is_named_as_not_mtproto() {
    let http = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = http.local_addr().unwrap().port();
    std::thread::spawn(move || {
        use std::io::{Read, Write};
        for mut stream in http.incoming().flatten() {
            let mut buf = [0u8; 1024];
            let _ = stream.read(&mut buf);
            let _ = stream.write_all(
                b"HTTP/1.1 400 Bad Request\r\nContent-Length: 11\r\nConnection: close\r\n\r\nBad Request",
            );
        }
    });
    let dir = scratch("http");
    let config = config_for_port(&dir, port);
    for transport in ["intermediate", "abridged", "full", "obfuscated"] {
        one_line_error(
            &tgmux(&[
                "--dc-config",
                s(&config),
                "--transport",
                transport,
                "ping",
                "--timeout",
                "5",
            ]),
            &format!(
                "DC 1 (127.0.0.1:{port}): the server at 127.0.0.1:{port} does not speak MTProto (it answered HTTP)"
            ),
        );
    }
}

#[test]
fn sigint_prints_the_pings_so_far_and_keeps_the_key() {
    let dc = start_with("sigint", 1, &["--faults", "delay=20"]);
    let session = dc.dir.join("session");
    let args = [
        "--dc-config",
        s(&dc.config),
        "--session",
        s(&session),
        "ping",
        "--count",
        "10000",
    ];
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_tgmux"))
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !session.exists() {
        assert!(std::time::Instant::now() < deadline, "no key saved");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
    let killed = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let out = localdc_util::wait_or_fail(child, &args);
    assert_eq!(out.status.code(), Some(130), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with("DC 1  ") && text.contains("key: new") && text.contains("(median of "),
        "{text}"
    );
    assert!(!text.contains("(median of 10000)"), "{text}");
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim(),
        "tgmux: error: interrupted"
    );
    let saved = session_file::load(&session).unwrap().unwrap();
    assert!(saved.dc(1).unwrap().auth_key.is_some());
    assert!(stdout(&tgmux(&[
        "--dc-config",
        s(&dc.config),
        "--session",
        s(&session),
        "ping",
        "--count",
        "1"
    ]))
    .contains("key: reused"));
}
