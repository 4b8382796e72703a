//! `tgmux tl ids` and `tgmux tl decode`: the whole layer listed, captured objects decoded.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use tgmux::tl::service::{GzipPacked, RpcResult};
use tgmux::tl::{enums, types, Bytes, Identifiable, Serializable};

fn tgmux(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tgmux"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run tgmux");
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A value of Telegram's published auth-key sample (tests/data/samples_auth_key.txt).
fn sample(name: &str) -> String {
    let text = include_str!("data/samples_auth_key.txt");
    let line = text
        .lines()
        .find(|l| l.starts_with(&format!("{name} = ")))
        .unwrap_or_else(|| panic!("{name} not in the sample file"));
    line[name.len() + 3..].to_string()
}

fn stdout(out: &Output) -> String {
    assert!(
        out.status.success(),
        "tgmux failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

#[test]
fn ids_list_the_whole_layer_sorted() {
    let text = stdout(&tgmux(&["tl", "ids"], b""));
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines.len() >= 2400, "only {} ids", lines.len());
    let mut last = None;
    for line in &lines {
        let (id, name) = line.split_once(' ').expect("`0xID name`");
        let id = u32::from_str_radix(id.strip_prefix("0x").expect("0x prefix"), 16).unwrap();
        assert!(!name.is_empty() && !name.contains(' '), "{line}");
        assert!(last <= Some(id), "not sorted at {line}");
        last = Some(id);
    }
    for expected in [
        "0x096a18d5 upload.file",
        "0xf35c6d01 rpc_result",
        "0x73f1f8dc msg_container",
        "0xbe7e8ef1 req_pq_multi",
        "0xda9b0d0d invokeWithLayer",
    ] {
        assert!(lines.contains(&expected), "missing {expected}");
    }
}

#[test]
fn decodes_the_res_pq_captured_in_telegrams_sample() {
    let text = stdout(&tgmux(&["tl", "decode", &sample("res_pq_body")], b""));
    assert!(text.starts_with("ResPq("), "{text}");
    // The fingerprint on the wire is little-endian.
    let fp = i64::from_be_bytes(0x85FD64DE851D9DD0u64.to_le_bytes());
    let fingerprints = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("server_public_key_fingerprints: "))
        .expect("fingerprints line");
    assert!(fingerprints.contains(&fp.to_string()), "{text}");
    // bytes fields in hex with their length: pq = p × q of the sample.
    assert_eq!(1_008_949_199u64 * 1_455_403_679, 0x1460_e7d3_fa72_7791);
    assert!(text.contains("pq: 0x1460e7d3fa727791 (8 bytes),"), "{text}");
    // nonce 15A084B3...: the first bytes in decimal.
    assert!(text.contains("nonce: [21, 160, 132, 179,"), "{text}");
}

#[test]
fn decodes_from_stdin_as_hex_text_or_raw_bytes() {
    let wire = hex_to_bytes(&sample("res_pq_body"));
    let from_arg = stdout(&tgmux(&["tl", "decode", &sample("res_pq_body")], b""));
    let from_hex = stdout(&tgmux(
        &["tl", "decode", "-"],
        format!("{}\n", sample("res_pq_body")).as_bytes(),
    ));
    let from_raw = stdout(&tgmux(&["tl", "decode", "-"], &wire));
    assert_eq!(from_arg, from_hex);
    assert_eq!(from_arg, from_raw);
}

/// What a client receives for a download: rpc_result → gzip_packed → upload.file.
#[test]
fn follows_rpc_result_and_gzip_packed_to_the_object() {
    let file = enums::upload::File::File(types::upload::File {
        r#type: enums::storage::FileType::FileMp4(types::storage::FileMp4 {}),
        mtime: 1_700_000_000,
        bytes: Bytes::from_static(b"abc"),
    });
    let packed = GzipPacked::pack(&file.to_bytes());
    let result = RpcResult {
        req_msg_id: 0x1234_5678_9abc_def0,
        result: Bytes::from(packed.to_bytes()),
    };
    let text = stdout(&tgmux(&["tl", "decode", &hex(&result.to_bytes())], b""));
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        format!("rpc_result req_msg_id={}", 0x1234_5678_9abc_def0i64)
    );
    assert!(lines[1].starts_with("  gzip_packed ("), "{text}");
    assert!(text.contains("FileMp4"), "{text}");
    assert!(text.contains("mtime: 1700000000"), "{text}");
    assert!(text.contains("bytes: 0x616263 (3 bytes)"), "{text}");
}

