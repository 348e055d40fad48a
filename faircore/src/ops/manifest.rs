//! Bulk download manifests of a distribution, in the formats download tools and
//! checksum tools read, written as the collection is read (constant memory: the
//! collection is streamed in key order, URLs are looked up in the access index
//! file entry by entry, see [`crate::lookup`]).
//!
//! Only URLs that give an element's bytes as they are (no `compression`, no
//! `celltype`) are offered: a tool that checks what it fetched against the
//! checksum could not use the others; nor are URLs with a control character
//! (not URLs, and they would break the line formats). Entries without such a
//! URL are left out of the URL formats and counted.
//!
//! How each format writes a key, and the keys it cannot carry: `names` (a key
//! is refused by [`Manifest::refuse_keys`] before the first byte).
//!
//! A catalogue with extra digests (`fair init --extra-digest`) also lists them
//! where a format has room: `sha256sum` check files of a blake3 catalogue,
//! aria2's `checksum=`, Metalink's `<hash>`.

mod format;
mod names;
mod urls;

use std::io::{self, Write};

use std::borrow::Cow;

pub use format::Format;
pub use urls::{buffer_url, file_url, wget_cut_dirs};

use crate::diff::{self, Change};
use crate::lookup::AccessLookup;
use crate::store::StoreReader;
use crate::stream::EntryStream;
use crate::{
    Catalogue, Checksum, ContentDir, Distribution, Error, ExtraAlgo, ExtraDigests, HashAlgo, Result,
};

/// How to give a catalogue's keys URLs of its own server, for the messages that
/// find none.
pub const OWN_URLS: &str = "to offer this catalogue's own server (fair serve) as a mirror, set its public URL as base_url = \"http://HOST:PORT/\" in the catalogue's fair.toml (fair init --base-url sets it only for a new catalogue), then either intern the files into buffers/ (fair index --intern copy) or serve the indexed source trees (fair serve --serve-source, and fair manifest --serve-source)";

/// A server of this catalogue (`fair serve`), offered as one more mirror.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mirror {
    /// Its public URL.
    pub base: String,
    /// Whether it serves the indexed source trees too (`--serve-source`): then
    /// every key is offered, else only the elements in `buffers/`.
    pub sources: bool,
}

/// The keys of a manifest with their elements, in key order.
type Keys = Box<dyn Iterator<Item = Result<(String, Checksum)>>>;

/// What a check-file format lists: the catalogue's checksums, or an extra digest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Listed {
    Checksum,
    Extra(ExtraAlgo),
}

/// A manifest ready to be written: what the catalogue or distribution cannot give
/// is refused by [`Manifest::new`] (cheap: the metadata pages ask it of every
/// format), a key the format cannot carry by [`Manifest::refuse_keys`] (one pass
/// over the keys); both before a byte is written.
#[derive(Debug)]
pub struct Manifest {
    format: Format,
    algo: HashAlgo,
    listed: Listed,
    layout: crate::Layout,
    /// Whether the catalogue records extra digests.
    extra: bool,
    /// Whether it has a hash aria2c checks (SHA-256 or MD5).
    aria2_hash: bool,
    collection: std::path::PathBuf,
    since: Option<std::path::PathBuf>,
    access_index: Option<std::path::PathBuf>,
    buffers: std::path::PathBuf,
    mirror: Option<Mirror>,
}

/// What a written manifest holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Summary {
    /// Entries written.
    pub entries: u64,
    /// Keys left out: no URL giving their bytes as they are.
    pub without_url: u64,
    /// Keys left out of a check file of an extra digest: none recorded.
    pub without_digest: u64,
}

impl Manifest {
    /// The manifest of `record` in `format`; with `since`, only the keys added or
    /// changed since that distribution; with `mirror`, a server of this catalogue,
    /// offered as a mirror of what it serves.
    pub fn new(
        catalogue: &Catalogue,
        record: &Distribution,
        since: Option<&Distribution>,
        format: Format,
        mirror: Option<Mirror>,
    ) -> Result<Self> {
        let algo = catalogue.hash();
        let extras = &catalogue.config().extra_digests;
        let listed = match format.digest() {
            None => Listed::Checksum,
            Some(digest) if digest == algo => Listed::Checksum,
            Some(digest) => match extras.iter().find(|e| e.same_as() == Some(digest)) {
                Some(extra) => Listed::Extra(*extra),
                None => {
                    return Err(Error::invalid(
                        format!("manifest format {format}"),
                        format!(
                            "it lists {digest} checksums, this catalogue hashes with {algo} and records no extra {digest} digest (fair init --extra-digest); use {}",
                            Format::ALL
                                .iter()
                                .find(|f| f.digest() == Some(algo))
                                .map_or("another format", |f| f.name())
                        ),
                    ));
                }
            },
        };
        if format == Format::Wget && mirror.is_none() {
            return Err(Error::invalid(
                "manifest format wget",
                format!(
                    "its URLs are those of a server of this catalogue (BASE/files/ELEMENT/KEY) and no base URL is set: {OWN_URLS}"
                ),
            ));
        }
        let access_index = match (format.needs_urls(), record.access_index) {
            _ if format == Format::Wget => None,
            (false, _) => None,
            (true, Some(index)) => {
                Some(catalogue.layout().content(ContentDir::AccessIndex, &index))
            }
            (true, None) if mirror.is_some() => None,
            (true, None) => {
                return Err(Error::invalid(
                    format!("distribution {}", record.checksum),
                    format!(
                        "it has no access index (its collection had no download index when it was snapshotted) and no base URL is set, so format {format} has no URL to list: {OWN_URLS}"
                    ),
                ));
            }
        };
        let collection =
            |r: &Distribution| catalogue.layout().content(ContentDir::Buffers, &r.checksum);
        let manifest = Manifest {
            format,
            algo,
            listed,
            layout: catalogue.layout().clone(),
            extra: !extras.is_empty(),
            aria2_hash: algo == HashAlgo::Sha256 || !extras.is_empty(),
            collection: collection(record),
            since: since.map(collection),
            access_index,
            buffers: catalogue.layout().content_dir(ContentDir::Buffers),
            mirror,
        };
        Ok(manifest)
    }

