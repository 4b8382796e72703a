//! The sans-IO core (`tl`, `crypto`, `mtproto`, `remux`) must not depend on tokio or hyper.
//!
//! A source scan: any `tokio` or `hyper` path in a core module's files fails the test.

use std::path::Path;

const CORE_MODULES: &[&str] = &["tl", "crypto", "mtproto", "remux"];
const FORBIDDEN: &[&str] = &["tokio", "hyper"];

/// Lines of `source` that name a forbidden crate as a path (`tokio::`, `use hyper`...).
fn offending_lines(source: &str) -> Vec<String> {
    source
        .lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .filter(|line| {
            FORBIDDEN.iter().any(|c| {
                line.contains(&format!("{c}::"))
                    || line.contains(&format!("use {c}"))
                    || line.contains(&format!("extern crate {c}"))
            })
        })
        .map(str::to_owned)
        .collect()
}

fn scan(dir: &Path, found: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            scan(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).unwrap();
            for line in offending_lines(&text) {
                found.push(format!("{}: {}", path.display(), line.trim()));
            }
        }
    }
}

#[test]
fn core_modules_do_not_use_tokio_or_hyper() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut found = Vec::new();
    for module in CORE_MODULES {
        scan(&src.join(module), &mut found);
        let file = src.join(format!("{module}.rs"));
        if file.exists() {
            for line in offending_lines(&std::fs::read_to_string(&file).unwrap()) {
                found.push(format!("{}: {}", file.display(), line.trim()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "core modules import tokio/hyper:\n{}",
        found.join("\n")
    );
}

/// The TL crates (`tl/`: generated code and runtime, `codegen/`: the generator) are core too.
#[test]
fn tl_and_codegen_crates_do_not_use_tokio_or_hyper() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut found = Vec::new();
    for dir in ["tl/src", "codegen/src"] {
        let path = root.join(dir);
        assert!(path.is_dir(), "{} is missing", path.display());
        scan(&path, &mut found);
    }
    for line in offending_lines(&std::fs::read_to_string(root.join("tl/build.rs")).unwrap()) {
        found.push(format!("tl/build.rs: {}", line.trim()));
    }
    assert!(
        found.is_empty(),
        "tl/codegen import tokio/hyper:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_scan_catches_an_import() {
    assert_eq!(
        offending_lines("use tokio::net::TcpStream;\nlet x = 1;").len(),
        1
    );
    assert_eq!(offending_lines("let s = hyper::Body::empty();").len(), 1);
    assert!(offending_lines("// tokio:: is fine in a comment\nlet tokio_free = 1;").is_empty());
}
