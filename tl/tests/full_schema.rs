//! The generator over the full reference schema in `../shared/tl/` (layer 227 as published,
//! not our canonical copy): every explicit `#id` verifies, and the generated code compiles
//! (`cargo check` of a scratch crate made of this crate's runtime and the reference files).
//!
//! Without `../shared` the test skips with a note, except under `CI=true`, where CI always
//! has it and its absence is a failure.

use std::path::{Path, PathBuf};
use std::process::Command;

fn shared_tl() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/tl");
    if dir.join("api.tl").is_file() && dir.join("mtproto.tl").is_file() {
        return Some(dir);
    }
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    assert!(
        !ci,
        "CI=true but {} has no api.tl/mtproto.tl",
        dir.display()
    );
    eprintln!(
        "note: {} not found; full-schema check skipped",
        dir.display()
    );
    None
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn every_id_of_the_reference_schema_verifies() {
    let Some(dir) = shared_tl() else { return };
    let mtproto = read(&dir.join("mtproto.tl"));
    let api = read(&dir.join("api.tl"));
    let mut explicit = 0;
    let mut total = 0;
    let mut ids = Vec::new();
    for (name, text) in [("mtproto.tl", &mtproto), ("api.tl", &api)] {
        let schema = tgmux_codegen::parse(text).unwrap_or_else(|e| panic!("{name}: {e}"));
        total += schema.definitions.len();
        explicit += schema.definitions.iter().filter(|d| d.explicit_id).count();
        ids.extend(
            schema
                .definitions
                .iter()
                .filter(|d| !d.builtin)
                .map(|d| (d.id, d.full_name())),
        );
    }
    // Parsing verifies each explicit id against CRC32 of its normalised line; a mismatch is
    // an error above. The whole layer is there: ~2,400 api combinators plus the service layer.
    assert!(total >= 2450, "only {total} definitions parsed");
    assert!(
        explicit >= total - 20,
        "{explicit} of {total} carry an explicit id"
    );
    let generated =
        tgmux_codegen::generate_files(&[("mtproto.tl", &mtproto), ("api.tl", &api)], "tgmux_tl")
            .expect("the full reference schema generates");
    assert!(
        generated.type_count > 1600,
        "{} types",
        generated.type_count
    );
    assert!(
        generated.function_count > 750,
        "{} functions",
        generated.function_count
    );
    // Our canonical copy (tl/api.tl) is the same layer, constructor for constructor.
    assert_eq!(tgmux_tl::LAYER, 227);
    for (id, name) in ids {
        assert!(
            tgmux_tl::name_for_id(id).is_some(),
            "{name}#{id:08x} of the reference is missing from tl/"
        );
    }
}

/// A flipped id in the reference schema must fail the generator, naming the line.
#[test]
fn a_wrong_id_in_the_reference_schema_is_an_error_naming_the_line() {
    let Some(dir) = shared_tl() else { return };
    let api = read(&dir.join("api.tl"));
    let line = api
        .lines()
        .find(|l| l.starts_with("upload.file#"))
        .expect("upload.file is in the layer");
    let id = &line["upload.file#".len()..line.find(' ').unwrap()];
    let broken = api.replacen(line, &line.replacen(id, "deadbeef", 1), 1);
    let err = tgmux_codegen::parse(&broken).expect_err("a wrong id must not parse");
    assert!(err.to_string().contains("upload.file"), "{err}");
}

#[test]
fn the_code_generated_from_the_reference_schema_compiles() {
    let Some(dir) = shared_tl() else { return };
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let scratch = Path::new(env!("CARGO_TARGET_TMPDIR")).join("full-schema-crate");
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(scratch.join("src")).unwrap();
    // This crate's runtime and build script, with the reference schema files in place of ours.
    for f in ["lib.rs", "reader.rs", "service.rs"] {
        std::fs::copy(here.join("src").join(f), scratch.join("src").join(f)).unwrap();
    }
    std::fs::copy(here.join("build.rs"), scratch.join("build.rs")).unwrap();
    for f in ["api.tl", "mtproto.tl"] {
        std::fs::copy(dir.join(f), scratch.join(f)).unwrap();
    }
    std::fs::copy(here.join("../Cargo.lock"), scratch.join("Cargo.lock")).unwrap();
    let codegen = here.join("../codegen").canonicalize().unwrap();
    std::fs::write(
        scratch.join("Cargo.toml"),
        format!(
            "[package]\nname = \"tgmux-tl\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
             [workspace]\n\n[dependencies]\nbytes = \"1\"\nflate2 = \"1\"\n\n\
             [build-dependencies]\ntgmux-codegen = {{ path = {:?} }}\n",
            codegen.display().to_string()
        ),
    )
    .unwrap();
    let out = Command::new(env!("CARGO"))
        .args(["check", "--offline", "--quiet", "--lib"])
        .current_dir(&scratch)
        .env("CARGO_TARGET_DIR", scratch.join("target"))
        .output()
        .expect("run cargo check");
    assert!(
        out.status.success(),
        "cargo check of the generated full schema failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
