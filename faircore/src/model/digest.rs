//! Extra digests: algorithms a catalogue computes besides its own hash (chosen at
//! `fair init --extra-digest`), so that tools which only know SHA-256 or MD5
//! (`sha256sum -c`, aria2c, HTTP `Repr-Digest`, DCAT `spdx:checksum`) can check
//! its elements. They are computed in the same read as the catalogue hash and kept
//! in the database, by element checksum ([`crate::StoreReader::extra_digests`]).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use sha2::Digest as _;

use crate::HashAlgo;

/// An extra digest algorithm.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ExtraAlgo {
    /// SHA-256 (FIPS 180-4).
    #[serde(rename = "sha256")]
    Sha256,
    /// MD5 (RFC 1321): for tools and registries that still ask for it; not a
    /// security check.
    #[serde(rename = "md5")]
    Md5,
}

impl ExtraAlgo {
    /// Every algorithm, in the order `--help` lists them.
    pub const ALL: [ExtraAlgo; 2] = [ExtraAlgo::Sha256, ExtraAlgo::Md5];

    /// Its name in `fair.toml` and on the command line.
    pub const fn name(self) -> &'static str {
        match self {
            ExtraAlgo::Sha256 => "sha256",
            ExtraAlgo::Md5 => "md5",
        }
    }

    /// The length of its digest in bytes.
    const fn len(self) -> usize {
        match self {
            ExtraAlgo::Sha256 => 32,
            ExtraAlgo::Md5 => 16,
        }
    }

    /// The catalogue hash that gives the same digest, if any.
    pub const fn same_as(self) -> Option<HashAlgo> {
        match self {
            ExtraAlgo::Sha256 => Some(HashAlgo::Sha256),
            ExtraAlgo::Md5 => None,
        }
    }
}

impl fmt::Display for ExtraAlgo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ExtraAlgo {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        crate::one_of(
            "extra digest",
            text.trim(),
            &ExtraAlgo::ALL,
            ExtraAlgo::name,
        )
    }
}

/// Parses a comma-separated list such as `sha256,md5` into sorted, distinct
/// algorithms, refusing one that `hash` already gives.
pub fn parse_list(text: &str, hash: HashAlgo) -> Result<Vec<ExtraAlgo>, String> {
    let mut algos = text
        .split(',')
        .map(str::parse)
        .collect::<Result<Vec<ExtraAlgo>, String>>()?;
    algos.sort_unstable();
    algos.dedup();
    if let Some(same) = algos.iter().find(|a| a.same_as() == Some(hash)) {
        return Err(format!(
            "extra digest {same}: the catalogue hash is {hash} already, so its checksums are these digests"
        ));
    }
    Ok(algos)
}

/// The extra digests known for one element.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ExtraDigests {
    /// Its SHA-256.
    pub sha256: Option<[u8; 32]>,
    /// Its MD5.
    pub md5: Option<[u8; 16]>,
}

impl ExtraDigests {
    /// Whether none is known.
    pub fn is_empty(&self) -> bool {
        self.sha256.is_none() && self.md5.is_none()
    }

    /// The digest of `algo`, if known.
    pub fn get(&self, algo: ExtraAlgo) -> Option<&[u8]> {
        match algo {
            ExtraAlgo::Sha256 => self.sha256.as_ref().map(|d| d.as_slice()),
            ExtraAlgo::Md5 => self.md5.as_ref().map(|d| d.as_slice()),
        }
    }

    /// The stored form: for each digest, a tag byte (its index in
    /// [`ExtraAlgo::ALL`]) then its bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(50);
        for (tag, algo) in ExtraAlgo::ALL.into_iter().enumerate() {
            if let Some(digest) = self.get(algo) {
                out.push(tag as u8);
                out.extend_from_slice(digest);
            }
        }
        out
    }

    /// Reads the stored form back; `None` if it is malformed.
    pub fn decode(mut bytes: &[u8]) -> Option<Self> {
        let mut digests = ExtraDigests::default();
        while let Some((&tag, rest)) = bytes.split_first() {
            let algo = *ExtraAlgo::ALL.get(usize::from(tag))?;
            let digest = rest.get(..algo.len())?;
            match algo {
                ExtraAlgo::Sha256 => digests.sha256 = Some(digest.try_into().ok()?),
                ExtraAlgo::Md5 => digests.md5 = Some(digest.try_into().ok()?),
            }
            bytes = &rest[algo.len()..];
        }
        Some(digests)
    }
}

/// Computes the extra digests of a stream of bytes, alongside the catalogue hash.
#[derive(Clone, Debug, Default)]
pub struct ExtraHasher {
    sha256: Option<sha2::Sha256>,
    md5: Option<md5::Md5>,
}

impl ExtraHasher {
    /// A hasher of `algos` (none: it does nothing).
    pub fn new(algos: &[ExtraAlgo]) -> Self {
        ExtraHasher {
            sha256: algos.contains(&ExtraAlgo::Sha256).then(sha2::Sha256::new),
            md5: algos.contains(&ExtraAlgo::Md5).then(md5::Md5::new),
        }
    }

    /// Feeds `bytes`.
    pub fn update(&mut self, bytes: &[u8]) {
        if let Some(h) = &mut self.sha256 {
            h.update(bytes);
        }
        if let Some(h) = &mut self.md5 {
            h.update(bytes);
        }
    }

    /// The digests of everything fed.
    pub fn finalize(self) -> ExtraDigests {
        ExtraDigests {
            sha256: self.sha256.map(|h| h.finalize().into()),
            md5: self.md5.map(|h| h.finalize().into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_digests_and_the_stored_form_round_trips() {
        let mut hasher = ExtraHasher::new(&ExtraAlgo::ALL);
        hasher.update(b"a");
        hasher.update(b"bc");
        let digests = hasher.finalize();
        assert_eq!(
            digests.sha256.map(hex::encode).as_deref(),
            Some("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        );
        assert_eq!(
            digests.md5.map(hex::encode).as_deref(),
            Some("900150983cd24fb0d6963f7d28e17f72")
        );
        assert_eq!(ExtraDigests::decode(&digests.encode()), Some(digests));
        let only_md5 = ExtraDigests {
            md5: digests.md5,
            ..ExtraDigests::default()
        };
        assert_eq!(ExtraDigests::decode(&only_md5.encode()), Some(only_md5));
        assert_eq!(ExtraDigests::decode(&[0, 1, 2]), None, "truncated");
        assert_eq!(ExtraDigests::decode(&[9]), None, "unknown tag");
        assert!(ExtraHasher::new(&[]).finalize().is_empty());
    }

    #[test]
    fn lists_parse_and_bad_names_list_the_accepted_ones() {
        assert_eq!(
            parse_list("md5,sha256,md5", HashAlgo::Blake3),
            Ok(vec![ExtraAlgo::Sha256, ExtraAlgo::Md5])
        );
        let error = parse_list("sha256,sha1", HashAlgo::Blake3).expect_err("sha1");
        assert!(
            error.contains("\"sha1\"") && error.contains("sha256, md5"),
            "{error}"
        );
        let error = parse_list("sha256", HashAlgo::Sha256).expect_err("same as the hash");
        assert!(error.contains("already"), "{error}");
    }
}
