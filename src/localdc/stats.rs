//! `--stats-file F`: what the server was asked, as JSON for tests and benchmarks.
//!
//! Every RPC that reaches the dispatcher (invoke wrappers unwrapped) is counted by method name,
//! by the DC that received it and by the account of its auth key (the user id, or `none`
//! before login); every `rpc_error` by its message; the `drop` and `stall` faults by name; and
//! every served file part by document (`upload.getFile` as `parts`/`bytes`,
//! `upload.getCdnFile` as `cdn_parts`/`cdn_bytes`, empty parts past the end included). The
//! document key is its path below the media directory. `get_file` counts the `upload.getFile`
//! requests each logged-in account sent to each DC (answered or refused by `rate=R`). Counting happens before the answer is
//! sent, so a client that got its answers finds them counted in the next file written.
//!
//! ```json
//! {"written_at_ms": 1700000000123, "requests": 12,
//!  "methods": {"help.getConfig": 1, "upload.getFile": 4},
//!  "dcs": {"1": 8, "2": 4}, "accounts": {"123": 11, "none": 1},
//!  "errors": {"FILE_MIGRATE_2": 1}, "faults": {"drop": 0, "stall": 0},
//!  "documents": {"chan/2.mp4": {"id": 5301, "dc": 2, "size": 3158273,
//!                "parts": 4, "bytes": 3158273, "cdn_parts": 0, "cdn_bytes": 0}},
//!  "get_file": {"123": {"2": 4}}}
//! ```
//!
//! The driver rewrites the file every second and once more at exit, through a temporary file
//! renamed over it, so a reader never sees half a file.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::{Mutex, MutexGuard};

use super::media::Document;

/// Counters of one document's served parts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct DocumentCounts {
    id: i64,
    dc: i32,
    size: u64,
    parts: u64,
    bytes: u64,
    cdn_parts: u64,
    cdn_bytes: u64,
}

#[derive(Debug, Default)]
struct Counts {
    requests: u64,
    methods: BTreeMap<&'static str, u64>,
    dcs: BTreeMap<i32, u64>,
    accounts: BTreeMap<Option<i64>, u64>,
    errors: BTreeMap<String, u64>,
    drops: u64,
    stalls: u64,
    documents: BTreeMap<String, DocumentCounts>,
    get_file: BTreeMap<i64, BTreeMap<i32, u64>>,
}

/// A fault that answered nothing, for [`Stats::fault`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Silent {
    /// The connection was closed instead.
    Drop,
    /// The request was left unanswered.
    Stall,
}

/// The counters of one process, shared by every connection.
#[derive(Debug, Default)]
pub(crate) struct Stats {
    counts: Mutex<Counts>,
}

impl Stats {
    fn lock(&self) -> MutexGuard<'_, Counts> {
        // Each update is a few increments: a poisoned lock still holds usable counts.
        self.counts.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// One request for `method` (a constructor id) on DC `dc` from `account` (a user id).
    pub(crate) fn request(&self, method: u32, dc: i32, account: Option<i64>) {
        let mut c = self.lock();
        c.requests += 1;
        let name = crate::tl::name_for_id(method).unwrap_or("unknown");
        *c.methods.entry(name).or_default() += 1;
        *c.dcs.entry(dc).or_default() += 1;
        *c.accounts.entry(account).or_default() += 1;
    }

    /// One `upload.getFile` from `account` on DC `dc`.
    pub(crate) fn get_file(&self, account: i64, dc: i32) {
        *self
            .lock()
            .get_file
            .entry(account)
            .or_default()
            .entry(dc)
            .or_default() += 1;
    }

    /// One `rpc_error` answered with `message`.
    pub(crate) fn error(&self, message: &str) {
        *self.lock().errors.entry(message.to_string()).or_default() += 1;
    }

    /// One request answered by nothing.
    pub(crate) fn fault(&self, fault: Silent) {
        let mut c = self.lock();
        match fault {
            Silent::Drop => c.drops += 1,
            Silent::Stall => c.stalls += 1,
        }
    }

    /// One part of `d` served, `bytes` long; `cdn` for `upload.getCdnFile`.
    pub(crate) fn part(&self, d: &Document, bytes: usize, cdn: bool) {
        let mut c = self.lock();
        let e = c.documents.entry(d.media_path()).or_default();
        (e.id, e.dc, e.size) = (d.id, d.dc_id, d.size);
        let (parts, total) = if cdn {
            (&mut e.cdn_parts, &mut e.cdn_bytes)
        } else {
            (&mut e.parts, &mut e.bytes)
        };
        *parts += 1;
        *total += bytes as u64;
    }

    /// The counters as one JSON object (see the module docs), stamped `written_at_ms`.
    pub(crate) fn to_json(&self, written_at_ms: u64) -> String {
        let c = self.lock();
        let mut out = format!(
            "{{\"written_at_ms\": {written_at_ms}, \"requests\": {}",
            c.requests
        );
        let methods = c.methods.iter().map(|(k, v)| (json_string(k), *v));
        object(&mut out, "methods", methods);
        object(
            &mut out,
            "dcs",
            c.dcs.iter().map(|(k, v)| (json_key(k), *v)),
        );
        let accounts = c.accounts.iter().map(|(k, v)| match k {
            Some(id) => (json_key(id), *v),
            None => ("\"none\"".to_string(), *v),
        });
        object(&mut out, "accounts", accounts);
        let errors = c.errors.iter().map(|(k, v)| (json_string(k), *v));
        object(&mut out, "errors", errors);
        let faults = [
            ("\"drop\"".to_string(), c.drops),
            ("\"stall\"".into(), c.stalls),
        ];
        object(&mut out, "faults", faults.into_iter());
        out.push_str(", \"documents\": {");
        for (i, (path, d)) in c.documents.iter().enumerate() {
            let sep = if i == 0 { "" } else { ", " };
            let _ = write!(
                out,
                "{sep}{}: {{\"id\": {}, \"dc\": {}, \"size\": {}, \"parts\": {}, \"bytes\": {}, \
                 \"cdn_parts\": {}, \"cdn_bytes\": {}}}",
                json_string(path),
                d.id,
                d.dc,
                d.size,
                d.parts,
                d.bytes,
                d.cdn_parts,
                d.cdn_bytes
            );
        }
        out.push_str("}, \"get_file\": {");
        for (i, (account, dcs)) in c.get_file.iter().enumerate() {
            let sep = if i == 0 { "" } else { ", " };
            let _ = write!(out, "{sep}\"{account}\": {{");
            for (j, (dc, n)) in dcs.iter().enumerate() {
                let sep = if j == 0 { "" } else { ", " };
                let _ = write!(out, "{sep}\"{dc}\": {n}");
            }
            out.push('}');
        }
        out.push_str("}}\n");
        out
    }
}

/// `, "name": {k: v, ...}` with keys already JSON strings.
fn object(out: &mut String, name: &str, entries: impl Iterator<Item = (String, u64)>) {
    let _ = write!(out, ", \"{name}\": {{");
    for (i, (k, v)) in entries.enumerate() {
        let sep = if i == 0 { "" } else { ", " };
        let _ = write!(out, "{sep}{k}: {v}");
    }
    out.push('}');
}

fn json_key(n: &impl std::fmt::Display) -> String {
    format!("\"{n}\"")
}

/// `s` as a JSON string literal (quotes, backslashes and control characters escaped).
pub(crate) fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped() {
        assert_eq!(
            json_string("a\"b\\c\nd\u{1}é"),
            "\"a\\\"b\\\\c\\nd\\u0001é\""
        );
    }
}
