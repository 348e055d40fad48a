//! `fair serve`: the HTTP server over a catalogue (the `fairserver` crate).

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;

use crate::Exit;

/// Flags of `fair serve`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Routes (the Seamless fairserver's, plus extensions):
  GET /machine/dataset/NAME                 header and distributions of a dataset
  GET /machine/find/CHECKSUM                dataset and record of a distribution
  GET /machine/access/ELEMENT               where an element can be downloaded
  GET /machine/keyorder/CHECKSUM            a keyorder file (immutable, gzip if asked)
  GET /machine/find_distribution?dataset=D[&type=&version=&date=&format=&compression=]
  GET /machine/find_checksum?dataset=D[...] the same, the checksum only
  GET /machine/datasets                     every dataset with its latest distributions
  GET /machine/diff/OLD/NEW                 changed keys between two distributions (JSON lines)
  GET /machine/manifest/CHECKSUM?format=F   a bulk download manifest (see fair manifest --help)
  GET /buffers/CHECKSUM                     an element's bytes (ranges, immutable)
  GET /files/CHECKSUM/KEY                   the same under a key's name; with
                                            --serve-source also from the source trees
  GET /health                               status, catalogue generation, problems
  GET /metrics                              Prometheus metrics

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
  wget -x -nH --cut-dirs=2 -i list")]
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
        eprintln!("serving {} on http://{addr}/", args.dir.display());
    })
    .with_context(|| format!("serving {} on {}", args.dir.display(), args.listen))?;
    Ok(Exit::Success)
}
