//! `fair manifest`: a bulk download manifest of a distribution.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use faircore::manifest::{Format, Manifest, Mirror};
use faircore::{Catalogue, View, resolve};

use crate::Exit;

const EXAMPLES: &str = "\
A distribution is its checksum, or DATASET@VERSION, DATASET@DATE (YYYY-MM-DD) or
DATASET@latest (resolved as `fair find` does).

Formats:
  urls         one URL a line (the first mirror)            wget -i, curl
  wget         BASE/files/CHECKSUM/KEY a line               wget -x -nH --cut-dirs=N
                                                              --restrict-file-names=nocontrol -i FILE
  aria2        every mirror, out=KEY, checksum=sha-256/md5   aria2c -i FILE
  metalink     Metalink 4: mirrors, size, hashes             aria2c -M FILE.meta4
  b3sum        HEX  KEY (blake3 catalogues)                  b3sum -c FILE
  sha256sum    HEX  KEY (sha256, or --extra-digest sha256)   sha256sum -c FILE
  sha3-256sum  HEX  KEY (sha3-256 catalogues)
  rsync        one key a line (./ before # and ;)           rsync --files-from=FILE
  bagit        URL LENGTH data/KEY                           a BagIt fetch.txt

When fair.toml has a base_url, BASE/buffers/CHECKSUM (served by `fair serve`) is
offered as a mirror of every element in buffers/; with --serve-source (the server
runs with it), BASE/files/CHECKSUM/KEY of every other key. The wget format lists
only those URLs, whose path ends with the key: `wget -x -nH --cut-dirs=N` with N
= 2 + the number of path segments of the base URL (2 for http://host:port/)
recreates the keys' directories. In catalogues with extra digests, aria2 gives
checksum=sha-256= and metalink a sha-256 and md5 <hash> when they are recorded. Only URLs that give the element's
bytes as they are (not compressed, no cell type) are listed; keys without one are left out of the URL formats and counted on stderr.
The manifest is written as the collection is read (constant memory), after one
pass over the keys: a key the format cannot carry is refused, named, before the
first byte (aria2: a line break, or a blank at either end; rsync: a line break;
metalink: a control character XML forbids; b3sum: U+FFFD). aria2c -M itself
refuses names with control characters and saves & as &#38;: use aria2 for those.
aria2c checks SHA-256 and MD5 only: a blake3 or sha3-256 catalogue without
extra digests gets a note on stderr.

Examples:
  fair manifest /srv/fair pdb@latest --format aria2 > pdb.aria2 && aria2c -i pdb.aria2
  fair manifest /srv/fair pdb@2025.02 --format urls --since pdb@2025.01
  cd /mirror/pdb && fair manifest /srv/fair pdb@latest --format b3sum | b3sum -c
  fair manifest /srv/fair pdb@latest --format wget --serve-source > list &&
    wget -x -nH --cut-dirs=2 --restrict-file-names=nocontrol -i list  # base_url http://host:61918/

Exit codes: 0 written; 1 unknown or ambiguous distribution, a format this catalogue
or distribution cannot give (check files of another algorithm without that extra
digest; URLs without an access index; wget without a base URL; a key the format
cannot carry).";

/// Flags of `fair manifest`.
#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct Args {
    /// The catalogue directory.
    pub dir: PathBuf,
    /// The distribution.
    pub dist: String,
    /// The manifest format (see below).
    #[arg(long, value_name = "F")]
    pub format: Format,
    /// The server at fair.toml's base_url runs with --serve-source: offer its
    /// BASE/files/CHECKSUM/KEY for keys without a buffer.
    #[arg(long)]
    pub serve_source: bool,
    /// Only the keys added or changed since this distribution.
    #[arg(long, value_name = "OLD")]
    pub since: Option<String>,
}

/// Runs `fair manifest`.
pub fn run(args: &Args) -> anyhow::Result<Exit> {
    let catalogue = Catalogue::open(&args.dir)?;
    let view = View::load(&catalogue);
    let (_, record) = resolve::named(&view, &args.dist)?;
    let since = match &args.since {
        Some(spec) => Some(resolve::named(&view, spec)?.1),
        None => None,
    };
    let mirror = catalogue.config().base_url.clone().map(|base| Mirror {
        base,
        sources: args.serve_source,
    });
    let manifest = Manifest::new(&catalogue, record, since, args.format, mirror.clone())?;
    manifest.refuse_keys()?;
    let mut out = std::io::BufWriter::with_capacity(256 << 10, std::io::stdout().lock());
    let summary = match manifest.write(&mut out) {
        Err(faircore::Error::Io { source, .. })
            if source.kind() == std::io::ErrorKind::BrokenPipe =>
        {
            return Ok(Exit::Success);
        }
        other => other.with_context(|| format!("the {} manifest of {}", args.format, args.dist))?,
    };
    out.flush().context("writing to stdout")?;
    let mut said = format!("{} entries", summary.entries);
    if summary.without_url > 0 {
        said += &format!(
            "; {} keys left out: no URL gives their bytes as they are",
            summary.without_url
        );
        match &mirror {
            None => said += &format!("; {}", faircore::manifest::OWN_URLS),
            Some(m) if !m.sources => {
                said += "; to offer them from this catalogue's server, intern them into buffers/ (fair index --intern copy) or serve the source trees (fair serve --serve-source) and pass --serve-source"
            }
            Some(_) => {}
        }
    }
    if summary.without_digest > 0 {
        said += &format!(
            "; {} keys left out: no {} digest recorded (index them again)",
            summary.without_digest, args.format
        );
    }
    note!("{said}");
    if let Some(unchecked) = manifest.unchecked() {
        note!("note: {unchecked}");
    }
    if let (Format::Wget, Some(base)) = (args.format, &catalogue.config().base_url) {
        let cut = faircore::manifest::wget_cut_dirs(base);
        note!(
            "fetch them with: wget -x -nH --cut-dirs={cut} --restrict-file-names=nocontrol -i FILE"
        );
    }
    Ok(Exit::Success)
}
