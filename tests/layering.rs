//! The layers stay in their order: the sans-IO core never reaches the I/O layers.
//!
//! The core is four crates of the workspace: `tgmux-tl` (`tl/`), its generator `tgmux-codegen`
//! (`codegen/`), `tgmux-proto` (`proto/`: crypto and MTProto) and `tgmux-remux` (`remux/`).
//! None of them may depend on tokio or hyper; since a crate can only name what its manifest
//! lists, checking the manifests makes the compiler enforce the rule for every line of code.

use std::path::Path;

/// The core crates' directories, relative to the workspace root.
const CORE_CRATES: &[&str] = &["tl", "codegen", "proto", "remux"];
/// Crates the core must not depend on (in any dependency table).
const FORBIDDEN: &[&str] = &["tokio", "hyper", "hyper-util", "tokio-util"];

/// The names of every dependency a manifest lists: `[dependencies]`, `[dev-dependencies]`,
/// `[build-dependencies]` and their `[target.*]` forms.
fn dependency_names(manifest: &toml::Table) -> Vec<String> {
    let mut names = Vec::new();
    let mut collect = |table: &toml::Table| {
        for key in ["dependencies", "dev-dependencies", "build-dependencies"] {
            if let Some(deps) = table.get(key).and_then(toml::Value::as_table) {
                for (name, spec) in deps {
                    // `foo = { package = "bar" }` depends on bar under the name foo.
                    let package = spec.get("package").and_then(toml::Value::as_str);
                    names.push(package.unwrap_or(name).to_owned());
                }
            }
        }
    };
    collect(manifest);
    if let Some(targets) = manifest.get("target").and_then(toml::Value::as_table) {
        for t in targets.values().filter_map(toml::Value::as_table) {
            collect(t);
        }
    }
    names
}

fn manifest(dir: &str) -> toml::Table {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(dir)
        .join("Cargo.toml");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.parse()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn core_crates_do_not_depend_on_tokio_or_hyper() {
    let mut found = Vec::new();
    for dir in CORE_CRATES {
        for name in dependency_names(&manifest(dir)) {
            if FORBIDDEN.contains(&name.as_str()) {
                found.push(format!("{dir}/Cargo.toml depends on {name}"));
            }
        }
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[test]
fn the_core_is_the_crates_not_modules_of_the_main_crate() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for module in ["crypto", "mtproto", "remux"] {
        assert!(
            !root.join("src").join(module).exists(),
            "src/{module} is back in the main crate, outside the compiler's layering check"
        );
    }
    let workspace = manifest(".");
    let members: Vec<&str> = workspace["workspace"]["members"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(toml::Value::as_str)
        .collect();
    for dir in CORE_CRATES {
        assert!(members.contains(dir), "{dir} is not a workspace member");
    }
}

#[test]
fn the_manifest_check_catches_a_dependency() {
    let m: toml::Table =
        "[dependencies]\nbytes = \"1\"\nrt = { package = \"tokio\", version = \"1\" }\n\
         [target.'cfg(unix)'.dev-dependencies]\nhyper = \"1\"\n"
            .parse()
            .unwrap();
    let names = dependency_names(&m);
    assert!(names.contains(&"tokio".to_owned()), "{names:?}");
    assert!(names.contains(&"hyper".to_owned()), "{names:?}");
    assert!(names.contains(&"bytes".to_owned()));
}
