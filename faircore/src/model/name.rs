//! Names of datasets and collections: `[A-Za-z0-9][A-Za-z0-9._-]{0,127}`, so that
//! a name is always one safe file name inside the catalogue.

use std::fmt;

/// A validated dataset or collection name (in TOML and JSON: a string, checked
/// when read).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Name(String);

/// The text is not a valid name; the message says what is expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid name {0:?}: expected 1 to 128 characters from A-Z a-z 0-9 . _ -, starting with a letter or digit"
)]
pub struct InvalidName(pub String);

impl Name {
    /// Validates `text` as a name.
    pub fn new(text: &str) -> Result<Self, InvalidName> {
        let bytes = text.as_bytes();
        let valid = (1..=128).contains(&bytes.len())
            && bytes[0].is_ascii_alphanumeric()
            && bytes
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        if valid {
            Ok(Name(text.to_owned()))
        } else {
            Err(InvalidName(text.to_owned()))
        }
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::str::FromStr for Name {
    type Err = InvalidName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Name::new(s)
    }
}

impl TryFrom<String> for Name {
    type Error = InvalidName;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        Name::new(&text)
    }
}

impl From<Name> for String {
    fn from(name: Name) -> Self {
        name.0
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_names() {
        for ok in ["pdb", "PDB-mmcif_2025.11", "0", &"a".repeat(128)] {
            assert_eq!(Name::new(ok).expect(ok).as_str(), ok);
        }
    }

    #[test]
    fn refuses_anything_that_could_escape_or_hide() {
        for bad in [
            "",
            ".",
            "..",
            ".hidden",
            "-x",
            "_x",
            "a/b",
            "a\\b",
            "a b",
            "é",
            "a\0",
            &"a".repeat(129),
        ] {
            let err = Name::new(bad).expect_err(bad);
            assert!(err.to_string().contains("expected"), "{err}");
        }
    }
}
