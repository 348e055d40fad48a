//! The model and the catalogue of `fair`, a FAIR dataset catalogue compatible with
//! the Seamless FAIR tools, in three layers: the [`model`] (values and their
//! exact bytes), the [`store`] (the catalogue directory, its lock, its atomic
//! writes and the derived store) and the [`ops`] (the read side and what is done
//! with a catalogue). Every module is also reachable by its own name.
//!
//! - [`Checksum`] and [`HashAlgo`]: the digests that name everything;
//! - [`plain`]: the exact bytes every hashed JSON value is written as;
//! - [`Collection`]: key → element checksum, the unit that gets snapshotted;
//! - [`Catalogue`]: the catalogue directory ([`Layout`]: where each file is), its
//!   lock and its atomic writes; [`store`]: the derived store the writer keeps
//!   current; [`View`]: the read side, with the resolution of queries;
//! - [`Distribution`]: a snapshot record, added by [`snapshot`] with its
//!   [`keyorder`] and [`access`] index, found again by a [`Query`].
//!
//! ```
//! use std::collections::BTreeMap;
//! use faircore::{Collection, CollectionKind, HashAlgo};
//!
//! let algo = HashAlgo::Sha3_256;
//! let entries = BTreeMap::from([("9.txt".to_string(), algo.hash(b"nine\n"))]);
//! let collection = Collection::new(CollectionKind::Deepfolder, entries);
//! let encoded = collection.encode(algo);
//! assert!(encoded.bytes.ends_with(b"\"\n}\n"));
//! assert_eq!(encoded.checksum, algo.hash(&encoded.bytes));
//! ```

pub mod error;
pub mod model;
pub mod ops;
pub mod store;

// Each module by its own name too: `faircore::plain`, `faircore::snapshot`, …
pub use model::{
    access, checksum, collection, config, cson, digest, display, distribution, hash, header,
    keyorder, name, plain, release, shard, statcache, yaml,
};
pub use ops::{diff, lookup, manifest, resolve, snapshot, stream, verify, view};
pub use store::{catalogue, layout, lock, regular, spill, staging};

pub use access::UrlInfo;
pub use catalogue::{Catalogue, CollectionStream, ContentStream, Writer};
pub use checksum::{Checksum, ParseChecksumError};
pub use collection::{Collection, CollectionKind, Encoded};
pub use config::{CatalogueMeta, Config, DatasetSpec, ServerSettings};
pub use digest::{ExtraAlgo, ExtraDigests};
pub use distribution::Distribution;
pub use error::{Error, Result};
pub use hash::{HashAlgo, Hasher};
pub use layout::{ContentDir, Layout, ShardDir};
pub use name::{InvalidName, Name};
pub use release::Release;
pub use resolve::{Query, Unresolved};
pub use shard::Shard;
pub use store::{Store, StoreReader};
pub use view::View;

/// The one of `all` whose `name` is `text`, or a message naming `what` was asked
/// and every accepted name.
pub(crate) fn one_of<T: Copy>(
    what: &str,
    text: &str,
    all: &[T],
    name: impl Fn(T) -> &'static str,
) -> std::result::Result<T, String> {
    all.iter()
        .copied()
        .find(|t| name(*t) == text)
        .ok_or_else(|| {
            let names: Vec<&str> = all.iter().map(|t| name(*t)).collect();
            format!(
                "unknown {what} {text:?}: expected one of {}",
                names.join(", ")
            )
        })
}
