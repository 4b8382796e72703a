//! The command-line contract: help lists every subcommand, unfinished ones say so with exit 2.

use std::process::Command;

fn tgmux(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_tgmux"))
        .args(args)
        .output()
        .expect("run tgmux")
}

#[test]
fn help_lists_every_subcommand_and_global_flag() {
    let out = tgmux(&["--help"]);
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    for word in [
        "login",
        "download",
        "serve",
        "remux",
        "local-dc",
        "demo",
        "ping",
        "tl",
        "completions",
        "man",
    ] {
        assert!(
            help.contains(&format!("\n  {word} ")),
            "help lacks subcommand {word}:\n{help}"
        );
    }
    for flag in [
        "--config",
        "--session",
        "--dc-config",
        "--test-dc",
        "--json",
        "--verbose",
        "--quiet",
    ] {
        assert!(help.contains(flag), "help lacks {flag}");
    }
}

#[test]
fn version_prints_the_crate_version() {
    let out = tgmux(&["--version"]);
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap().trim(),
        format!("tgmux {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn bad_usage_is_an_error_not_a_panic() {
    let out = tgmux(&["download"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"));
}

/// Command lines that later work fills in. `download`, `serve` and `demo` left this list when
/// they landed; tests/download_cli.rs, tests/serve_telegram.rs and tests/demo.rs cover them.
const UNFINISHED: &[&[&str]] = &[&["login", "--qr"]];

/// Subcommands that later work fills in say so plainly, with exit code 2: no pretending.
#[test]
fn unfinished_subcommands_say_not_implemented_with_exit_2() {
    for &args in UNFINISHED {
        let out = tgmux(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(
            err.trim_end(),
            format!("tgmux: error: {}: not implemented yet", args.join(" ")),
            "{args:?}"
        );
    }
}

#[test]
fn completions_for_bash_zsh_and_fish_and_a_man_page() {
    for (shell, mark) in [
        ("bash", "complete -F _tgmux"),
        ("zsh", "#compdef tgmux"),
        ("fish", "complete -c tgmux"),
    ] {
        let out = tgmux(&["completions", shell]);
        assert!(out.status.success(), "{shell}");
        let script = String::from_utf8(out.stdout).unwrap();
        assert!(script.contains(mark), "{shell}: no {mark:?}");
        // Every subcommand, including the newest, is completed.
        assert!(
            script.contains("local-dc") && script.contains("demo"),
            "{shell}"
        );
    }
    // The bash script is valid bash, where bash is there.
    let script = tgmux(&["completions", "bash"]).stdout;
    let path = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("tgmux.bash");
    std::fs::write(&path, script).unwrap();
    if let Ok(s) = Command::new("bash").arg("-n").arg(&path).status() {
        assert!(s.success(), "bash -n rejects the completion script");
    }
    let out = tgmux(&["completions", "tcsh"]);
    assert_eq!(out.status.code(), Some(2));
    let out = tgmux(&["man"]);
    assert!(out.status.success());
    let page = String::from_utf8(out.stdout).unwrap();
    assert!(
        page.starts_with(".ie") || page.contains(".TH tgmux"),
        "{page:.200}"
    );
    assert!(page.contains("demo") && page.contains("download"));
}
