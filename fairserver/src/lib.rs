//! `fairserver`: the HTTP server of `fair`. The machine API of Seamless's
//! `fairserver.py` (same routes, status codes and bodies, minus its documented
//! defects) over an immutable in-memory view of the catalogue
//! ([`faircore::View`]) that is replaced whole when the directory changes, with
//! `/machine/access` and `/machine/locate` answered from the catalogue's derived
//! store ([`faircore::StoreReader`]).
//!
//! [`ROUTES`] lists every route; `startup` builds the application from it
//! ([`create_app`]) and serves it; `state` holds the [`Server`] every worker
//! shares; the handlers are grouped by family:
//! `machine` (the Seamless API and its extensions), `content` (buffers and
//! files), `metadata` (FAIR metadata and landing pages), `ops` (health, metrics
//! and the answers to what no route takes); `middleware` wraps them all.
//!
//! ```
//! let diff = fairserver::ROUTES.iter().find(|route| route.pattern == "/machine/diff/{old}/{new}");
//! let diff = diff.expect("the diff route");
//! assert_eq!(diff.syntax, "GET /machine/diff/OLD/NEW");
//! assert_eq!(diff.target(|part| part.to_lowercase()), "/machine/diff/old/new");
//! ```

mod checked;
mod content;
mod cors;
mod error;
mod immutable;
mod machine;
mod metadata;
pub mod metrics;
mod middleware;
mod ops;
mod routes;
mod startup;
mod state;
mod streaming;

pub use error::ApiError;
pub use routes::{ROUTES, Route};
pub use startup::{Options, create_app, serve};
pub use state::Server;
