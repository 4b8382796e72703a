//! `[[accounts]]` in the `--config` file: the accounts a pool spreads its work over.
//!
//! ```toml
//! [[accounts]]
//! name = "main"                  # letters, digits, `-` and `_`; 1 to 32 characters; unique
//! session = "sessions/main"      # made by `tgmux --session sessions/main login ...`
//!
//! [[accounts]]
//! name = "bot2"
//! session = "~/tgmux/bot2"
//! ```
//!
//! A relative `session` is relative to the config file's directory, `~/` is the home
//! directory. Unknown keys in an entry are refused (a misspelt `sesion` must not silently
//! leave an account without its session), and so are two entries with one name or one
//! session file. Every error is one line naming the entry: `accounts[1]: ...`.
//!
//! The name is the account's key in the shared store (`crate::store`), so it is restricted
//! to characters that need no quoting there.

use std::fmt;
use std::path::{Path, PathBuf};

/// Longest account name.
pub const MAX_NAME_LEN: usize = 32;

/// One `[[accounts]]` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountConfig {
    /// Its name (`--account NAME`, `tgmux accounts`, store keys).
    pub name: String,
    /// Its session file, resolved against the config file's directory.
    pub session: PathBuf,
}

/// Why the `[[accounts]]` tables are unusable (one line).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountsError(pub String);

impl fmt::Display for AccountsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for AccountsError {}

/// The accounts of a config file's text (other keys are left to their readers);
/// `base_dir` is the config file's directory.
pub fn parse_accounts_str(
    text: &str,
    base_dir: &Path,
) -> Result<Vec<AccountConfig>, AccountsError> {
    let table: toml::Table = toml::from_str(text)
        .map_err(|e| AccountsError(format!("config: {}", super::toml_error(text, &e))))?;
    parse_accounts(&table, base_dir)
}

/// The accounts of a parsed config file (its `accounts` key; none when absent).
pub fn parse_accounts(
    config: &toml::Table,
    base_dir: &Path,
) -> Result<Vec<AccountConfig>, AccountsError> {
    let Some(value) = config.get("accounts") else {
        return Ok(Vec::new());
    };
    let entries = value.as_array().ok_or_else(|| {
        AccountsError("accounts: expected [[accounts]] tables with name and session".into())
    })?;
    let mut out: Vec<AccountConfig> = Vec::with_capacity(entries.len());
    for (i, entry) in entries.iter().enumerate() {
        let bad = |m: String| AccountsError(format!("accounts[{i}]: {m}"));
        let table = entry
            .as_table()
            .ok_or_else(|| bad("expected a table with name and session".into()))?;
        if let Some(key) = table
            .keys()
            .find(|k| !["name", "session"].contains(&k.as_str()))
        {
            return Err(bad(format!("unknown key {key:?} (allowed: name, session)")));
        }
        let string = |key: &str| match table.get(key) {
            None => Err(bad(format!("missing {key}"))),
            Some(v) => v
                .as_str()
                .ok_or_else(|| bad(format!("{key} must be a string"))),
        };
        let name = string("name")?;
        check_name(name).map_err(|m| bad(format!("name {name:?}: {m}")))?;
        let session = string("session")?;
        if session.is_empty() {
            return Err(bad("session is empty".into()));
        }
        let session = resolve_path(session, base_dir)
            .ok_or_else(|| bad(format!("session {session:?}: HOME is not set")))?;
        if let Some(j) = out.iter().position(|a| a.name == name) {
            return Err(bad(format!("name {name:?} is also accounts[{j}]")));
        }
        if let Some(j) = out.iter().position(|a| a.session == session) {
            return Err(bad(format!(
                "session {} is also accounts[{j}]'s (one session file per account)",
                session.display()
            )));
        }
        out.push(AccountConfig {
            name: name.to_owned(),
            session,
        });
    }
    Ok(out)
}

/// The account `--account NAME` names, or an error listing the configured ones.
pub fn find<'a>(
    accounts: &'a [AccountConfig],
    name: &str,
) -> Result<&'a AccountConfig, AccountsError> {
    accounts.iter().find(|a| a.name == name).ok_or_else(|| {
        let names: Vec<&str> = accounts.iter().map(|a| a.name.as_str()).collect();
        AccountsError(if names.is_empty() {
            format!("--account {name}: the config file has no [[accounts]]")
        } else {
            format!(
                "--account {name}: no such account (configured: {})",
                names.join(", ")
            )
        })
    })
}

