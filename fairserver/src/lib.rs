//! `fairserver`: the HTTP server of `fair`. The machine API of Seamless's
//! `fairserver.py` (same routes, status codes and bodies, minus its documented
//! defects) over an immutable in-memory view of the catalogue that is replaced
//! whole when the directory changes, with `/machine/access` answered from an
//! embedded database.
//!
//! `startup` builds the application (`create_app`) and serves it; `state` holds
//! the `Server` every worker shares; the handlers are grouped by family:
//! `machine` (the Seamless API and its extensions), `content` (buffers and
//! files), `metadata` (FAIR metadata and landing pages), `ops` (health, metrics
//! and the answers to what no route takes); `middleware` wraps them all.

mod access;
mod checked;
mod content;
mod cors;
mod error;
mod loaded;
mod machine;
mod metadata;
mod metrics;
mod middleware;
mod ops;
mod startup;
mod state;
mod streaming;

pub use access::AccessDb;
pub use error::ApiError;
pub use loaded::Loaded;
pub use startup::{Options, create_app, serve};
pub use state::Server;
