//! The `fair` binary as a library: the command line ([`cli`]), one module per
//! subcommand, and the exit codes, so tests and benches can call it directly.

#[macro_use]
pub mod logging;
pub mod cli;

use std::process::ExitCode;

/// The documented exit codes of `fair`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// 0: everything done (`fair index --allow-errors`: published without the
    /// files that failed).
    Success = 0,
    /// 1: nothing done (bad arguments, bad catalogue, lock held, ...).
    Failure = 1,
    /// 2: some files failed and nothing was published (the previous collection
    /// is kept); `fair verify`: problems found; `fair update`: a dataset failed
    /// or had skipped files.
    FilesFailed = 2,
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> Self {
        ExitCode::from(exit as u8)
    }
}

/// Runs a parsed command line.
pub fn run(cli: cli::Cli) -> anyhow::Result<Exit> {
    match cli.command {
        cli::Command::Init(args) => cli::init::run(&args),
        cli::Command::Config(args) => cli::config::run(&args),
        cli::Command::Index(args) => cli::index::run(&args),
        cli::Command::Merge(args) => cli::merge::run(&args),
        cli::Command::Snapshot(args) => cli::snapshot::run(&args),
        cli::Command::Update(args) => cli::update::run(&args),
        cli::Command::Find(args) => cli::find::run(&args),
        cli::Command::Verify(args) => cli::verify::run(&args),
        cli::Command::Diff(args) => cli::diff::run(&args),
        cli::Command::Manifest(args) => cli::manifest::run(&args),
        cli::Command::Locate(args) => cli::locate::run(&args),
        cli::Command::Reindex(args) => cli::reindex::run(&args),
        cli::Command::Serve(args) => cli::serve::run(&args),
        cli::Command::Demo(args) => cli::demo::run(&args),
        cli::Command::Completions(args) => cli::completions::run(&args),
        cli::Command::Man(args) => cli::completions::man(&args),
    }
}

/// The message of `err` for stderr: its context chain joined with ": ", each
/// cause once (an error that already ends with its cause's text, as a faircore
/// I/O error with its path does, is not followed by it again).
pub fn message(err: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in err.chain() {
        let cause = cause.to_string();
        if text.ends_with(&cause) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&cause);
    }
    text
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_cause_is_said_once() {
        let io = std::io::Error::from_raw_os_error(28);
        let err = anyhow::Error::new(faircore::Error::io("/srv/buffers", io)).context("interning");
        assert_eq!(
            super::message(&err),
            "interning: /srv/buffers: No space left on device (os error 28)"
        );
    }
}
