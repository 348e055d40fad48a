//! `fair serve`: the HTTP server over a catalogue (the `fairserver` crate).

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;

use crate::Exit;

/// The heading of the routes in `fair serve --help`.
const ROUTES_HEADING: &str = "Routes (the Seamless fairserver's, plus extensions):";

/// What `fair serve --help` says after the routes.
const AFTER_ROUTES: &str = "\
The catalogue is reloaded within a second of a change on disk (fair snapshot
while serving is safe). SIGINT or SIGTERM stop the server after in-flight requests.

With --serve-source, a file of a tree `fair index` indexed is served as
/files/CHECKSUM/KEY while its size, mtime and inode are those it was indexed with
(otherwise 404, and a warning in the log); manifests then offer those URLs, so
a mirror can be downloaded whole without interning it into buffers/.

Examples:
  fair serve /srv/fair
  fair serve /srv/fair --listen 0.0.0.0:8080 --base-url https://fair.example.org/
  fair serve /srv/fair --base-url http://host:61918/ --serve-source
  # then, elsewhere (2 = the base URL's path segments + 2):
  curl -s 'http://host:61918/machine/manifest/CHECKSUM?format=wget' > list
  wget -x -nH --cut-dirs=2 -i list";

/// Width of the routes' syntax column in `fair serve --help`.
const SYNTAX_WIDTH: usize = 41;

/// What `fair serve --help` says after the flags: every route of the server,
/// then how it follows the catalogue, and examples.
pub fn after_help() -> String {
    let mut help = format!("{ROUTES_HEADING}\n");
    for route in fairserver::ROUTES {
        let (syntax, summary) = (route.syntax, route.summary);
        // A long syntax has its summary on the next line.
        let _ = if syntax.len() > SYNTAX_WIDTH {
            writeln!(help, "  {syntax}\n  {:SYNTAX_WIDTH$} {summary}", "")
        } else {
            writeln!(help, "  {syntax:SYNTAX_WIDTH$} {summary}")
        };
    }
    format!("{help}\n{AFTER_ROUTES}")
}

/// Flags of `fair serve` (its `after_help` is [`after_help`], set at run time).
/// Each setting comes from its flag, else its environment variable, else the
/// `[server]` table of fair.toml, else its default (`--print-config` shows which).
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The catalogue directory.
    pub dir: PathBuf,
    /// Address and port to listen on (port 0: any free port, printed)
    /// [env: FAIR_LISTEN] [default: 127.0.0.1:61918].
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,
    /// The public URL of this server: its /buffers/ is then offered as a mirror in
    /// access answers and manifests [env: FAIR_BASE_URL] [default: fair.toml's base_url].
    #[arg(long, value_name = "URL", value_parser = super::parse_base_url)]
    pub base_url: Option<String>,
    /// Also serve the files of the indexed source trees, checked against the
    /// index (size, mtime, inode), as /files/CHECKSUM/KEY [env: FAIR_SERVE_SOURCE=true|false].
    #[arg(long)]
    pub serve_source: bool,
    /// How often to check the catalogue for changes, in milliseconds
    /// [env: FAIR_POLL_MS] [default: 500].
    #[arg(long, value_name = "MS")]
    pub poll_ms: Option<u64>,
    /// Print the effective settings and where each came from, and exit.
    #[arg(long)]
    pub print_config: bool,
}

/// Where a setting's value came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// A command-line flag.
    Flag,
    /// An environment variable (its name).
    Env(&'static str),
    /// fair.toml (the key).
    File(&'static str),
    /// Built in.
    Default,
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Flag => f.write_str("flag"),
            Source::Env(name) => write!(f, "environment {name}"),
            Source::File(key) => write!(f, "fair.toml {key}"),
            Source::Default => f.write_str("default"),
        }
    }
}

/// A setting's value and its source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Setting<T> {
    /// The value.
    pub value: T,
    /// Where it came from.
    pub source: Source,
}

/// The effective settings of `fair serve`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// `HOST:PORT`.
    pub listen: Setting<String>,
    /// The public URL, if any.
    pub base_url: Setting<Option<String>>,
    /// Whether source trees are served.
    pub serve_source: Setting<bool>,
    /// Poll interval in milliseconds.
    pub poll_ms: Setting<u64>,
}

/// The first of `layers` that has a value, else `default`.
fn first<T>(layers: [(Option<T>, Source); 3], default: T) -> Setting<T> {
    layers
        .into_iter()
        .find_map(|(value, source)| value.map(|value| Setting { value, source }))
        .unwrap_or(Setting {
            value: default,
            source: Source::Default,
        })
}

