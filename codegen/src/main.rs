//! `tgmux-codegen canon FILE [LAYER]`: print FILE in canonical form.
//! `tgmux-codegen check FILE...`: parse, verify every id, generate; print counts.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tgmux-codegen: error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &[String]) -> Result<(), String> {
    match args.first().map(String::as_str) {
        Some("canon") => {
            let file = args.get(1).ok_or("usage: canon FILE [LAYER]")?;
            let text = std::fs::read_to_string(file).map_err(|e| format!("{file}: {e}"))?;
            let mut schema = tgmux_codegen::parse(&text).map_err(|e| format!("{file}: {e}"))?;
            if file.ends_with("mtproto.tl") {
                binary_strings(&mut schema);
            }
            if let Some(l) = args.get(2) {
                schema.layer = Some(l.parse().map_err(|_| "bad LAYER")?);
            }
            let mut header = format!(
                "Written by `tgmux-codegen canon` from the reference {}.\nEvery #id is verified by CRC32 of the normalised line when tgmux-tl builds.",
                std::path::Path::new(file).file_name().and_then(|f| f.to_str()).unwrap_or(file)
            );
            if file.ends_with("mtproto.tl") {
                header.push_str("\nIn mtproto.tl, `string` fields holding binary data (pq, p, q, dh_prime, g_a, encrypted_*...)\nare written `bytes`: the same wire format and the same id (the id rule reads `bytes` as `string`).");
            }
            print!("{}", tgmux_codegen::canonicalise(&schema, &header));
            Ok(())
        }
        Some("check") => {
            let mut texts = Vec::new();
            for f in &args[1..] {
                texts.push((
                    f.as_str(),
                    std::fs::read_to_string(f).map_err(|e| format!("{f}: {e}"))?,
                ));
            }
            let files: Vec<(&str, &str)> = texts.iter().map(|(n, t)| (*n, t.as_str())).collect();
            let mut explicit = 0;
            let mut total = 0;
            for (n, t) in &files {
                let s = tgmux_codegen::parse(t).map_err(|e| format!("{n}: {e}"))?;
                total += s.definitions.len();
                explicit += s.definitions.iter().filter(|d| d.explicit_id).count();
            }
            let g = tgmux_codegen::generate_files(&files, "tgmux_tl")?;
            println!(
                "{total} definitions, {explicit} explicit ids verified; generated {} types, {} functions, {} bytes of code",
                g.type_count,
                g.function_count,
                g.code.len()
            );
            Ok(())
        }
        _ => Err("usage: tgmux-codegen canon FILE [LAYER] | check FILE...".into()),
    }
}

/// MTProto service `string` fields carry binary data (big numbers, ciphertexts, state bytes):
/// write them `bytes` so they decode to `Bytes`, not lossy UTF-8. The ids do not change.
fn binary_strings(schema: &mut tgmux_codegen::Schema) {
    const TEXT_FIELDS: &[&str] = &["error_message", "phone_prefix_rules", "data"];
    for d in &mut schema.definitions {
        for p in &mut d.params {
            if let tgmux_codegen::parser::ParamKind::Normal { ty, .. } = &mut p.kind {
                if ty.name == "string" && !TEXT_FIELDS.contains(&p.name.as_str()) {
                    ty.name = "bytes".to_owned();
                }
            }
        }
    }
}