#[test]
fn bad_input_is_one_error_line() {
    for (input, why) in [
        ("zz", "not hex"),
        ("abc", "odd number"),
        ("01020304", "unknown tl constructor 0x04030201"),
        ("63241605", "truncated"),
    ] {
        let out = tgmux(&["tl", "decode", input], b"");
        assert_eq!(out.status.code(), Some(1), "{input}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(err.lines().count(), 1, "{input}: {err}");
        assert!(err.starts_with("tgmux: error: tl decode: "), "{err}");
        assert!(err.to_lowercase().contains(why), "{input}: {err}");
    }
}

#[test]
fn an_id_as_tl_ids_prints_it_gives_its_tl_line() {
    let res_pq = "resPQ#05162463 nonce:int128 server_nonce:int128 pq:bytes \
                  server_public_key_fingerprints:Vector<long> = ResPQ;\n";
    assert_eq!(stdout(&tgmux(&["tl", "decode", "0x05162463"], b"")), res_pq);
    assert_eq!(
        stdout(&tgmux(&["tl", "decode", "-"], b"0x05162463\n")),
        res_pq
    );
    // `tl ids` lists it so.
    let ids = stdout(&tgmux(&["tl", "ids"], b""));
    assert!(ids.lines().any(|l| l == "0x05162463 resPQ"));
    let get_file = stdout(&tgmux(&["tl", "decode", "0xbe5335be"], b""));
    assert!(
        get_file.starts_with("upload.getFile#be5335be flags:# ")
            && get_file.ends_with(" = upload.File; // function\n"),
        "{get_file}"
    );
    assert_eq!(
        stdout(&tgmux(&["tl", "decode", "0xf35c6d01"], b"")),
        "rpc_result#f35c6d01 req_msg_id:long result:Object = RpcResult;\n"
    );
    // Eight hex digits that are no id stay bytes: boolTrue's wire form, 0x997275b5 little-endian.
    assert_eq!(
        stdout(&tgmux(&["tl", "decode", "0xb5757299"], b"")),
        "true\n"
    );
    assert_eq!(stdout(&tgmux(&["tl", "decode", "b5757299"], b"")), "true\n");
}

#[test]
fn empty_stdin_is_no_input_like_an_empty_argument() {
    for (args, stdin) in [
        (&["tl", "decode", ""][..], &b""[..]),
        (&["tl", "decode", "-"][..], &b""[..]),
        (&["tl", "decode", "-"][..], &b" \n"[..]),
    ] {
        let out = tgmux(args, stdin);
        assert_eq!(out.status.code(), Some(1), "{args:?} {stdin:?}");
        assert_eq!(
            String::from_utf8(out.stderr).unwrap(),
            "tgmux: error: tl decode: no input\n",
            "{args:?} {stdin:?}"
        );
    }
}

/// 80 000 nested jsonArray (960 KB): an error line, not a stack overflow.
#[test]
fn hostile_nesting_is_one_error_line() {
    let mut level = Vec::new();
    types::JsonArray::CONSTRUCTOR_ID.serialize(&mut level);
    tgmux::tl::VECTOR_ID.serialize(&mut level);
    1i32.serialize(&mut level);
    let mut wire = level.repeat(80_000);
    types::JsonNull::CONSTRUCTOR_ID.serialize(&mut wire);
    let out = tgmux(&["tl", "decode", "-"], &wire);
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(
        err,
        "tgmux: error: tl decode: TL objects nested more than 64 levels deep\n"
    );
}

fn hex_to_bytes(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}
