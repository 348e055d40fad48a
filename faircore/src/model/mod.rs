//! The model: the values a catalogue is made of and their exact bytes.
//! Checksums and hash algorithms ([`checksum`], [`hash`], [`digest`]), the plain
//! encoding ([`plain`]), collections ([`collection`]), names ([`name`]), dataset
//! headers ([`header`], [`cson`]), distribution records and releases ([`distribution`],
//! [`release`]), keyorders ([`keyorder`]), download and access indexes
//! ([`access`]), the configuration ([`config`]) and the incremental cache's rows
//! ([`statcache`]), the shards of a source tree ([`shard`]). Nothing here touches the catalogue directory.

pub mod access;
pub mod checksum;
pub mod collection;
pub mod config;
pub mod cson;
pub mod digest;
pub mod display;
pub mod distribution;
pub mod hash;
pub mod header;
pub mod keyorder;
pub mod name;
pub mod plain;
pub mod release;
pub mod shard;
pub mod statcache;
pub mod yaml;
