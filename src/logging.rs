//! Diagnostics on stderr through `tracing`; stdout is kept for results.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// Installs the stderr logger: warnings by default, more with `-v`, `-vv`, only
/// errors with `-q`; `RUST_LOG` overrides all of them. Colour only when stderr
/// is a terminal and `NO_COLOR` is unset (<https://no-color.org>).
pub fn init(verbosity: i8) {
    let level = match verbosity {
        i8::MIN..=-1 => "error",
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none())
        .try_init();
}
