//! Shard runs: `fair index --shard I/N` indexes the files of shard I
//! ([`faircore::shard`]: a fixed hash of each file's path) into a partial collection staged in the shard's
//! own directory (`Layout::shard_dir`), with its own lock and incremental cache,
//! so that the N shard runs of one catalogue run at once (on one machine or on
//! the nodes of a cluster sharing the catalogue's filesystem) without taking the
//! catalogue's writer lock. Nothing is published: `fair merge` ([`crate::merge`])
//! does that.
//!
//! Every shard run lists every directory of the tree (cheap: no stat), and
//! stats and hashes only its own files.

use std::fs;
use std::io::{self, Write};

use faircore::collection::EncodeStream;
use faircore::lock::WriteLock;
use faircore::shard::Record;
use faircore::staging::{Rewrite, Staging};
use faircore::{Catalogue, Name, Shard, ShardDir, Store};

use crate::index::{self, Options};
use crate::report::ShardOutput;
use crate::{Error, Report, cache};

/// One shard of a collection, opened for a run: its lock is held.
#[derive(Debug)]
pub struct ShardRun<'c> {
    catalogue: &'c Catalogue,
    collection: Name,
    shard: Shard,
    dir: ShardDir,
    lock: WriteLock,
    store: Store,
}

impl<'c> ShardRun<'c> {
    /// Takes the lock of shard `shard` of `collection` in `catalogue` (another
    /// run of the same shard is refused, naming its pid) and opens its cache.
    pub fn open(catalogue: &'c Catalogue, collection: &Name, shard: Shard) -> Result<Self, Error> {
        let dir = catalogue.layout().shard_dir(collection, shard);
        fs::create_dir_all(dir.path()).map_err(|e| faircore::Error::io(dir.path(), e))?;
        let lock = WriteLock::acquire(&dir.lock())?;
        let store = catalogue.shard_store(&dir, &lock)?;
        Ok(ShardRun {
            catalogue,
            collection: collection.clone(),
            shard,
            dir,
            lock,
            store,
        })
    }

    /// The files and bytes of this shard's last complete run, if any.
    pub fn last_totals(&self) -> Result<Option<(u64, u64)>, Error> {
        Ok(cache::last_totals(&self.store, self.collection.as_str())?)
    }

    /// Indexes the shard's files of `options.source` (`options.collection` and
    /// `options.shard` must be this run's; `--intern` is refused: the buffer
    /// directory's staging belongs to the catalogue's writer). The shard's
    /// `collection.json` and then its `shard.json` are replaced atomically at
    /// the end, unless a file failed (see [`Options::allow_errors`]); the old
    /// record is removed first, so that an interrupted or failed run leaves the
    /// shard missing, never an old output passing for a new one.
    pub fn index(
        &self,
        options: &Options,
        progress: &(dyn Fn(u64) + Sync),
    ) -> Result<Report, Error> {
        if options.intern != crate::InternMode::None {
            return Err(Error::Shard(
                "--intern with --shard: interning needs the catalogue's writer lock; intern with a plain `fair index` (or --actions) instead".into(),
            ));
        }
        let options = Options {
            collection: self.collection.clone(),
            shard: Some(self.shard),
            ..options.clone()
        };
        let record = self.dir.record();
        match fs::remove_file(&record) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(faircore::Error::io(&record, e).into()),
        }
        let staging = Staging::new(self.dir.staging(), &self.lock)?;
        let output = self.dir.output();
        let rewrite = Rewrite::new(&staging, &output)?;
        let mut stream = EncodeStream::new(
            io::BufWriter::with_capacity(1 << 16, rewrite),
            self.catalogue.hash(),
        );
        let walk_started_ns = index::now_ns();
        let mut report = index::run(
            self.catalogue,
            &self.lock,
            &self.store,
            &options,
            progress,
            &mut |key, checksum, _| {
                stream
                    .push(key, checksum)
                    .map_err(|e| faircore::Error::io(&output, e).into())
            },
        )?;
        if !report.errors.is_empty() && !options.allow_errors {
            return Ok(report);
        }
        let (out, checksum, _) = stream
            .finish()
            .and_then(|(out, checksum, n)| Ok((out.into_inner()?, checksum, n)))
            .map_err(|e| faircore::Error::io(&output, e))?;
        out.finish()?;
        let root = |path: &std::path::Path| {
            fs::canonicalize(path)
                .map(|p| p.to_string_lossy().into_owned())
                .map_err(|e| faircore::Error::io(path, e))
        };
        let written = Record {
            collection: self.collection.to_string(),
            shard: self.shard,
            source: root(&options.source)?,
            catalogue: root(self.catalogue.root())?,
            hash: self.catalogue.hash(),
            exclude: options.exclude.patterns().to_vec(),
            walk_started_ns,
            checksum,
            files: report.files,
            bytes: report.bytes,
            hashed: report.hashed,
            reused: report.reused,
            errors: report.errors.len() as u64,
        };
        let mut json = serde_json::to_vec_pretty(&written)
            .map_err(|e| faircore::Error::invalid(record.display(), e.to_string()))?;
        json.write_all(b"\n")
            .map_err(|e| faircore::Error::io(&record, e))?;
        staging.replace(&record, &json)?;
        report.shard = Some(ShardOutput {
            shard: self.shard,
            checksum,
            output: faircore::display::path(&output),
        });
        Ok(report)
    }
}
