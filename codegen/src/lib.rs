//! tgmux-codegen: the TL schema parser and Rust code generator behind `tgmux-tl`.
//!
//! `tl/build.rs` calls [`generate_files`] on `tl/mtproto.tl` and `tl/api.tl`; the
//! `tgmux-codegen` binary canonicalises reference schemas (`canon`) and checks them (`check`).

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod names;
pub mod parser;
pub mod rust;

pub use parser::{compute_id, parse, Definition, ParseError, Schema};
pub use rust::{generate, GenError, Generated};

/// Parse each (file name, text) pair and generate the code; errors name the file and line.
pub fn generate_files(files: &[(&str, &str)], samples_root: &str) -> Result<Generated, String> {
    let mut schemas = Vec::new();
    for (name, text) in files {
        schemas.push(parse(text).map_err(|e| format!("{name}: {e}"))?);
    }
    generate(&schemas, samples_root).map_err(|e| e.to_string())
}

/// The canonical form of a schema: a `// LAYER` line, then one combinator per line with an
/// explicit 8-digit `#id`, single spaces, and `---types---` / `---functions---` markers.
/// Comments, TDLib's builtin type lines and blank lines are dropped.
pub fn canonicalise(schema: &Schema, header: &str) -> String {
    let mut out = String::new();
    for line in header.lines() {
        out.push_str("// ");
        out.push_str(line);
        out.push('\n');
    }
    if let Some(layer) = schema.layer {
        out.push_str(&format!("// LAYER {layer}\n"));
    }
    let mut category = parser::Category::Types;
    out.push_str("---types---\n");
    for d in &schema.definitions {
        if d.category != category {
            category = d.category;
            out.push_str(match category {
                parser::Category::Types => "---types---\n",
                parser::Category::Functions => "---functions---\n",
            });
        }
        out.push_str(&d.canonical());
        out.push('\n');
    }
    out
}
