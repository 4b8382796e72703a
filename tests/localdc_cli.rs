//! `tgmux local-dc` start-up: bad flags are one-line errors with a non-zero exit, never a
//! panic or a hang; a good start writes a DC config that `DcConfig` reads and whose ports
//! accept connections.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tgmux::dcconfig::DcConfig;

fn tgmux(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_tgmux"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn one_line_error(out: &std::process::Output, needle: &str) {
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<_> = err.lines().collect();
    assert_eq!(lines.len(), 1, "one line expected: {err}");
    assert!(
        lines[0].starts_with("tgmux: error: ") && lines[0].contains(needle),
        "{err}"
    );
}

#[test]
fn bad_flags_are_one_line_errors() {
    let dir = std::env::temp_dir().join(format!("tgmux-localdc-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let media = dir.to_str().unwrap();
    one_line_error(
        &tgmux(&["local-dc", "--media", media, "--faults", "flood=2"]),
        "--faults",
    );
    one_line_error(
        &tgmux(&["local-dc", "--media", media, "--faults", "bogus"]),
        "unknown fault `bogus`",
    );
    one_line_error(
        &tgmux(&[
            "local-dc",
            "--media",
            "/nonexistent/tgmux",
            "--listen",
            "127.0.0.1:1",
        ]),
        "--media",
    );
    one_line_error(
        &tgmux(&["local-dc", "--media", media, "--dcs", "0"]),
        "--dcs",
    );
    std::fs::write(dir.join("key.pem"), "not a key").unwrap();
    one_line_error(
        &tgmux(&[
            "local-dc",
            "--media",
            media,
            "--rsa-key",
            dir.join("key.pem").to_str().unwrap(),
        ]),
        "--rsa-key",
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn writes_a_readable_config_and_listens() {
    let dir = std::env::temp_dir().join(format!("tgmux-localdc-cfg-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("media/chan")).unwrap();
    let config = dir.join("dc.toml");
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut child = Command::new(env!("CARGO_BIN_EXE_tgmux"))
        .args(["local-dc", "--dcs", "2", "--media"])
        .arg(dir.join("media"))
        .args(["--listen", &format!("127.0.0.1:{port}"), "--write-config"])
        .arg(&config)
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !config.exists() {
        assert!(child.try_wait().unwrap().is_none(), "local-dc exited early");
        assert!(Instant::now() < deadline, "no config written");
        std::thread::sleep(Duration::from_millis(50));
    }
    let c = DcConfig::read(&config).unwrap();
    assert_eq!(
        c.dcs.iter().map(|d| (d.id, d.port)).collect::<Vec<_>>(),
        vec![(1, port), (2, port + 1)]
    );
    assert!(tgmux::crypto::RsaPublicKey::from_pkcs1_pem(&c.rsa_public_keys[0]).is_ok());
    for d in &c.dcs {
        std::net::TcpStream::connect(d.addr()).unwrap();
    }
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
}
