//! The command line: the clap definitions of every subcommand. Each subcommand's
//! module turns its raw flags into the options its library takes.

pub mod completions;
pub mod config;
pub mod demo;
pub mod diff;
pub mod find;
pub mod index;
pub mod init;
pub mod locate;
pub mod manifest;
pub mod merge;
mod progress;
pub mod reindex;
pub mod serve;
pub mod snapshot;
pub mod update;
pub mod verify;

use std::io::IsTerminal;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

const EXAMPLES: &str = "\
Examples:
  fair init /srv/fair --base-url https://fair.example.org/
  fair index /srv/fair --source /mirror/pdb --collection pdb
  fair index /srv/fair --source /mirror/pdb --collection pdb --intern hardlink --json
  fair index /srv/fair --source /mirror/pdb --actions fixtures/pdb/actions.yaml
  fair index /srv/fair --source /mirror/pdb --collection pdb --shard 0/4   # .. 3/4, at once
  fair merge /srv/fair pdb --shards 4
  fair snapshot /srv/fair pdb pdb --date today --if-changed
  fair -q update /srv/fair                        # nightly: every [[dataset]] of fair.toml
  fair find /srv/fair pdb --checksum
  fair verify /srv/fair
  fair diff /srv/fair pdb@2025.01 pdb@latest --json
  fair manifest /srv/fair pdb@latest --format aria2
  fair locate /srv/fair ELEMENT_CHECKSUM --json
  fair serve /srv/fair --listen 127.0.0.1:61918
  fair demo

Exit codes:
  0  success (fair index --allow-errors: published without the files that failed)
  1  nothing done: bad arguments, not a catalogue, catalogue locked by another writer, ...
  2  some files (or operation elements) failed and nothing was published
     (fair verify: problems found)";

/// fair: a FAIR dataset catalogue for scientific mirrors.
///
/// `fair` indexes mirror directories into content-addressed collections (path →
/// checksum), re-hashing only what changed, and snapshots them into versioned
/// distributions, in the catalogue format of the Seamless FAIR tools.
#[derive(Debug, Parser)]
#[command(name = "fair", version, after_help = EXAMPLES)]
pub struct Cli {
    /// More diagnostics on stderr (-v: progress of each step, -vv: debugging).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    /// Nothing on success: only errors on stderr, no summaries on stdout (results
    /// such as --json, `fair find` or manifests are still printed).
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    quiet: bool,
    /// How stderr's log is written: text (coloured only on a terminal without
    /// NO_COLOR), or json (one object a line, for services).
    #[arg(
        long,
        global = true,
        value_enum,
        value_name = "FORMAT",
        default_value = "text"
    )]
    pub log_format: crate::logging::LogFormat,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    /// -1 for `--quiet`, else the number of `-v`.
    pub fn verbosity(&self) -> i8 {
        if self.quiet {
            -1
        } else {
            i8::try_from(self.verbose).unwrap_or(i8::MAX)
        }
    }
}

/// The command line, with what is known only at run time: the server's routes
/// in `fair serve --help`.
pub fn command() -> clap::Command {
    Cli::command().mut_subcommand("serve", |serve| serve.after_help(serve::after_help()))
}

/// Parses the process arguments. Help and version are printed and end with exit 0;
/// bad arguments are explained and end with exit 1 (not clap's 2, which means
/// "some files failed" here).
pub fn parse() -> Result<Cli, crate::Exit> {
    let matches = command().try_get_matches();
    matches
        .and_then(|m| Cli::from_arg_matches(&m))
        .map_err(|err| {
            let _ = err.print();
            if err.use_stderr() {
                crate::Exit::Failure
            } else {
                crate::Exit::Success
            }
        })
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a catalogue directory: fair.toml and the Seamless FAIR layout.
    Init(init::Args),
    /// Show or change a catalogue's settings after init: base URL, extra digests.
    Config(config::Args),
    /// Index a source directory into a collection (deepfolders/NAME.json), or run a Seamless action file on it.
    Index(index::Args),
    /// Publish a collection indexed in N shards (fair index --shard I/N): a streaming merge, byte-identical to one run.
    Merge(merge::Args),
    /// Add a distribution of a collection to a dataset: keyorder, access index, record, `latest`.
    Snapshot(snapshot::Args),
    /// The nightly job: index and snapshot (if changed) every [[dataset]] of fair.toml, under one lock.
    Update(update::Args),
    /// Find a distribution of a dataset by version, date, format, compression (as the server does).
    Find(find::Args),
    /// The keys added, removed and changed between two distributions.
    Diff(diff::Args),
    /// A bulk download manifest of a distribution: URLs, aria2, Metalink, check files, rsync, BagIt.
    Manifest(manifest::Args),
    /// Every (dataset, distribution, key) holding an element checksum.
    Locate(locate::Args),
    /// Bring the derived store (access lookups, reverse index) up to date with the catalogue's files.
    Reindex(reindex::Args),
    /// Check that content-addressed files hash to their names and records agree with them.
    Verify(verify::Args),
    /// Serve a catalogue over HTTP: the Seamless machine API, health and metrics.
    Serve(serve::Args),
    /// Build a small catalogue from built-in fixtures and show what was done.
    Demo(demo::Args),
    /// A shell completion script on stdout (bash, zsh, fish, elvish, powershell).
    Completions(completions::Args),
    /// The manual page fair(1), in roff, on stdout.
    Man(completions::ManArgs),
}

/// A `--base-url` value: an absolute http(s) URL.
fn parse_base_url(s: &str) -> Result<String, String> {
    faircore::config::check_base_url(s).map(|()| s.to_owned())
}

/// A progress indicator on stderr with `template`, only when stderr is a terminal
/// and `-q` is not given.
fn progress_bar(template: &str) -> Option<ProgressBar> {
    progress_bar_styled(
        ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_spinner()),
    )
}

/// A progress bar of `style` on stderr, ticking 10 times a second; `None` when
/// stderr is not a terminal or `-q` is given.
fn progress_bar_styled(style: ProgressStyle) -> Option<ProgressBar> {
    if !std::io::stderr().is_terminal() || crate::logging::quiet() {
        return None;
    }
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    bar.set_style(style);
    bar.enable_steady_tick(std::time::Duration::from_millis(100));
    Some(bar)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_is_consistent() {
        command().debug_assert();
    }

    #[test]
    fn serve_help_lists_every_route_of_the_server_then_its_prose() {
        let mut serve = command();
        let help = serve
            .find_subcommand_mut("serve")
            .map(|serve| serve.render_long_help().to_string())
            .unwrap_or_default();
        let routes = help.find("Routes (").unwrap_or_else(|| panic!("{help}"));
        for route in fairserver::ROUTES {
            let at = help
                .find(route.syntax)
                .unwrap_or_else(|| panic!("{}", route.syntax));
            assert!(at > routes, "{}", route.syntax);
            assert!(help.contains(route.summary), "{}", route.summary);
        }
        assert!(help.contains("SIGINT or SIGTERM stop the server"), "{help}");
        assert!(help.contains("wget -x -nH --cut-dirs=2 -i list"), "{help}");
    }
}
