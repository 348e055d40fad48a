//! Seamless action files (`fairdir-build`): read, check, and run them.
//!
//! A run first indexes the source into the default collection (interning it if an
//! `intern_collection` action asks), then computes every action in order, and
//! publishes the outputs only at the end, when everything has succeeded: a bad
//! entry or a failed element leaves the catalogue as it was.

mod copy;
mod download;
mod operation;
mod pattern;
mod plan;
mod run;
mod spec;

pub use operation::Limits;
pub use plan::{Plan, check};
pub use run::run;
pub use spec::{ActionFile, read};

/// Reads and checks the action file at `path`.
pub fn load(path: &std::path::Path) -> Result<Plan, String> {
    let file = read(path)?;
    check(&file).map_err(|e| format!("{}: {e}", path.display()))
}
