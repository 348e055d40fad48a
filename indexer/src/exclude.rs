//! `--exclude`: gitignore-style patterns over the keys of a source tree.
//!
//! The patterns are those of a `.gitignore` file (via the `ignore` crate), matched
//! against keys relative to the source root: `*.part` matches at any depth, `.git/`
//! only directories, `/tmp` only at the root, `a/**/b` any depth between, and
//! `!pattern` takes an earlier exclusion back (not below an excluded directory,
//! which is never entered). The walk asks [`Exclude::excluded`] for every entry
//! it lists; an excluded entry is neither hashed nor reported.

use ignore::gitignore::{Gitignore, GitignoreBuilder};

/// A pattern that cannot be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("exclude pattern {pattern:?}: {reason}")]
pub struct BadPattern {
    /// The pattern as given.
    pub pattern: String,
    /// What is wrong with it.
    pub reason: String,
}

/// The compiled exclusion patterns (none by default: nothing is excluded).
#[derive(Clone, Debug)]
pub struct Exclude {
    matcher: Gitignore,
    /// The patterns as given.
    patterns: Vec<String>,
}

impl Default for Exclude {
    fn default() -> Self {
        Exclude {
            matcher: Gitignore::empty(),
            patterns: Vec::new(),
        }
    }
}

impl Exclude {
    /// Compiles `patterns`, in order (a later `!pattern` overrides an earlier one).
    /// Errors name the first pattern that is not a valid glob (an unclosed `{`, a
    /// reversed range `[z-a]`, a dangling `\\`), or is blank or a comment.
    pub fn new<S: AsRef<str>>(patterns: &[S]) -> Result<Self, BadPattern> {
        let mut builder = GitignoreBuilder::new("");
        for pattern in patterns {
            let pattern = pattern.as_ref();
            let bad = |reason: String| BadPattern {
                pattern: pattern.to_owned(),
                reason,
            };
            if pattern.trim().is_empty() || pattern.starts_with('#') {
                return Err(bad("expected a pattern, not a blank or a comment".into()));
            }
            builder
                .add_line(None, pattern)
                .map_err(|e| bad(glob_reason(&e)))?;
        }
        let matcher = builder.build().map_err(|e| BadPattern {
            pattern: patterns
                .iter()
                .map(AsRef::as_ref)
                .collect::<Vec<_>>()
                .join(" "),
            reason: e.to_string(),
        })?;
        let patterns = patterns.iter().map(|p| p.as_ref().to_owned()).collect();
        Ok(Exclude { matcher, patterns })
    }

    /// The patterns as given, in order.
    pub fn patterns(&self) -> &[String] {
        &self.patterns
    }

    /// Whether no pattern was given.
    pub fn is_empty(&self) -> bool {
        self.matcher.is_empty()
    }

    /// Whether the entry `key` (relative to the source root, `/`-separated) is
    /// excluded, itself or through a directory above it; `is_dir` says whether it
    /// is a directory (for patterns ending in `/`).
    pub fn excluded(&self, key: &str, is_dir: bool) -> bool {
        !self.is_empty()
            && self
                .matcher
                .matched_path_or_any_parents(key, is_dir)
                .is_ignore()
    }
}

/// The message of a glob error, without the `ignore` crate's wrapping.
fn glob_reason(error: &ignore::Error) -> String {
    match error {
        ignore::Error::Glob { err, .. } => err.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exclude(patterns: &[&str]) -> Exclude {
        Exclude::new(patterns).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn gitignore_semantics() {
        let e = exclude(&[".git/", "*.part", "/tmp", "logs/**/*.log", "!keep.part"]);
        assert!(e.excluded(".git", true));
        assert!(e.excluded("sub/.git", true));
        assert!(
            e.excluded(".git/config", false),
            "below an excluded directory"
        );
        assert!(
            !e.excluded(".git", false),
            "a file named .git is no directory"
        );
        assert!(e.excluded("a/b/c.part", false));
        assert!(
            !e.excluded("a/b/keep.part", false),
            "taken back by !keep.part"
        );
        assert!(!e.excluded("a/b/c.partial", false));
        assert!(e.excluded("tmp", false));
        assert!(!e.excluded("a/tmp", false), "anchored at the root");
        assert!(e.excluded("logs/x.log", false));
        assert!(e.excluded("logs/2025/01/x.log", false));
        assert!(!e.excluded("other/x.log", false));
        assert!(!Exclude::default().excluded(".git", true));
        assert!(Exclude::default().is_empty());
    }

    #[test]
    fn bad_patterns_are_named() {
        let err = Exclude::new(&["ok", "a{b"]).expect_err("unclosed group");
        assert_eq!(err.pattern, "a{b");
        assert!(err.to_string().contains("\"a{b\""), "{err}");
        assert!(err.reason.contains("unclosed"), "{err}");
        let err = Exclude::new(&["[z-a]"]).expect_err("range");
        assert!(err.reason.contains("range"), "{err}");
        let err = Exclude::new(&[" "]).expect_err("blank");
        assert!(err.reason.contains("expected a pattern"), "{err}");
        let err = Exclude::new(&["#x"]).expect_err("comment");
        assert!(err.reason.contains("comment"), "{err}");
    }
}
