//! What `fair` says on stderr besides results: the `tracing` log, and the short
//! notes of each command (`note!`), both silenced by `-q`. Stdout is kept for
//! results.

use std::io::IsTerminal;
use std::sync::OnceLock;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::prelude::*;

/// How the log is written on stderr (`--log-format`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Lines for people; coloured only when stderr is a terminal and `NO_COLOR` is unset.
    #[default]
    Text,
    /// One JSON object a line (timestamp, level, fields.message, ...), for services and log
    /// collectors; the notes of each command are then `INFO` events too.
    Json,
}

/// The settings [`init`] installed.
#[derive(Clone, Copy, Debug)]
struct Settings {
    quiet: bool,
    format: LogFormat,
}

static SETTINGS: OnceLock<Settings> = OnceLock::new();

/// Installs the stderr logger: warnings by default, more with `-v`, `-vv`, only
/// errors with `-q` (`verbosity` -1); `RUST_LOG` overrides all of them. Colour
/// only when stderr is a terminal and `NO_COLOR` is unset (<https://no-color.org>).
/// With [`LogFormat::Json`], `fair`'s own notes are logged at `INFO`, shown unless `-q`.
/// The HTTP codec's errors (any client can cause one per connection) are shown from
/// `-vv` on, and always counted in the server's `/metrics`.
pub fn init(verbosity: i8, format: LogFormat) {
    let _ = SETTINGS.set(Settings {
        quiet: verbosity < 0,
        format,
    });
    let level = match verbosity {
        i8::MIN..=-1 => "error",
        0 if format == LogFormat::Json => "warn,fair=info",
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let codec = if verbosity >= 2 { "debug" } else { "off" };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        EnvFilter::new(format!("{level},{}={codec}", fairserver::metrics::CODEC))
    });
    let stderr = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    let stderr = match format {
        LogFormat::Text => stderr
            .with_target(false)
            .with_ansi(colour(
                std::io::stderr().is_terminal(),
                std::env::var_os("NO_COLOR").as_deref(),
            ))
            .boxed(),
        LogFormat::Json => stderr.json().with_current_span(false).boxed(),
    };
    let _ = tracing_subscriber::registry()
        .with(stderr.with_filter(filter))
        .with(
            fairserver::metrics::StreamErrors.with_filter(
                tracing_subscriber::filter::Targets::new()
                    .with_target(fairserver::metrics::CODEC, tracing::Level::ERROR),
            ),
        )
        .try_init();
}

/// Whether stderr gets ANSI colours: only a terminal, and only without a non-empty
/// `NO_COLOR`.
fn colour(terminal: bool, no_color: Option<&std::ffi::OsStr>) -> bool {
    terminal && no_color.is_none_or(|v| v.is_empty())
}

/// Whether `-q` was given: then nothing but errors is written on stderr, and
/// summaries are not printed on stdout.
pub fn quiet() -> bool {
    SETTINGS.get().is_some_and(|s| s.quiet)
}

/// Whether notes are `tracing` events ([`LogFormat::Json`]) rather than plain lines.
pub fn notes_are_events() -> bool {
    SETTINGS.get().is_some_and(|s| s.format == LogFormat::Json)
}

/// A short note on stderr (what a command did, or left alone), unless `-q`: a
/// plain line, or an `INFO` event with `--log-format json`.
#[macro_export]
macro_rules! note {
    ($($arg:tt)*) => {
        if $crate::logging::notes_are_events() {
            tracing::info!($($arg)*);
        } else if !$crate::logging::quiet() {
            eprintln!($($arg)*);
        }
    };
}

/// A human summary on stdout, unless `-q` (results asked for, like `--json` or
/// `fair find`, are printed with `println!`).
#[macro_export]
macro_rules! say {
    ($($arg:tt)*) => {
        if !$crate::logging::quiet() {
            println!($($arg)*);
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_only_on_a_terminal_without_no_color() {
        assert!(colour(true, None));
        assert!(colour(true, Some("".as_ref())));
        assert!(!colour(true, Some("1".as_ref())));
        assert!(!colour(false, None));
        assert!(!colour(false, Some("1".as_ref())));
    }
}
