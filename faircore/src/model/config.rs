//! `fair.toml`: the catalogue's format version, hash algorithm, extra digests,
//! base URL, the catalogue-wide FAIR metadata (`[catalogue]`), the server's
//! settings (`[server]`) and the datasets `fair update` refreshes (`[[dataset]]`).

use serde::{Deserialize, Serialize};

use std::path::PathBuf;

use crate::digest::ExtraAlgo;
use crate::{HashAlgo, Name};

/// The catalogue format this build reads and writes.
pub const FORMAT_VERSION: u32 = 1;

/// The contents of `fair.toml`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The catalogue format version.
    pub format: u32,
    /// The one hash algorithm of every checksum in the catalogue.
    pub hash: HashAlgo,
    /// The public URL the catalogue is served at, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    /// Digests computed besides `hash` (`fair init --extra-digest`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extra_digests: Vec<ExtraAlgo>,
    /// `[catalogue]`: what the FAIR metadata says about the catalogue as a whole.
    #[serde(default, skip_serializing_if = "CatalogueMeta::is_empty")]
    pub catalogue: CatalogueMeta,
    /// `[server]`: settings of `fair serve`, beneath its environment and flags.
    #[serde(default, skip_serializing_if = "ServerSettings::is_empty")]
    pub server: ServerSettings,
    /// `[[dataset]]`: the datasets `fair update` indexes and snapshots, in order.
    #[serde(default, rename = "dataset", skip_serializing_if = "Vec::is_empty")]
    pub datasets: Vec<DatasetSpec>,
}

/// The `[server]` table of `fair.toml`: `fair serve`'s settings when neither a
/// flag nor a `FAIR_*` environment variable gives them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    /// Address and port to listen on, `HOST:PORT`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listen: Option<String>,
    /// The server's public URL (else the top-level `base_url`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    /// Also serve the indexed source trees.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serve_source: Option<bool>,
    /// How often the catalogue is checked for changes, in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub poll_ms: Option<u64>,
}

impl ServerSettings {
    fn is_empty(&self) -> bool {
        *self == ServerSettings::default()
    }
}

/// One `[[dataset]]` table of `fair.toml`: where a dataset's files are and how
/// `fair update` snapshots them. Relative paths are relative to the catalogue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatasetSpec {
    /// The dataset that gets the distributions.
    pub name: Name,
    /// The directory indexed.
    pub source: PathBuf,
    /// The collection indexed (without `actions`) and snapshotted [default: `name`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collection: Option<Name>,
    /// A Seamless action file run on the source instead of indexing one collection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actions: Option<PathBuf>,
    /// Gitignore-style patterns of entries left out (`.git/`, `*.part`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclude: Vec<String>,
    /// The snapshot's version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The snapshot's date: `YYYY-MM-DD`, or `today` (local time, at each run).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    /// The format of the elements.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// How the downloads of the elements are compressed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compression: Option<String>,
    /// Lay the new URLs over the previous distribution's access index.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub merge_access_index: bool,
    /// Publish even if some files failed, without them (the update still exits 2).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_errors: bool,
}

impl DatasetSpec {
    /// The collection indexed and snapshotted.
    pub fn collection(&self) -> &Name {
        self.collection.as_ref().unwrap_or(&self.name)
    }

    /// The release fields of a snapshot made on `today` (`YYYY-MM-DD`), checked.
    pub fn release(&self, today: &str) -> crate::Result<crate::Release> {
        let date = match self.date.as_deref() {
            Some("today") => Some(today.to_owned()),
            other => other.map(String::from),
        };
        crate::Release::new(
            self.version.clone(),
            date,
            self.format.clone(),
            self.compression.clone(),
        )
    }

    /// Checks what can be checked without the file system: the release fields
    /// (with a sample date for `today`).
    fn check(&self) -> Result<(), String> {
        self.release("2000-01-01")
            .map(|_| ())
            .map_err(|e| format!("[[dataset]] {}: {e}", self.name))
    }
}

/// The `[catalogue]` table of `fair.toml`: the catalogue's title, description,
/// publisher and the license of datasets whose header names none.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogueMeta {
    /// The catalogue's title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// What it holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Who publishes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publisher: Option<String>,
    /// An IRI of the publisher (ROR, home page).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publisher_url: Option<String>,
    /// A mail address for questions about the catalogue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_email: Option<String>,
    /// The license of the catalogue's metadata and of datasets whose header names
    /// none: an SPDX identifier or an IRI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license: Option<String>,
    /// The `dcat:theme` of datasets whose header names none: the IRI of a
    /// concept. Default: the EU data theme "Science and technology"
    /// ([`DEFAULT_THEME`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub theme: Option<String>,
}

/// The EU data theme "Science and technology": the theme of datasets when
/// neither their header nor fair.toml names one.
pub const DEFAULT_THEME: &str = "http://publications.europa.eu/resource/authority/data-theme/TECH";

impl CatalogueMeta {
    fn is_empty(&self) -> bool {
        *self == CatalogueMeta::default()
    }

    /// Checks the license, the publisher's IRI and the theme.
    fn check(&self) -> Result<(), String> {
        if let Some(license) = &self.license {
            crate::header::license_iri(license).map_err(|e| format!("catalogue.license: {e}"))?;
        }
        for (key, value) in [
            ("publisher_url", &self.publisher_url),
            ("theme", &self.theme),
        ] {
            match value {
                Some(url) if !crate::header::is_iri(url) => {
                    return Err(format!("catalogue.{key} {url:?}: expected an http(s) IRI"));
                }
                _ => {}
            }
        }
        Ok(())
    }
}

