//! `tgmux tl`.

use std::io::{Read, Write};

use crate::tl::service::{GzipPacked, MsgContainer, RpcResult};
use crate::tl::{self, Bytes, Deserializable, Identifiable};

use super::{CliError, Globals};

/// Largest gzip_packed payload `tl decode` inflates.
const MAX_INFLATED: usize = 64 << 20;
/// Deepest nesting of service wrappers `tl decode` follows.
const MAX_DEPTH: usize = 8;

/// TL tools for protocol work.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: TlCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum TlCommand {
    /// Decode a boxed TL object given as hex (or `-` for raw bytes or hex on stdin); a
    /// constructor id as `tl ids` prints it (`0x05162463`) prints that constructor's TL line.
    Decode {
        /// Hex string, `0x` and a constructor id, or `-` to read stdin.
        #[arg(value_name = "HEX|-")]
        input: String,
    },
    /// List the constructor ids and names of the built-in layer.
    Ids,
}

pub fn run(args: &Args, _g: &Globals) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    let text = match &args.command {
        TlCommand::Ids => ids(),
        TlCommand::Decode { input } => match read_input(input)? {
            Input::Id(lines) => lines,
            Input::Bytes(bytes) => {
                let mut text = String::new();
                describe(Bytes::from(bytes), 0, &mut text)
                    .map_err(|e| CliError::new(format!("tl decode: {e}")))?;
                text
            }
        },
    };
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        // `tgmux tl ids | head` closes the pipe early: not an error.
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(CliError::new(format!("tl: cannot write the output: {e}")))
        }
        _ => Ok(()),
    }
}

/// One `0xXXXXXXXX name` line per constructor and function, sorted by id.
fn ids() -> String {
    let mut all: Vec<(u32, &str)> = tl::CONSTRUCTORS.to_vec();
    all.extend_from_slice(tl::service::SERVICE_CONSTRUCTORS);
    all.sort();
    let mut text = String::new();
    for (id, name) in all {
        text.push_str(&format!("0x{id:08x} {name}\n"));
    }
    text
}

/// What `tl decode` was given.
enum Input {
    /// A constructor id as `tl ids` prints it (`0x05162463`): its TL lines, one per line.
    Id(String),
    /// A serialized object.
    Bytes(Vec<u8>),
}

/// The input named on the command line: hex, or stdin holding hex text or raw bytes. Text of
/// the form `0x` and eight hex digits that names a known constructor or function is that id.
fn read_input(input: &str) -> Result<Input, CliError> {
    let no_input = || CliError::new("tl decode: no input");
    if input != "-" {
        if let Some(lines) = definition_lines(input) {
            return Ok(Input::Id(lines));
        }
        return parse_hex(input)
            .map(Input::Bytes)
            .map_err(|e| CliError::new(format!("tl decode: {e}")));
    }
    let mut raw = Vec::new();
    std::io::stdin()
        .read_to_end(&mut raw)
        .map_err(|e| CliError::new(format!("tl decode: cannot read stdin: {e}")))?;
    match std::str::from_utf8(&raw) {
        Ok(text) if text.trim().is_empty() => Err(no_input()),
        Ok(text) => match definition_lines(text) {
            Some(lines) => Ok(Input::Id(lines)),
            None => Ok(Input::Bytes(parse_hex(text).unwrap_or(raw))),
        },
        Err(_) => Ok(Input::Bytes(raw)),
    }
}

/// The TL lines of the constructor id `text` names (`0x` and exactly eight hex digits, as
/// `tl ids` prints it), if it is one of the built-in schema's.
fn definition_lines(text: &str) -> Option<String> {
    let digits = text.trim().strip_prefix("0x")?;
    if digits.len() != 8 || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let id = u32::from_str_radix(digits, 16).ok()?;
    let lines: String = tl::definitions_for_id(id)
        .map(|line| format!("{line}\n"))
        .collect();
    (!lines.is_empty()).then_some(lines)
}

/// Hex digits, with optional whitespace and `0x` prefix, into bytes.
fn parse_hex(text: &str) -> Result<Vec<u8>, String> {
    let trimmed = text.trim();
    let digits: Vec<u8> = trimmed
        .strip_prefix("0x")
        .unwrap_or(trimmed)
        .bytes()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    if digits.is_empty() {
        return Err("no input".into());
    }
    if digits.len() % 2 != 0 {
        return Err(format!("odd number of hex digits ({})", digits.len()));
    }
    let nibble = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    digits
        .chunks(2)
        .map(|pair| match (nibble(pair[0]), nibble(pair[1])) {
            (Some(h), Some(l)) => Ok(h << 4 | l),
            _ => Err(format!("not hex: {:?}", String::from_utf8_lossy(pair))),
        })
        .collect()
}

