//! Diagnostics on stderr through `tracing`; stdout is kept for results.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::prelude::*;

/// Installs the stderr logger: warnings by default, more with `-v`, `-vv`, only
/// errors with `-q`; `RUST_LOG` overrides all of them. Colour only when stderr
/// is a terminal and `NO_COLOR` is unset (<https://no-color.org>). The HTTP
/// codec's errors (any client can cause one per connection) are shown from `-vv`
/// on, and always counted in the server's `/metrics`.
pub fn init(verbosity: i8) {
    let level = match verbosity {
        i8::MIN..=-1 => "error",
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let codec = if verbosity >= 2 { "debug" } else { "off" };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        EnvFilter::new(format!("{level},{}={codec}", fairserver::metrics::CODEC))
    });
    let stderr = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none())
        .with_filter(filter);
    let _ = tracing_subscriber::registry()
        .with(stderr)
        .with(
            fairserver::metrics::StreamErrors.with_filter(
                tracing_subscriber::filter::Targets::new()
                    .with_target(fairserver::metrics::CODEC, tracing::Level::ERROR),
            ),
        )
        .try_init();
}
