//! `--proxy` (MTProxy) against a real `tgmux local-dc --proxy-secret`: every listener then
//! acts as an MTProxy for all DCs, serving each obfuscated2 connection as the DC its init
//! names. The DC config given to the client points at a closed port, so only a connection
//! that really goes through the proxy can succeed.

mod localdc_util;

use std::net::TcpListener;
use std::path::PathBuf;

use localdc_util::{
    document, get_file, login_bot, one_line_error, s, start_with, stdout, tgmux, LocalDc,
};
use tgmux::dcconfig::DcConfig;
use tgmux::net::session_file;

const KEY: &str = "00112233445566778899aabbccddeeff";

/// A port nothing listens on.
fn closed_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The local DC's config with every DC moved to a closed port: reachable only via the proxy.
fn unreachable_config(dc: &LocalDc) -> PathBuf {
    let mut c = DcConfig::read(&dc.config).unwrap();
    let port = closed_port();
    for d in &mut c.dcs {
        d.port = port;
    }
    let path = dc.dir.join("unreachable.toml");
    c.write(&path).unwrap();
    path
}

fn link(port: u16, secret: &str) -> String {
    format!("tg://proxy?server=127.0.0.1&port={port}&secret={secret}")
}

fn proxy_dc(name: &str) -> LocalDc {
    start_with(name, 2, &["--proxy-secret", &format!("dd{KEY}")])
}

#[test]
fn ping_goes_through_the_proxy_to_the_dc_in_the_init() {
    let dc = proxy_dc("proxy-ping");
    let cfg = unreachable_config(&dc);
    // Without the proxy the DCs are unreachable: the test below can only pass through it.
    let out = tgmux(&[
        "--dc-config",
        s(&cfg),
        "ping",
        "--dc",
        "1",
        "--timeout",
        "5",
    ]);
    assert!(!out.status.success());

    let dd = link(dc.port, &format!("dd{KEY}"));
    let out = tgmux(&[
        "--dc-config",
        s(&cfg),
        "--proxy",
        &dd,
        "ping",
        "--dc",
        "1",
        "--count",
        "2",
    ]);
    let line = stdout(&out);
    assert!(
        line.starts_with("DC 1 ") && line.contains("obfuscated/padded"),
        "{line}"
    );

    // DC 2 through DC 1's listener, whatever --transport says; the t.me form works too.
    let tme = format!(
        "https://t.me/proxy?server=127.0.0.1&port={}&secret=dd{KEY}",
        dc.port
    );
    for transport in ["full", "abridged"] {
        let out = tgmux(&[
            "--dc-config",
            s(&cfg),
            "--proxy",
            &tme,
            "--transport",
            transport,
            "--json",
            "ping",
            "--dc",
            "2",
            "--count",
            "1",
        ]);
        let json = stdout(&out);
        assert!(
            json.contains("\"this_dc\":2") && json.contains("\"transport\":\"obfuscated/padded\""),
            "{transport}: {json}"
        );
    }
}

#[test]
fn a_wrong_secret_is_a_clear_error_not_a_hang() {
    let dc = proxy_dc("proxy-wrong");
    let cfg = unreachable_config(&dc);
    let wrong = link(dc.port, &format!("dd{}", "ab".repeat(16)));
    let out = tgmux(&[
        "--dc-config",
        s(&cfg),
        "--proxy",
        &wrong,
        "ping",
        "--dc",
        "1",
        "--timeout",
        "3",
    ]);
    one_line_error(&out, "via proxy 127.0.0.1:");
    one_line_error(&out, "wrong proxy secret");
    // The right key without dd: this proxy takes padded intermediate only, so it refuses.
    let plain = link(dc.port, KEY);
    let out = tgmux(&[
        "--dc-config",
        s(&cfg),
        "--proxy",
        &plain,
        "ping",
        "--dc",
        "1",
        "--timeout",
        "3",
    ]);
    one_line_error(&out, "DC 1 (");
}