impl Config {
    /// A configuration of the current format.
    pub fn new(hash: HashAlgo, base_url: Option<String>) -> Self {
        Config {
            format: FORMAT_VERSION,
            hash,
            base_url,
            catalogue: CatalogueMeta::default(),
            extra_digests: Vec::new(),
            server: ServerSettings::default(),
            datasets: Vec::new(),
        }
    }

    /// Parses `fair.toml`; the error message gives line and column, or says which
    /// field is wrong.
    pub fn parse(text: &str) -> Result<Self, String> {
        let config: Config = toml::from_str(text).map_err(|e| e.to_string())?;
        if config.format != FORMAT_VERSION {
            return Err(format!(
                "format = {}: this build of fair reads format {FORMAT_VERSION}",
                config.format
            ));
        }
        if let Some(url) = &config.base_url {
            check_base_url(url)?;
        }
        config.catalogue.check()?;
        if let Some(url) = &config.server.base_url {
            check_base_url(url).map_err(|e| format!("server.{e}"))?;
        }
        let mut names = std::collections::BTreeSet::new();
        for dataset in &config.datasets {
            if !names.insert(&dataset.name) {
                return Err(format!(
                    "[[dataset]] {}: declared twice (names are unique)",
                    dataset.name
                ));
            }
            dataset.check()?;
        }
        if let Some(same) = config
            .extra_digests
            .iter()
            .find(|a| a.same_as() == Some(config.hash))
        {
            return Err(format!(
                "extra_digests: {same} is the catalogue hash already"
            ));
        }
        Ok(config)
    }

    /// The TOML text of this configuration.
    pub fn to_toml(&self) -> String {
        let body = toml::to_string(self).unwrap_or_default();
        format!("# fair catalogue configuration; the hash algorithm cannot change.\n{body}")
    }
}

/// Checks that `url` is an absolute http(s) URL.
pub fn check_base_url(url: &str) -> Result<(), String> {
    match url::Url::parse(url) {
        Ok(_) if crate::header::is_iri(url) => Ok(()),
        Ok(_) => Err(format!(
            "base_url {url:?}: expected an http:// or https:// URL without spaces, quotes or control characters"
        )),
        Err(e) => Err(format!("base_url {url:?}: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_in_its_iris_are_refused_naming_the_field() {
        let base = "format = 1\nhash = \"blake3\"\n";
        for (line, field) in [
            ("base_url = \"https://x.example/\\u0001\"", "base_url"),
            (
                "[catalogue]\nlicense = \"https://l.example/\\u0007\"",
                "catalogue.license",
            ),
            (
                "[catalogue]\npublisher_url = \"https://p.example/\\u001b\"",
                "catalogue.publisher_url",
            ),
        ] {
            let error = Config::parse(&format!("{base}{line}\n")).expect_err(line);
            assert!(error.contains(field), "{line}: {error}");
        }
    }

    #[test]
    fn round_trips() {
        let config = Config::new(HashAlgo::Sha3_256, Some("https://fair.example.org/".into()));
        assert_eq!(Config::parse(&config.to_toml()), Ok(config));
        let mut extra = Config::new(HashAlgo::Blake3, None);
        extra.extra_digests = vec![ExtraAlgo::Sha256, ExtraAlgo::Md5];
        assert!(
            extra
                .to_toml()
                .contains("extra_digests = [\"sha256\", \"md5\"]")
        );
        assert_eq!(Config::parse(&extra.to_toml()), Ok(extra));
        let plain = Config::new(HashAlgo::Blake3, None);
        assert!(!plain.to_toml().contains("base_url"));
        assert_eq!(Config::parse(&plain.to_toml()), Ok(plain));
        let mut described = Config::new(HashAlgo::Blake3, None);
        described.catalogue.title = Some("Mirror".into());
        described.catalogue.license = Some("CC0-1.0".into());
        assert!(described.to_toml().contains("[catalogue]"));
        assert_eq!(Config::parse(&described.to_toml()), Ok(described));
    }

    #[test]
    fn errors_name_the_field() {
        let err = Config::parse("format = 1\nhash = \"md5\"\n").expect_err("bad hash");
        assert!(err.contains("md5") && err.contains("line 2"), "{err}");
        let err = Config::parse("format = 1\nhash = \"blake3\"\nbase = 1\n").expect_err("unknown");
        assert!(err.contains("base"), "{err}");
        let err = Config::parse("format = 9\nhash = \"blake3\"\n").expect_err("future");
        assert!(err.contains("format = 9"), "{err}");
        let err = Config::parse("format = 1\nhash = \"blake3\"\n[catalogue]\nlicense = \"a b\"\n")
            .expect_err("license");
        assert!(
            err.contains("catalogue.license") && err.contains("SPDX"),
            "{err}"
        );
        let err = Config::parse("format = 1\nhash = \"blake3\"\n[catalogue]\nname = \"x\"\n")
            .expect_err("unknown catalogue field");
        assert!(err.contains("name"), "{err}");
        let err = Config::parse("format = 1\nhash = \"blake3\"\nbase_url = \"ftp://x\"\n")
            .expect_err("scheme");
        assert!(err.contains("http"), "{err}");
        let err = Config::parse("format = 1\nhash = \"blake3\"\nextra_digests = [\"sha1\"]\n")
            .expect_err("sha1");
        assert!(err.contains("sha1") && err.contains("md5"), "{err}");
        let err = Config::parse("format = 1\nhash = \"sha256\"\nextra_digests = [\"sha256\"]\n")
            .expect_err("same as the hash");
        assert!(err.contains("extra_digests"), "{err}");
    }
}
