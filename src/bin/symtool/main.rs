//! `symtool`: the symbols of ELF files and live processes, on the `linker-tools` library.
//!
//! A thin layer: every figure it prints comes from the library as a value; this binary
//! parses arguments (`args`), runs one command module, formats, and maps errors to the
//! exit codes documented in `--help`.

mod addr;
mod args;
mod diff;
mod info;
mod lookup;
mod out;
mod proc;
mod symbols;

use std::io;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{CommandFactory as _, Parser as _};
use linker_tools::elf::{self, ErrorKind};

use args::{Cli, Command};

/// An exit code and the one line to print on stderr (none for a quiet exit).
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) code: u8,
    pub(crate) message: Option<String>,
}

/// The documented exit codes.
pub(crate) mod exit {
    /// A negative answer: differences found, or a query without a match.
    pub(crate) const NEGATIVE: u8 = 1;
    /// Bad usage.
    pub(crate) const USAGE: u8 = 2;
    /// A file could not be read.
    pub(crate) const IO: u8 = 3;
    /// Not ELF, or malformed.
    pub(crate) const BAD_INPUT: u8 = 4;
    /// No such process, or it cannot be inspected.
    pub(crate) const PROCESS: u8 = 5;
}

impl Failure {
    pub(crate) fn new(code: u8, message: impl Into<String>) -> Self {
        Failure {
            code,
            message: Some(message.into()),
        }
    }

    /// A negative answer whose details were already printed.
    pub(crate) fn negative() -> Self {
        Failure {
            code: exit::NEGATIVE,
            message: None,
        }
    }

    /// A library error about `path`, with the code for its kind.
    pub(crate) fn elf(err: elf::Error) -> Self {
        let code = match err.kind() {
            ErrorKind::Io => exit::IO,
            ErrorKind::Malformed | ErrorKind::Unsupported | ErrorKind::Decompress => {
                exit::BAD_INPUT
            }
            ErrorKind::UnknownModule => exit::NEGATIVE,
            _ => exit::NEGATIVE,
        };
        Failure::new(code, err.to_string())
    }

    /// The same, naming `path` when the library's message does not.
    pub(crate) fn elf_at(path: &Path, err: elf::Error) -> Self {
        let mut f = Failure::elf(err);
        if let Some(m) = &mut f.message {
            let shown = path.display().to_string();
            if !m.contains(&shown) {
                *m = format!("{shown}: {m}");
            }
        }
        f
    }
}

impl From<io::Error> for Failure {
    fn from(e: io::Error) -> Self {
        if e.kind() == io::ErrorKind::BrokenPipe {
            // `symtool … | head`: the reader is gone; stop quietly.
            return Failure {
                code: 0,
                message: None,
            };
        }
        Failure::new(exit::IO, format!("cannot write output: {e}"))
    }
}

pub(crate) type Result<T = (), E = Failure> = std::result::Result<T, E>;

/// The file to inspect when none is given: this executable.
pub(crate) fn default_target() -> Result<PathBuf> {
    std::env::current_exe().map_err(|e| {
        Failure::new(
            exit::IO,
            format!("cannot find symtool's own executable: {e}"),
        )
    })
}

fn run(cli: Cli) -> Result {
    let color = out::use_color(cli.color);
    match cli.command {
        None => info::run(
            args::InfoArgs {
                file: None,
                json: false,
            },
            color,
        ),
        Some(Command::Symbols(a)) => symbols::run(a, color),
        Some(Command::Info(a)) => info::run(a, color),
        Some(Command::Lookup(a)) => lookup::run(a, color),
        Some(Command::Addr(a)) => addr::run(a, color),
        Some(Command::Proc(a)) => proc::run(a, color),
        Some(Command::Diff(a)) => diff::run(a, color),
        Some(Command::Completions(a)) => {
            let mut cmd = Cli::command();
            let mut stdout = io::stdout().lock();
            clap_complete::generate(a.shell, &mut cmd, "symtool", &mut stdout);
            Ok(())
        }
    }
}

fn main() -> ExitCode {
    // A bug must still end in one line, not a backtrace.
    std::panic::set_hook(Box::new(|info| {
        let msg = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        eprintln!("symtool: internal error (a bug, please report): {msg}");
    }));
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { exit::USAGE } else { 0 };
            // --help and --version go to stdout; a closed pipe is not an error.
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match std::panic::catch_unwind(|| run(cli)) {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(f)) => {
            if let Some(m) = f.message {
                eprintln!("symtool: {m}");
            }
            ExitCode::from(f.code)
        }
        Err(_) => ExitCode::from(70),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
