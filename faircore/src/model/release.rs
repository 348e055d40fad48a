//! The fields that name a release: version, date, format and compression, as a
//! snapshot is asked for them. Each is checked so that a query can find it again:
//! `none` and `latest` mean something else in queries, dates are real calendar
//! dates, compressions are the ones clients know.

use crate::{Error, Result};

/// The compressions a distribution may declare.
pub const COMPRESSIONS: [&str; 5] = ["gzip", "bzip2", "zip", "xz", "zstd"];

/// The release fields of a new distribution, checked.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Release {
    /// `--version`.
    pub version: Option<String>,
    /// `--date`, `YYYY-MM-DD`.
    pub date: Option<String>,
    /// `--format`.
    pub format: Option<String>,
    /// `--compression`.
    pub compression: Option<String>,
}

impl Release {
    /// Checks each field; a version or a date is required.
    pub fn new(
        version: Option<String>,
        date: Option<String>,
        format: Option<String>,
        compression: Option<String>,
    ) -> Result<Self> {
        if version.is_none() && date.is_none() {
            return Err(Error::invalid(
                "--version/--date",
                "a distribution needs a version or a date (or both)",
            ));
        }
        if let Some(v) = &version {
            label("--version", v, &["latest", "none"])?;
        }
        if let Some(d) = &date {
            check_date(d)?;
        }
        if let Some(f) = &format {
            label("--format", f, &["none"])?;
        }
        if let Some(c) = &compression
            && !COMPRESSIONS.contains(&c.as_str())
        {
            return Err(Error::invalid(
                format!("--compression {c:?}"),
                format!("expected one of {}", COMPRESSIONS.join(", ")),
            ));
        }
        Ok(Release {
            version,
            date,
            format,
            compression,
        })
    }
}

/// A version or format: 1 to 64 of `A-Z a-z 0-9 . _ + -`, not a reserved word.
fn label(parameter: &str, value: &str, reserved: &[&str]) -> Result<()> {
    let fine = (1..=64).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'+' | b'-'));
    if !fine {
        return Err(Error::invalid(
            format!("{parameter} {value:?}"),
            "expected 1 to 64 characters from A-Z a-z 0-9 . _ + -",
        ));
    }
    if reserved.contains(&value) {
        return Err(Error::invalid(
            format!("{parameter} {value:?}"),
            format!(
                "{value:?} is reserved: queries use it to mean {}",
                if value == "none" {
                    "\"absent\""
                } else {
                    "\"the latest one\""
                }
            ),
        ));
    }
    Ok(())
}

/// A real calendar date written `YYYY-MM-DD`.
pub fn check_date(date: &str) -> Result<()> {
    let shaped = date.len() == 10
        && date.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    if !shaped {
        return Err(Error::invalid(
            format!("--date {date:?}"),
            "expected YYYY-MM-DD (or `today`)",
        ));
    }
    date.parse::<jiff::civil::Date>().map(drop).map_err(|e| {
        Error::invalid(
            format!("--date {date:?}"),
            format!("not a calendar date: {e}"),
        )
    })
}

/// Today's date in the local time zone, `YYYY-MM-DD`.
pub fn today() -> String {
    jiff::Zoned::now().date().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn release(version: Option<&str>, date: Option<&str>) -> Result<Release> {
        Release::new(version.map(Into::into), date.map(Into::into), None, None)
    }

    #[test]
    fn a_version_or_a_date_is_required() {
        let err = release(None, None).expect_err("neither");
        assert!(
            err.to_string().contains("needs a version or a date"),
            "{err}"
        );
        release(Some("1"), None).expect("version");
        release(None, Some("2024-02-29")).expect("leap day");
    }

    #[test]
    fn dates_must_exist() {
        for bad in [
            "2025-02-29",
            "2025-13-01",
            "2025-1-01",
            "20250101",
            "today",
            "2025-02-14 ",
        ] {
            let err = release(None, Some(bad)).expect_err(bad);
            assert!(err.to_string().contains("--date"), "{err}");
        }
        assert_eq!(today().len(), 10);
        check_date(&today()).expect("today is a date");
    }

    #[test]
    fn reserved_and_odd_labels_are_refused() {
        for bad in ["latest", "none", "", "a b", "ü", "1/2"] {
            let err = release(Some(bad), None).expect_err(bad);
            assert!(err.to_string().contains("--version"), "{err}");
        }
        let err = Release::new(None, Some("2025-01-01".into()), Some("none".into()), None)
            .expect_err("format none");
        assert!(err.to_string().contains("reserved"), "{err}");
        let err =
            Release::new(Some("1".into()), None, None, Some("bzip".into())).expect_err("bzip");
        assert!(
            err.to_string().contains("gzip, bzip2, zip, xz, zstd"),
            "{err}"
        );
    }
}
