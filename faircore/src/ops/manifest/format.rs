//! The manifest formats: their names, media types and what each one needs.

use std::str::FromStr;

use crate::HashAlgo;

/// A manifest format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// One URL a line (the first exact mirror).
    Urls,
    /// One URL a line, each `BASE/files/ELEMENT/KEY` of a server of this
    /// catalogue, so that `wget -x -nH --cut-dirs=N -i` recreates the keys.
    Wget,
    /// aria2c input: every exact mirror of an entry, `out=` its key, `checksum=`
    /// when aria2c knows the algorithm (sha-256).
    Aria2,
    /// Metalink 4 (RFC 5854): mirrors, size, hash.
    Metalink,
    /// `b3sum -c` check file (blake3 catalogues).
    B3sum,
    /// `sha256sum -c` check file (sha256 catalogues).
    Sha256sum,
    /// SHA3-256 check file, `<hex>  <key>` (sha3-256 catalogues).
    Sha3_256sum,
    /// An rsync `--files-from` list: one key a line.
    Rsync,
    /// BagIt `fetch.txt`: `URL LENGTH data/KEY`.
    Bagit,
}

impl Format {
    /// Every format, in the order `--help` lists them.
    pub const ALL: [Format; 9] = [
        Format::Urls,
        Format::Wget,
        Format::Aria2,
        Format::Metalink,
        Format::B3sum,
        Format::Sha256sum,
        Format::Sha3_256sum,
        Format::Rsync,
        Format::Bagit,
    ];

    /// Its name on the command line and in `?format=`.
    pub const fn name(self) -> &'static str {
        match self {
            Format::Urls => "urls",
            Format::Wget => "wget",
            Format::Aria2 => "aria2",
            Format::Metalink => "metalink",
            Format::B3sum => "b3sum",
            Format::Sha256sum => "sha256sum",
            Format::Sha3_256sum => "sha3-256sum",
            Format::Rsync => "rsync",
            Format::Bagit => "bagit",
        }
    }

    /// The media type of the manifest.
    pub const fn media_type(self) -> &'static str {
        match self {
            Format::Metalink => "application/metalink4+xml",
            _ => "text/plain; charset=utf-8",
        }
    }

    /// The algorithm a check-file format lists.
    pub(super) const fn digest(self) -> Option<HashAlgo> {
        match self {
            Format::B3sum => Some(HashAlgo::Blake3),
            Format::Sha256sum => Some(HashAlgo::Sha256),
            Format::Sha3_256sum => Some(HashAlgo::Sha3_256),
            _ => None,
        }
    }

    pub(super) const fn needs_urls(self) -> bool {
        matches!(
            self,
            Format::Urls | Format::Wget | Format::Aria2 | Format::Metalink | Format::Bagit
        )
    }

    pub(super) const fn needs_sizes(self) -> bool {
        matches!(self, Format::Metalink | Format::Bagit)
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Format {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        crate::one_of("manifest format", text, &Format::ALL, Format::name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_format_parses_from_its_name() {
        for format in Format::ALL {
            assert_eq!(format.name().parse::<Format>(), Ok(format));
        }
        let error = "zip".parse::<Format>().expect_err("unknown");
        assert!(error.contains("urls, wget, aria2, metalink"), "{error}");
    }
}