/// Pretty `Debug` output puts every element of a list on its own line, which makes an int128
/// nonce 18 lines long: lists of plain numbers are folded back onto one line.
fn collapse_number_lists(pretty: &str) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut open: Option<(String, Vec<String>)> = None;
    for line in pretty.lines() {
        if let Some((head, items)) = &mut open {
            let item = line.trim().trim_end_matches(',');
            if item.parse::<i128>().is_ok() {
                items.push(item.to_string());
                continue;
            }
            let t = line.trim();
            if t.starts_with(']') && !items.is_empty() {
                lines.push(format!("{head}{}{}", items.join(", "), t));
            } else {
                lines.push(head.clone());
                lines.extend(items.iter().map(|i| format!("{i},")));
                lines.push(line.to_string());
            }
            open = None;
            continue;
        }
        if line.ends_with('[') {
            open = Some((line.to_string(), Vec::new()));
        } else {
            lines.push(line.to_string());
        }
    }
    if let Some((head, items)) = open {
        lines.push(head);
        lines.extend(items);
    }
    lines
}

/// Bytes shown in hex beyond which `tl decode` only gives the length.
const MAX_HEX_BYTES: usize = 64;

/// Rewrites the `b"..."` literals of `Debug` output (TL `bytes` fields) as hex, which is
/// what protocol work wants to read: `0x1460e7d3 (4 bytes)`, long values cut after
/// [`MAX_HEX_BYTES`]. Text inside ordinary strings is left alone.
fn bytes_as_hex(line: &str) -> String {
    let chars: Vec<char> = line.chars().collect();
    let mut out = String::with_capacity(line.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let starts_bytes = c == 'b'
            && chars.get(i + 1) == Some(&'"')
            && (i == 0 || !(chars[i - 1].is_alphanumeric() || chars[i - 1] == '_'));
        if c == '"' || starts_bytes {
            let start = if starts_bytes { i + 2 } else { i + 1 };
            let (value, end) = unescape(&chars, start);
            if starts_bytes {
                let shown: String = value
                    .iter()
                    .take(MAX_HEX_BYTES)
                    .map(|b| format!("{b:02x}"))
                    .collect();
                let more = if value.len() > MAX_HEX_BYTES {
                    "…"
                } else {
                    ""
                };
                out.push_str(&format!("0x{shown}{more} ({} bytes)", value.len()));
            } else {
                out.extend(&chars[i..end.min(chars.len())]);
            }
            i = end;
            continue;
        }
        out.push(c);
        i += 1;
    }
    out
}

/// Reads a `Debug` string body from `start` up to its closing quote: the bytes it stands for,
/// and the index just past the quote.
fn unescape(chars: &[char], start: usize) -> (Vec<u8>, usize) {
    let mut bytes = Vec::new();
    let mut i = start;
    while i < chars.len() {
        match chars[i] {
            '"' => return (bytes, i + 1),
            '\\' => {
                let (b, len) = match chars.get(i + 1) {
                    Some('x') => {
                        let hex: String = chars[i + 2..(i + 4).min(chars.len())].iter().collect();
                        (u8::from_str_radix(&hex, 16).unwrap_or(0), 4)
                    }
                    Some('n') => (b'\n', 2),
                    Some('r') => (b'\r', 2),
                    Some('t') => (b'\t', 2),
                    Some('0') => (0, 2),
                    Some(&other) => (other as u8, 2),
                    None => (b'\\', 1),
                };
                bytes.push(b);
                i += len;
            }
            c => {
                let mut buf = [0u8; 4];
                bytes.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                i += 1;
            }
        }
    }
    (bytes, i)
}

/// Appends a readable form of one boxed object, following the service wrappers
/// (rpc_result, msg_container, gzip_packed) whose payload the schema cannot type.
fn describe(bytes: Bytes, depth: usize, out: &mut String) -> Result<(), tl::DecodeError> {
    let indent = "  ".repeat(depth);
    let id = tl::Reader::new(bytes.clone()).peek_u32()?;
    if depth >= MAX_DEPTH
        && matches!(
            id,
            RpcResult::CONSTRUCTOR_ID | MsgContainer::CONSTRUCTOR_ID | GzipPacked::CONSTRUCTOR_ID
        )
    {
        out.push_str(&format!(
            "{indent}<{} bytes nested too deep>\n",
            bytes.len()
        ));
        return Ok(());
    }
    match id {
        RpcResult::CONSTRUCTOR_ID => {
            let r = RpcResult::from_bytes(bytes)?;
            out.push_str(&format!("{indent}rpc_result req_msg_id={}\n", r.req_msg_id));
            describe(r.result, depth + 1, out)
        }
        MsgContainer::CONSTRUCTOR_ID => {
            let c = MsgContainer::from_bytes(bytes)?;
            out.push_str(&format!(
                "{indent}msg_container ({} messages)\n",
                c.messages.len()
            ));
            for m in c.messages {
                out.push_str(&format!(
                    "{indent}  message msg_id={} seqno={}\n",
                    m.msg_id, m.seqno
                ));
                describe(m.body, depth + 2, out)?;
            }
            Ok(())
        }
        GzipPacked::CONSTRUCTOR_ID => {
            let g = GzipPacked::from_bytes(bytes)?;
            let inner = g.unpack(MAX_INFLATED)?;
            out.push_str(&format!(
                "{indent}gzip_packed ({} bytes inflated)\n",
                inner.len()
            ));
            describe(Bytes::from(inner), depth + 1, out)
        }
        _ => {
            let value = tl::decode_any(bytes)?;
            for line in collapse_number_lists(&format!("{value:#?}")) {
                out.push_str(&indent);
                out.push_str(&bytes_as_hex(&line));
                out.push('\n');
            }
            Ok(())
        }
    }
}