    /// For the `aria2` and `metalink` formats, what aria2c cannot check: a
    /// blake3 or sha3-256 catalogue without extra digests lists no hash aria2c
    /// knows (it knows SHA-256 and MD5), so it checks nothing it downloads.
    pub fn unchecked(&self) -> Option<String> {
        let aria2 = matches!(self.format, Format::Aria2 | Format::Metalink);
        (aria2 && !self.aria2_hash).then(|| {
            format!(
                "aria2c checks none of these downloads: it knows no {} hash, the only one this catalogue records; record SHA-256 too with extra_digests = [\"sha256\"] in fair.toml and fair index again (fair init --extra-digest sha256 for a new catalogue)",
                self.algo
            )
        })
    }

    /// The keys listed, with their elements: the collection's, or those added or
    /// changed since the old one.
    fn keys(&self) -> Result<Keys> {
        let new = EntryStream::open(&self.collection)?;
        Ok(match &self.since {
            None => Box::new(new),
            Some(old) => Box::new(
                diff::diff(EntryStream::open(old)?, new).filter_map(|change| match change {
                    Ok(Change::Added { key, new } | Change::Changed { key, new, .. }) => {
                        Some(Ok((key, new)))
                    }
                    Ok(Change::Removed { .. }) => None,
                    Err(e) => Some(Err(e)),
                }),
            ),
        })
    }

    /// Reads the keys once, to be called before [`Manifest::write`]: the first
    /// one this format cannot carry is refused, named (escaped for a terminal)
    /// with the reason.
    pub fn refuse_keys(&self) -> Result<()> {
        for entry in self.keys()? {
            let (key, _) = entry?;
            self.carried(&key)?;
        }
        Ok(())
    }

    /// `key`, if this format can carry it.
    fn carried(&self, key: &str) -> Result<()> {
        match names::refusal(self.format, key) {
            None => Ok(()),
            Some(what) => Err(Error::invalid(
                format!("key {key:?}"),
                format!(
                    "it has {what}, which the {} manifest format cannot carry",
                    self.format
                ),
            )),
        }
    }

    /// Writes the manifest to `out`, entry by entry ([`Manifest::refuse_keys`]
    /// first, so that a key it cannot carry is refused before the first byte;
    /// here it would only stop the writing).
    pub fn write(&self, out: &mut dyn Write) -> Result<Summary> {
        let lookup = match &self.access_index {
            Some(path) => Some(AccessLookup::open(path)?),
            None => None,
        };
        let sources = self.mirror.as_ref().is_some_and(|m| m.sources);
        let store = match self.extra || sources {
            true => StoreReader::open(&self.layout)?,
            false => None,
        };
        let digests = store.as_ref().filter(|_| self.extra);
        // Served from a source tree: a file found there under `key` that resolves
        // inside its tree, as `/files/` serves it.
        let served = |key: &str, element: &Checksum| -> Result<bool> {
            Ok(match &store {
                Some(store) if sources => store
                    .source_files(key, element)?
                    .iter()
                    .any(|f| f.resolved().is_some()),
                _ => false,
            })
        };
        let entries = self.keys()?;
        let io = |e: io::Error| Error::io("the manifest's output", e);
        let mut summary = Summary::default();
        let mut buffer = Vec::new();
        self.begin(out).map_err(io)?;
        for entry in entries {
            let (key, element) = entry?;
            self.carried(&key)?;
            let urls = match &lookup {
                Some(lookup) if lookup.read(&element, &mut buffer)? => lookup.parse(&buffer)?,
                _ => Vec::new(),
            };
            let mut urls: Vec<Cow<'_, str>> = urls
                .iter()
                // A URL with a control character (TAB, LF, CR, ...) is not one
                // and would break the line formats: never listed.
                .filter(|u| u.is_exact() && !u.url().contains(char::is_control))
                .map(|u| Cow::Borrowed(u.url()))
                .collect();
            let needs_buffer = self.format.needs_sizes() || self.mirror.is_some();
            let size = needs_buffer
                .then(|| std::fs::metadata(self.buffers.join(element.to_hex())).ok())
                .flatten()
                .map(|m| m.len());
            // This catalogue's server: its buffer, or (for wget, and for keys
            // without a buffer that it serves from a source tree) the file under
            // its key.
            let own = match &self.mirror {
                Some(m) if size.is_some() && self.format != Format::Wget => {
                    Some(buffer_url(&m.base, &element))
                }
                Some(m) if size.is_some() || served(&key, &element)? => {
                    Some(file_url(&m.base, &element, &key))
                }
                _ => None,
            };
            urls.extend(own.map(Cow::Owned));
            if self.format.needs_urls() && urls.is_empty() {
                summary.without_url += 1;
                continue;
            }
            let extra = match &digests {
                Some(reader) => reader.extra_digests(&element)?.unwrap_or_default(),
                None => ExtraDigests::default(),
            };
            if let Listed::Extra(algo) = self.listed
                && extra.get(algo).is_none()
            {
                summary.without_digest += 1;
                continue;
            }
            self.entry(out, &key, &element, &extra, &urls, size)
                .map_err(io)?;
            summary.entries += 1;
        }
        self.end(out).map_err(io)?;
        Ok(summary)
    }

