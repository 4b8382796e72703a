//! Generate the TL types, enums and functions from `mtproto.tl` and `api.tl` into OUT_DIR.

use std::path::PathBuf;

fn main() {
    let dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR"));
    let mut texts = Vec::new();
    for name in ["mtproto.tl", "api.tl"] {
        let path = dir.join(name);
        println!("cargo:rerun-if-changed={}", path.display());
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        texts.push((name, text));
    }
    let files: Vec<(&str, &str)> = texts.iter().map(|(n, t)| (*n, t.as_str())).collect();
    let generated = match tgmux_codegen::generate_files(&files, "tgmux_tl") {
        Ok(g) => g,
        Err(e) => {
            // A schema error (e.g. an #id that does not verify) fails the build, naming the line.
            eprintln!("error: {e}");
            println!("cargo:warning=TL schema error: {e}");
            std::process::exit(1);
        }
    };
    std::fs::write(out.join("generated.rs"), generated.code).expect("write generated.rs");
    std::fs::write(out.join("samples.rs"), generated.samples).expect("write samples.rs");
}
