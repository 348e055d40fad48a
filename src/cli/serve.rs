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
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The catalogue directory.
    pub dir: PathBuf,
    /// Address and port to listen on (port 0: any free port, printed).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:61918")]
    pub listen: String,
    /// The public URL of this server: its /buffers/ is then offered as a mirror in
    /// access answers and manifests [default: fair.toml's base_url].
    #[arg(long, value_name = "URL", value_parser = super::parse_base_url)]
    pub base_url: Option<String>,
    /// Also serve the files of the indexed source trees, checked against the
    /// index (size, mtime, inode), as /files/CHECKSUM/KEY.
    #[arg(long)]
    pub serve_source: bool,
    /// How often to check the catalogue for changes, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 500)]
    pub poll_ms: u64,
}

/// Runs `fair serve`.
pub fn run(args: &Args) -> anyhow::Result<Exit> {
    let options = fairserver::Options {
        dir: args.dir.clone(),
        listen: args.listen.clone(),
        poll: Duration::from_millis(args.poll_ms.max(10)),
        base_url: args.base_url.clone(),
        serve_source: args.serve_source,
    };
    fairserver::serve(&options, |addr| {
        note!("serving {} on http://{addr}/", args.dir.display());
    })
    .with_context(|| format!("serving {} on {}", args.dir.display(), args.listen))?;
    Ok(Exit::Success)
}