/// Whether `name` may name an account; the error says why not.
pub fn check_name(name: &str) -> Result<(), &'static str> {
    if name.is_empty() {
        Err("is empty")
    } else if name.len() > MAX_NAME_LEN {
        Err("is longer than 32 characters")
    } else if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        Err("may only hold letters, digits, '-' and '_'")
    } else {
        Ok(())
    }
}

fn resolve_path(p: &str, base_dir: &Path) -> Option<PathBuf> {
    if let Some(rest) = p.strip_prefix("~/") {
        let home = std::env::var_os("HOME").map(PathBuf::from)?;
        Some(home.join(rest))
    } else {
        Some(base_dir.join(p))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Vec<AccountConfig>, String> {
        parse_accounts_str(text, Path::new("/etc/tgmux")).map_err(|e| e.to_string())
    }

    #[test]
    fn reads_accounts() {
        let a = parse(
            "api_id = 1\n[[accounts]]\nname = \"main\"\nsession = \"s/main\"\n\
             [[accounts]]\nname = \"bot_2-x\"\nsession = \"/abs/bot2\"\n",
        )
        .unwrap();
        assert_eq!(
            a,
            [
                AccountConfig {
                    name: "main".into(),
                    session: "/etc/tgmux/s/main".into()
                },
                AccountConfig {
                    name: "bot_2-x".into(),
                    session: "/abs/bot2".into()
                },
            ]
        );
        assert_eq!(find(&a, "bot_2-x").unwrap().session, Path::new("/abs/bot2"));
        assert_eq!(
            find(&a, "nope").unwrap_err().to_string(),
            "--account nope: no such account (configured: main, bot_2-x)"
        );
        assert_eq!(parse("api_id = 1\n").unwrap(), []);
        assert!(find(&[], "x")
            .unwrap_err()
            .to_string()
            .contains("no [[accounts]]"));
    }

    #[test]
    fn refuses_bad_entries_in_one_line() {
        for (text, want) in [
            (
                "[[accounts]]\nname = \"a\"\nsesion = \"x\"\n",
                "accounts[0]: unknown key \"sesion\" (allowed: name, session)",
            ),
            ("[[accounts]]\nname = \"a\"\n", "accounts[0]: missing session"),
            ("[[accounts]]\nsession = \"a\"\n", "accounts[0]: missing name"),
            (
                "[[accounts]]\nname = 5\nsession = \"a\"\n",
                "accounts[0]: name must be a string",
            ),
            (
                "[[accounts]]\nname = \"a:b\"\nsession = \"a\"\n",
                "accounts[0]: name \"a:b\": may only hold letters, digits, '-' and '_'",
            ),
            (
                "[[accounts]]\nname = \"\"\nsession = \"a\"\n",
                "accounts[0]: name \"\": is empty",
            ),
            (
                "[[accounts]]\nname = \"a\"\nsession = \"\"\n",
                "accounts[0]: session is empty",
            ),
            (
                "[[accounts]]\nname = \"a\"\nsession = \"x\"\n[[accounts]]\nname = \"a\"\nsession = \"y\"\n",
                "accounts[1]: name \"a\" is also accounts[0]",
            ),
            (
                "[[accounts]]\nname = \"a\"\nsession = \"x\"\n[[accounts]]\nname = \"b\"\nsession = \"/etc/tgmux/x\"\n",
                "accounts[1]: session /etc/tgmux/x is also accounts[0]'s (one session file per account)",
            ),
            (
                "accounts = \"a\"\n",
                "accounts: expected [[accounts]] tables with name and session",
            ),
            (
                "accounts = [1]\n",
                "accounts[0]: expected a table with name and session",
            ),
        ] {
            assert_eq!(parse(text).unwrap_err(), want, "{text}");
        }
        let long = format!(
            "[[accounts]]\nname = \"{}\"\nsession = \"a\"\n",
            "x".repeat(33)
        );
        assert!(parse(&long).unwrap_err().contains("longer than 32"));
        let syntax = parse("[[accounts]\n").unwrap_err();
        assert!(
            syntax.starts_with("config: ") && !syntax.contains('\n'),
            "{syntax}"
        );
    }
}
