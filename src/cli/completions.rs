//! `tgmux completions` and `tgmux man`: shell completion scripts and the man page, generated
//! from the command line's own clap definition, so they cannot drift from it.

use std::io::Write as _;

use clap::{CommandFactory, ValueEnum};

use super::{CliError, Globals};

/// Print a shell completion script.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// Shells we write completions for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Shell {
    /// Bash (source it, or put it in /usr/share/bash-completion/completions/tgmux).
    Bash,
    /// Zsh (as `_tgmux` in a directory of $fpath).
    Zsh,
    /// Fish (as ~/.config/fish/completions/tgmux.fish).
    Fish,
}

/// Print the man page (roff).
#[derive(Debug, clap::Args)]
pub struct ManArgs {}

/// Writes `bytes` to stdout; a closed pipe (`| head`) is no error.
fn print(bytes: &[u8]) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(CliError::new(format!("stdout: {e}")))
        }
        _ => Ok(()),
    }
}

pub fn run(args: &Args, _g: &Globals) -> Result<(), CliError> {
    let shell = match args.shell {
        Shell::Bash => clap_complete::Shell::Bash,
        Shell::Zsh => clap_complete::Shell::Zsh,
        Shell::Fish => clap_complete::Shell::Fish,
    };
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut super::Cli::command(), "tgmux", &mut script);
    print(&script)
}

pub fn man(_args: &ManArgs, _g: &Globals) -> Result<(), CliError> {
    let mut page = Vec::new();
    clap_mangen::Man::new(super::Cli::command())
        .render(&mut page)
        .map_err(|e| CliError::new(format!("man page: {e}")))?;
    print(&page)
}