#[test]
fn bad_links_are_one_line_errors() {
    let cases = [
        (
            "tg://proxy?server=127.0.0.1&port=1".to_string(),
            "no secret",
        ),
        (
            format!("tg://proxy?server=127.0.0.1&secret={KEY}"),
            "no port",
        ),
        (
            format!("tg://proxy?server=h&port=1&secret=ee{KEY}6578616d706c652e636f6d"),
            "fake-TLS secrets (ee...) are not supported",
        ),
        (
            "tg://proxy?server=h&port=1&secret=xyz!".to_string(),
            "neither hex nor base64",
        ),
        (
            "tg://proxy?server=h&port=1&secret=1234".to_string(),
            "unknown secret kind",
        ),
    ];
    for (l, want) in cases {
        one_line_error(&tgmux(&["--test-dc", "--proxy", &l, "ping"]), want);
        one_line_error(
            &tgmux(&[
                "--test-dc",
                "--proxy",
                &l,
                "--api-id",
                "1",
                "--api-hash",
                "x",
                "--session",
                "/nonexistent/s",
                "login",
                "--bot-token",
                "1:x",
            ]),
            want,
        );
    }
    let out = tgmux(&[
        "local-dc",
        "--media",
        "/nonexistent",
        "--proxy-secret",
        "12",
    ]);
    one_line_error(&out, "--proxy-secret");
}

#[test]
fn login_and_other_dcs_through_the_proxy() {
    let dc = proxy_dc("proxy-login");
    let cfg = unreachable_config(&dc);
    let session = dc.dir.join("session");
    let dd = link(dc.port, &format!("dd{KEY}"));
    let base = [
        "--dc-config",
        s(&cfg),
        "--proxy",
        &dd,
        "--session",
        s(&session),
        "--api-id",
        "1",
        "--api-hash",
        "x",
    ];
    let mut args = base.to_vec();
    args.extend(["login", "--bot-token", "777:x"]);
    let line = stdout(&tgmux(&args));
    assert!(line.starts_with("logged in as bot 777"), "{line}");

    // The pool moves the login to DC 2, also through the proxy.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let network = network(&cfg);
    let mut pc = tgmux::net::PoolConfig::new(network, 1);
    pc.session_path = Some(session.clone());
    pc.proxy = Some(tgmux::config::Proxy::parse(&dd).unwrap());
    pc.reconnect_attempts = 0;
    let pool = tgmux::net::Pool::open(pc).unwrap();
    let tgmux::tl::enums::Config::Config(c) = runtime
        .block_on(pool.invoke_on(2, &tgmux::tl::functions::help::GetConfig {}))
        .unwrap();
    assert_eq!(c.this_dc, 2);
    assert_eq!(pool.stats().exports, 1);
    let saved = session_file::load(&session).unwrap().unwrap();
    assert!(saved.dc(2).unwrap().authorized);
}

#[test]
fn file_connections_name_the_media_dc_negated_and_still_reach_it() {
    let files: &[(&str, &[u8])] = &[("1.txt", b"one\n"), ("2.txt", b"second file\n")];
    let dc = localdc_util::start_with_files(
        "proxy-media",
        2,
        &["--proxy-secret", &format!("dd{KEY}"), "--media-dcs"],
        files,
    );
    let cfg = unreachable_config(&dc);
    let dd = link(dc.port, &format!("dd{KEY}"));
    let network = network(&cfg);
    let mut pc = tgmux::net::PoolConfig::new(network, 1);
    pc.proxy = Some(tgmux::config::Proxy::parse(&dd).unwrap());
    pc.reconnect_attempts = 0;
    let pool = tgmux::net::Pool::open(pc).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        use tgmux::tl::enums;
        login_bot(&pool, "5:x").await;
        assert!(pool.dc_options().has_media(2));
        let request = get_file(&document(&pool, 2).await);
        // DC 1's media connection (init dc -1) answers FILE_MIGRATE_2; DC 2's (init -2),
        // through the same proxy port, serves the file.
        let (file, on) = pool.invoke_file(1, &request).await.unwrap();
        assert_eq!(on, 2);
        let enums::upload::File::File(f) = file else {
            panic!("upload.file expected")
        };
        assert_eq!(&f.bytes[..], b"second file\n");
        assert_eq!(pool.stats().opened.len(), 4);
    });
}

/// The network `--dc-config cfg` gives the CLI.
fn network(cfg: &std::path::Path) -> tgmux::config::Network {
    let cli = <tgmux::cli::Cli as clap::Parser>::try_parse_from([
        "tgmux",
        "--dc-config",
        s(cfg),
        "logout",
    ])
    .unwrap();
    tgmux::config::network_from_globals(&cli.globals).unwrap()
}
