//! Telethon 1.44.0 as a client of our RSA server key: its `rsa.encrypt` (the old
//! `SHA1 | data | padding` scheme it sends in `req_DH_params`) under a key our test server
//! generated must decrypt with ours, and its fingerprint of that key must equal ours.
//!
//! Python comes from `TGMUX_PYTHON` (set by scripts/test) or `.venv-test/bin/python`. Without
//! Telethon the test fails under `CI=true` and is skipped with a note otherwise.

use std::path::PathBuf;
use std::process::Command;

use rand::{rngs::StdRng, RngCore, SeedableRng};
use tgmux::crypto::{RsaPlaintext, RsaPrivateKey};

const SCRIPT: &str = r#"
import sys
from telethon.crypto import rsa
pem = sys.stdin.read()
rsa.add_key(pem, old=False)
key = rsa.rsa.PublicKey.load_pkcs1(pem)
fp = rsa._compute_fingerprint(key)
print(fp & 0xFFFFFFFFFFFFFFFF)
for data_hex in sys.argv[1:]:
    print(rsa.encrypt(fp, bytes.fromhex(data_hex)).hex())
"#;

fn python_with_telethon() -> Option<PathBuf> {
    let candidates = std::env::var_os("TGMUX_PYTHON")
        .map(PathBuf::from)
        .into_iter()
        .chain([PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv-test/bin/python")]);
    for python in candidates {
        let ok = Command::new(&python)
            .args(["-c", "import telethon"])
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false);
        if ok {
            return Some(python);
        }
    }
    None
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

#[test]
fn telethon_old_scheme_under_our_server_key() {
    let Some(python) = python_with_telethon() else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "Telethon oracle missing (set TGMUX_PYTHON or run scripts/test)"
        );
        eprintln!("note: Telethon not found, skipping telethon_old_scheme_under_our_server_key");
        return;
    };
    let key = RsaPrivateKey::generate(2048, &mut StdRng::seed_from_u64(0x007e_57dc)).unwrap();
    let mut rng = StdRng::seed_from_u64(31);
    let datas: Vec<Vec<u8>> = [1usize, 96, 140, 235]
        .iter()
        .map(|&n| {
            let mut d = vec![0u8; n];
            rng.fill_bytes(&mut d);
            d
        })
        .collect();
    let mut child = Command::new(&python)
        .arg("-c")
        .arg(SCRIPT)
        .args(datas.iter().map(|d| hex(d)))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(key.public_key().to_pkcs1_pem().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "python failed");
    let text = String::from_utf8(out.stdout).unwrap();
    let mut lines = text.lines();
    let fingerprint: u64 = lines.next().unwrap().trim().parse().unwrap();
    assert_eq!(fingerprint, key.public_key().fingerprint());
    for data in &datas {
        let encrypted = unhex(lines.next().unwrap().trim());
        assert_eq!(encrypted.len(), 256);
        match key.decrypt_inner_data(&encrypted).unwrap() {
            RsaPlaintext::Old(old) => assert_eq!(old.data(data.len()).unwrap(), &data[..]),
            other => panic!("expected the old scheme, got {other:?}"),
        }
    }
}
