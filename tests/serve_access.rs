//! Access control of `tgmux serve` with real curl: bearer tokens (header and query) and
//! signed links (good, expired, forged, wrong path), with Python's `hmac` module as the
//! independent signer.

mod localdc_util;
mod serve_util;

use std::time::{SystemTime, UNIX_EPOCH};

use localdc_util::{stdout, tgmux};
use serve_util::{get, start};

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// HMAC-SHA256(key, "<path>\n<exp>") in hex, computed by Python.
fn python_sig(key: &str, path: &str, exp: u64) -> String {
    let out = std::process::Command::new("python3")
        .args([
            "-c",
            "import hmac, hashlib, sys\n\
             print(hmac.new(sys.argv[1].encode(), (sys.argv[2] + '\\n' + sys.argv[3]).encode(), \
             hashlib.sha256).hexdigest())",
            key,
            path,
            &exp.to_string(),
        ])
        .output()
        .expect("python3");
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

#[test]
fn bearer_tokens() {
    let srv = start(
        "token",
        &[("alice/12.txt", b"twelve\n")],
        &["--token", "s3cret"],
    );
    let url = format!("{}/alice/12", srv.base);
    let r = get(&url, &[]);
    assert_eq!(
        (r.status, r.text().as_str()),
        (401, "credentials required\n")
    );
    assert_eq!(r.must("www-authenticate"), "Bearer");
    assert_eq!(
        get(&url, &["Authorization: Bearer s3cret"]).body,
        b"twelve\n"
    );
    assert_eq!(get(&url, &["Authorization: bearer s3cret"]).status, 200);
    assert_eq!(get(&format!("{url}?token=s3cret"), &[]).body, b"twelve\n");
    assert_eq!(get(&format!("{url}?token=s3cre%74"), &[]).status, 200);
    let r = get(&url, &["Authorization: Bearer s3cre"]);
    assert_eq!((r.status, r.text().as_str()), (401, "bad token\n"));
    assert_eq!(get(&format!("{url}?token=S3CRET"), &[]).status, 401);
    assert_eq!(get(&url, &["Authorization: Basic czNjcmV0"]).status, 401);
    // Every route but /healthz wants the token, 404s included (nothing leaks).
    assert_eq!(get(&format!("{}/metrics", srv.base), &[]).status, 401);
    assert_eq!(get(&format!("{}/alice/99", srv.base), &[]).status, 401);
    assert_eq!(
        get(&format!("{}/metrics?token=s3cret", srv.base), &[]).status,
        200
    );
    assert_eq!(get(&format!("{}/healthz", srv.base), &[]).status, 200);
    // No signed-link key: a signature is no credential.
    let sig = python_sig("s3cret", "/alice/12", now() + 60);
    assert_eq!(
        get(&format!("{url}?exp={}&sig={sig}", now() + 60), &[]).status,
        403
    );
}

#[test]
fn signed_links() {
    let key = "link-key";
    let srv = start(
        "signed",
        &[
            ("alice/12.txt", b"twelve\n"),
            ("alice/13.txt", b"thirteen\n"),
        ],
        &["--link-secret", key],
    );
    let b = &srv.base;
    let exp = now() + 600;
    let sig = python_sig(key, "/alice/12", exp);
    let r = get(&format!("{b}/alice/12?exp={exp}&sig={sig}"), &[]);
    assert_eq!((r.status, r.body.as_slice()), (200, &b"twelve\n"[..]));
    // The document's signature covers its other routes.
    assert_eq!(
        get(&format!("{b}/alice/12.m3u?exp={exp}&sig={sig}"), &[]).status,
        200
    );
    // A signature of the exact request path works too.
    let m3u_sig = python_sig(key, "/alice/12.m3u", exp);
    assert_eq!(
        get(&format!("{b}/alice/12.m3u?exp={exp}&sig={m3u_sig}"), &[]).status,
        200
    );
    // And the link `tgmux serve --sign` prints.
    let link = stdout(&tgmux(&[
        "serve",
        "--link-secret",
        key,
        "--sign",
        "/alice/12",
    ]));
    assert_eq!(get(&format!("{b}{}", link.trim()), &[]).status, 200);

    // Wrong path, forged, another expiry, expired, missing.
    let r = get(&format!("{b}/alice/13?exp={exp}&sig={sig}"), &[]);
    assert_eq!((r.status, r.text().as_str()), (403, "bad link signature\n"));
    let mut forged = sig.clone().into_bytes();
    forged[10] = if forged[10] == b'0' { b'1' } else { b'0' };
    let forged = String::from_utf8(forged).unwrap();
    assert_eq!(
        get(&format!("{b}/alice/12?exp={exp}&sig={forged}"), &[]).status,
        403
    );
    assert_eq!(
        get(&format!("{b}/alice/12?exp={}&sig={sig}", exp + 1), &[]).status,
        403
    );
    let wrong_key = python_sig("other", "/alice/12", exp);
    assert_eq!(
        get(&format!("{b}/alice/12?exp={exp}&sig={wrong_key}"), &[]).status,
        403
    );
    let past = now() - 5;
    let old = python_sig(key, "/alice/12", past);
    let r = get(&format!("{b}/alice/12?exp={past}&sig={old}"), &[]);
    assert_eq!((r.status, r.text().as_str()), (403, "link expired\n"));
    assert_eq!(get(&format!("{b}/alice/12"), &[]).status, 401);
    assert_eq!(get(&format!("{b}/alice/12?token=x"), &[]).status, 401);
    // Malformed signatures are bad requests.
    assert_eq!(
        get(&format!("{b}/alice/12?exp={exp}&sig=abc"), &[]).status,
        400
    );
    assert_eq!(
        get(&format!("{b}/alice/12?exp=soon&sig={sig}"), &[]).status,
        400
    );
    assert_eq!(get(&format!("{b}/alice/12?sig={sig}"), &[]).status, 400);
}

#[test]
fn token_and_links_together() {
    let srv = start(
        "both",
        &[("alice/12.txt", b"twelve\n")],
        &["--token", "t0k", "--link-secret", "k"],
    );
    let b = &srv.base;
    let exp = now() + 60;
    let sig = python_sig("k", "/alice/12", exp);
    assert_eq!(get(&format!("{b}/alice/12?token=t0k"), &[]).status, 200);
    assert_eq!(
        get(&format!("{b}/alice/12?exp={exp}&sig={sig}"), &[]).status,
        200
    );
    // One good credential is enough.
    assert_eq!(
        get(&format!("{b}/alice/12?token=bad&exp={exp}&sig={sig}"), &[]).status,
        200
    );
    assert_eq!(get(&format!("{b}/alice/12?token=bad"), &[]).status, 401);
}