impl Settings {
    /// Resolves each setting: flag, else `env(NAME)`, else fair.toml's `[server]`
    /// (and its top-level `base_url`), else the default. Errors name the variable
    /// and what was expected.
    pub fn resolve(
        args: &Args,
        config: &faircore::Config,
        env: impl Fn(&str) -> Option<String>,
    ) -> anyhow::Result<Settings> {
        let server = &config.server;
        let base_url = match env("FAIR_BASE_URL") {
            Some(url) => Some(
                super::parse_base_url(&url).map_err(|e| anyhow::anyhow!("FAIR_BASE_URL: {e}"))?,
            ),
            None => None,
        };
        let serve_source = match env("FAIR_SERVE_SOURCE").as_deref() {
            None => None,
            Some("true" | "1") => Some(true),
            Some("false" | "0" | "") => Some(false),
            Some(other) => anyhow::bail!("FAIR_SERVE_SOURCE {other:?}: expected true or false"),
        };
        let poll_ms = match env("FAIR_POLL_MS") {
            Some(ms) => Some(ms.parse::<u64>().map_err(|_| {
                anyhow::anyhow!("FAIR_POLL_MS {ms:?}: expected a number of milliseconds")
            })?),
            None => None,
        };
        let base = first(
            [
                (args.base_url.clone().map(Some), Source::Flag),
                (base_url.map(Some), Source::Env("FAIR_BASE_URL")),
                (
                    server.base_url.clone().map(Some),
                    Source::File("[server] base_url"),
                ),
            ],
            None,
        );
        let base = match (&base.value, &config.base_url) {
            (None, Some(url)) => Setting {
                value: Some(url.clone()),
                source: Source::File("base_url"),
            },
            _ => base,
        };
        Ok(Settings {
            listen: first(
                [
                    (args.listen.clone(), Source::Flag),
                    (env("FAIR_LISTEN"), Source::Env("FAIR_LISTEN")),
                    (server.listen.clone(), Source::File("[server] listen")),
                ],
                DEFAULT_LISTEN.to_owned(),
            ),
            base_url: base,
            serve_source: first(
                [
                    (args.serve_source.then_some(true), Source::Flag),
                    (serve_source, Source::Env("FAIR_SERVE_SOURCE")),
                    (server.serve_source, Source::File("[server] serve_source")),
                ],
                false,
            ),
            poll_ms: first(
                [
                    (args.poll_ms, Source::Flag),
                    (poll_ms, Source::Env("FAIR_POLL_MS")),
                    (server.poll_ms, Source::File("[server] poll_ms")),
                ],
                DEFAULT_POLL_MS,
            ),
        })
    }

    /// One line a setting: `name = value  # source`.
    pub fn describe(&self) -> String {
        let base = self.base_url.value.as_deref().unwrap_or("(none)");
        format!(
            "listen = {}  # {}\nbase_url = {base}  # {}\nserve_source = {}  # {}\npoll_ms = {}  # {}",
            self.listen.value,
            self.listen.source,
            self.base_url.source,
            self.serve_source.value,
            self.serve_source.source,
            self.poll_ms.value,
            self.poll_ms.source
        )
    }
}

/// Where the server listens unless told otherwise.
const DEFAULT_LISTEN: &str = "127.0.0.1:61918";

/// How often the catalogue is polled unless told otherwise, in milliseconds.
const DEFAULT_POLL_MS: u64 = 500;

/// Runs `fair serve`.
pub fn run(args: &Args) -> anyhow::Result<Exit> {
    let catalogue = faircore::Catalogue::open(&args.dir)?;
    let settings = Settings::resolve(args, catalogue.config(), |name| std::env::var(name).ok())?;
    if args.print_config {
        println!("{}", settings.describe());
        return Ok(Exit::Success);
    }
    let options = fairserver::Options {
        dir: args.dir.clone(),
        listen: settings.listen.value.clone(),
        poll: Duration::from_millis(settings.poll_ms.value.max(10)),
        base_url: settings.base_url.value.clone(),
        serve_source: settings.serve_source.value,
    };
    fairserver::serve(&options, |addr| {
        note!("serving {} on http://{addr}/", args.dir.display());
    })
    .with_context(|| format!("serving {} on {}", args.dir.display(), options.listen))?;
    Ok(Exit::Success)
}