    fn begin(&self, out: &mut dyn Write) -> io::Result<()> {
        if self.format == Format::Metalink {
            out.write_all(
                concat!(
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n",
                    "<metalink xmlns=\"urn:ietf:params:xml:ns:metalink\">\n",
                    "  <generator>fair/",
                    env!("CARGO_PKG_VERSION"),
                    "</generator>\n"
                )
                .as_bytes(),
            )?;
        }
        Ok(())
    }

    fn end(&self, out: &mut dyn Write) -> io::Result<()> {
        if self.format == Format::Metalink {
            out.write_all(b"</metalink>\n")?;
        }
        out.flush()
    }

    fn entry(
        &self,
        out: &mut dyn Write,
        key: &str,
        element: &Checksum,
        extra: &ExtraDigests,
        urls: &[Cow<'_, str>],
        size: Option<u64>,
    ) -> io::Result<()> {
        let first = urls.first().map_or("", |u| u);
        let sha256 = match self.algo {
            HashAlgo::Sha256 => Some(element.to_hex()),
            _ => extra.sha256.map(hex::encode),
        };
        match self.format {
            Format::Urls => writeln!(out, "{first}"),
            // The own URL comes last, after any of the access index.
            Format::Wget => writeln!(out, "{}", urls.last().map_or("", |u| u)),
            Format::Aria2 => {
                writeln!(out, "{}", urls.join("\t"))?;
                writeln!(out, "  out={key}")?;
                match (&sha256, extra.md5) {
                    (Some(hex), _) => writeln!(out, "  checksum=sha-256={hex}"),
                    (None, Some(md5)) => writeln!(out, "  checksum=md5={}", hex::encode(md5)),
                    (None, None) => Ok(()),
                }
            }
            Format::Metalink => {
                writeln!(out, "  <file name=\"{}\">", names::xml(key))?;
                if let Some(size) = size {
                    writeln!(out, "    <size>{size}</size>")?;
                }
                let kind = match self.algo {
                    HashAlgo::Sha256 => "sha-256",
                    HashAlgo::Sha3_256 => "sha3-256",
                    HashAlgo::Blake3 => "blake3",
                };
                writeln!(out, "    <hash type=\"{kind}\">{element}</hash>")?;
                if let (Some(hex), true) = (&sha256, self.algo != HashAlgo::Sha256) {
                    writeln!(out, "    <hash type=\"sha-256\">{hex}</hash>")?;
                }
                if let Some(md5) = extra.md5 {
                    writeln!(out, "    <hash type=\"md5\">{}</hash>", hex::encode(md5))?;
                }
                for url in urls {
                    writeln!(out, "    <url>{}</url>", names::xml(url))?;
                }
                writeln!(out, "  </file>")
            }
            Format::B3sum | Format::Sha256sum | Format::Sha3_256sum => {
                let digest = match self.listed {
                    Listed::Checksum => element.to_hex(),
                    Listed::Extra(algo) => extra.get(algo).map(hex::encode).unwrap_or_default(),
                };
                writeln!(out, "{}", names::check_line(self.format, &digest, key))
            }
            Format::Rsync => writeln!(out, "{}", names::rsync_line(key)),
            Format::Bagit => {
                // RFC 8493 §2.2.3: CR, LF and % in a file path are percent-encoded.
                let path = key
                    .replace('%', "%25")
                    .replace('\r', "%0D")
                    .replace('\n', "%0A");
                let length = size.map_or_else(|| "-".to_string(), |s| s.to_string());
                writeln!(out, "{first} {length} data/{path}")
            }
        }
    }
}
