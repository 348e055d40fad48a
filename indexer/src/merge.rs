//! `fair merge`: the N shard outputs of a collection ([`crate::ShardRun`]) joined
//! into `deepfolders/NAME.json` by a streaming k-way merge of their sorted
//! entries: the bytes of one `fair index` of the whole tree, in memory bounded by
//! N read buffers, published atomically under the catalogue's lock.
//!
//! Every shard is checked before anything is published, and refused with its
//! name: **missing** (no record: never run, or its last run failed or was
//! interrupted), **being indexed** (its lock is held), **foreign** (a record of
//! another collection, shard count, catalogue or algorithm than this catalogue's,
//! or of another source or `--exclude` than most shards'), **stale** (of an earlier round, see below), or
//! **damaged** (its output does not hash to its record's checksum, or a key is
//! in two shards).
//!
//! A round is the set of shard runs between two merges: a merge records the
//! newest walk start of the shards it published (`Layout::shard_round`). When a
//! shard has been run again since (its walk started after that instant), every
//! shard whose walk started at or before it belongs to the previous round and is
//! stale: merging it would publish its files as they were then.
//! (When no shard was run again, merging again publishes the same collection.)

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs;
use std::io::{self, BufReader};
use std::path::Path;
use std::time::Instant;

use faircore::collection::EncodeStream;
use faircore::lock::WriteLock;
use faircore::shard::{self, Record, Round};
use faircore::stream::EntryStream;
use faircore::{Catalogue, Checksum, CollectionKind, Name, Shard, ShardDir, Writer};

use crate::cache::Pending;
use crate::{Error, Report};

/// One shard being merged: its record, its output read in key order, and the
/// re-encoding that checks the output against the record.
struct Input {
    shard: Shard,
    dir: ShardDir,
    record: Record,
    /// Held for the whole merge: the shard is not run again meanwhile.
    lock: WriteLock,
    entries: EntryStream<BufReader<fs::File>>,
    check: Option<EncodeStream<io::Sink>>,
    checksum: Option<Checksum>,
}

/// Merges the `count` shards of `collection` into its deepfolder in the
/// catalogue held by `writer`, or refuses (see the module) with nothing
/// published. The report has the shards' summed counts.
pub fn merge(writer: &Writer<'_>, collection: &Name, count: u32) -> Result<Report, Error> {
    let started = Instant::now();
    let catalogue = writer.catalogue();
    if count == 0 {
        return Err(Error::Shard("--shards 0: expected 1 or more".into()));
    }
    let mut inputs = Vec::with_capacity(count as usize);
    for index in 0..count {
        let shard = Shard { index, count };
        inputs.push(open(writer, collection, shard)?);
    }
    check_origin(catalogue, collection, &inputs)?;
    let newest = inputs
        .iter()
        .max_by_key(|i| i.record.walk_started_ns)
        .map(|i| (i.shard, i.record.clone()));
    let Some((newest_shard, newest)) = newest else {
        return Err(Error::Shard("no shard to merge".into()));
    };
    check_agreement(collection, &inputs, &newest)?;
    let round_path = catalogue.layout().shard_round(collection);
    check_round(&round_path, collection, &inputs, newest_shard, &newest)?;

    let db = writer.store()?;
    if let Some(last) = db.last_walk(collection.as_str())?
        && last > newest.walk_started_ns
    {
        return Err(Error::Shard(format!(
            "{collection}: stale: deepfolders/{collection}.json was written from a walk that started at {}, after every shard's (the newest, shard {newest_shard}, at {}): merging would publish an older state of the tree; run the shards again; nothing published",
            shard::instant(last),
            newest.walk_started()
        )));
    }
    let mut out = writer.collection_stream(CollectionKind::Deepfolder, collection)?;
    let mut heap = BinaryHeap::with_capacity(inputs.len());
    for (i, input) in inputs.iter_mut().enumerate() {
        if let Some(key) = input.next(collection)? {
            heap.push(Reverse((key, i)));
        }
    }
    let mut last: Option<(String, usize)> = None;
    while let Some(Reverse((key, i))) = heap.pop() {
        if let Some((previous, j)) = &last
            && *previous == key
        {
            return Err(refusal(
                collection,
                &inputs[i],
                format!(
                    "damaged: the key {key:?} is in shard {} too (a file belongs to one shard); run both again",
                    inputs[*j].shard
                ),
            ));
        }
        let input = &mut inputs[i];
        if let Some(checksum) = &input.checksum {
            out.push(&key, checksum)?;
        }
        if let Some(next) = input.next(collection)? {
            heap.push(Reverse((next, i)));
        }
        last = Some((key, i));
    }
    let (files, bytes) = inputs
        .iter()
        .fold((0, 0), |(f, b), i| (f + i.record.files, b + i.record.bytes));
    if !catalogue.config().extra_digests.is_empty() {
        for input in &inputs {
            let store = catalogue.shard_store(&input.dir, &input.lock)?;
            db.add_extra_digests_of(&store)?;
        }
    }
    let (checksum, _, written) = out.finish()?;
    db.record_content_sizes(&[(checksum, bytes)])?;
    db.record_source(collection.as_str(), Path::new(&newest.source))?;
    db.record_walk(collection.as_str(), newest.walk_started_ns)?;
    Pending::default().flush(&db, collection.as_str(), Some((files, bytes)))?;
    let round = Round {
        shards: count,
        newest_walk_ns: newest.walk_started_ns,
    };
    let json = serde_json::to_vec(&round).map_err(|e| faircore::Error::Json {
        path: round_path.clone(),
        source: e,
    })?;
    writer.publish(&round_path, &json)?;
    tracing::info!(%collection, %checksum, written, shards = count, "deepfolder merged");
    let mut report = Report {
        files,
        bytes,
        ..Report::default()
    };
    for input in &inputs {
        report.hashed += input.record.hashed;
        report.reused += input.record.reused;
    }
    report.collections.insert(collection.to_string(), checksum);
    report.elapsed_s = started.elapsed().as_secs_f64();
    Ok(report)
}

/// Refuses a shard whose record is of another collection or shard, another
/// algorithm or another catalogue.
fn check_origin(catalogue: &Catalogue, collection: &Name, inputs: &[Input]) -> Result<(), Error> {
    let root =
        fs::canonicalize(catalogue.root()).map_err(|e| faircore::Error::io(catalogue.root(), e))?;
    let root = root.to_string_lossy();
    for input in inputs {
        let record = &input.record;
        let why = if record.collection != collection.as_str() || record.shard != input.shard {
            format!(
                "its record is of shard {} of {}",
                record.shard, record.collection
            )
        } else if record.hash != catalogue.hash() {
            format!(
                "hashed with {}, the catalogue's algorithm is {}",
                record.hash,
                catalogue.hash()
            )
        } else if record.catalogue != root {
            format!("written for the catalogue {}, not {root}", record.catalogue)
        } else {
            continue;
        };
        return Err(refusal(collection, input, format!("foreign: {why}")));
    }
    Ok(())
}

/// Refuses a shard that indexed another source or `--exclude` than most shards
/// (than the newest run on a tie).
fn check_agreement(collection: &Name, inputs: &[Input], newest: &Record) -> Result<(), Error> {
    let indexed = |r: &Record| (r.source.clone(), r.exclude.clone());
    let agreeing = |r: &Record| {
        inputs
            .iter()
            .filter(|i| indexed(&i.record) == indexed(r))
            .count()
    };
    let most = inputs
        .iter()
        .max_by_key(|i| (agreeing(&i.record), indexed(&i.record) == indexed(newest)));
    let odd = most.and_then(|most| {
        let odd = inputs
            .iter()
            .find(|i| indexed(&i.record) != indexed(&most.record))?;
        Some((most, odd))
    });
    match odd {
        None => Ok(()),
        Some((most, odd)) => Err(refusal(
            collection,
            odd,
            format!(
                "foreign: indexed from source {} with --exclude {:?}, unlike shard {} (source {}, --exclude {:?})",
                odd.record.source,
                odd.record.exclude,
                most.shard,
                most.record.source,
                most.record.exclude
            ),
        )),
    }
}

/// Refuses a shard of the round the last merge published (at `round_path`)
/// when `newest` (shard `newest_shard`) is of a later one.
fn check_round(
    round_path: &Path,
    collection: &Name,
    inputs: &[Input],
    newest_shard: Shard,
    newest: &Record,
) -> Result<(), Error> {
    let round: Round = match faircore::regular::read(round_path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| faircore::Error::Json {
            path: round_path.to_owned(),
            source: e,
        })?,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(faircore::Error::io(round_path, e).into()),
    };
    if newest.walk_started_ns <= round.newest_walk_ns {
        return Ok(());
    }
    match inputs
        .iter()
        .find(|i| i.record.walk_started_ns <= round.newest_walk_ns)
    {
        None => Ok(()),
        Some(old) => Err(refusal(
            collection,
            old,
            format!(
                "stale: its walk started at {}, in the round the last merge published (walks up to {}), and shard {newest_shard} was indexed again since (at {}); run shard {} again",
                old.record.walk_started(),
                shard::instant(round.newest_walk_ns),
                newest.walk_started(),
                old.shard
            ),
        )),
    }
}

/// Opens shard `shard` of `collection`: takes its lock, reads its record and
/// opens its output.
fn open(writer: &Writer<'_>, collection: &Name, shard: Shard) -> Result<Input, Error> {
    let dir = writer.catalogue().layout().shard_dir(collection, shard);
    let name = || {
        format!(
            "shard {shard} of {collection} ({})",
            faircore::display::path(dir.path())
        )
    };
    let missing = || {
        Error::Shard(format!(
            "{}: missing: no complete run (never run, or its last run failed or was interrupted); run `fair index CATALOGUE --source SRC --collection {collection} --shard {shard}` first; nothing published",
            name()
        ))
    };
    if !dir.path().is_dir() {
        return Err(missing());
    }
    let lock = match WriteLock::acquire(&dir.lock()) {
        Ok(lock) => lock,
        Err(faircore::Error::Locked { holder, .. }) => {
            return Err(Error::Shard(format!(
                "{}: being indexed now ({holder}); merge when it is done; nothing published",
                name()
            )));
        }
        Err(e) => return Err(e.into()),
    };
    let record_path = dir.record();
    let record: Record = match faircore::regular::read(&record_path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map_err(|e| Error::Shard(format!("{}: shard.json: {e}", name())))?,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(missing()),
        Err(e) => return Err(faircore::Error::io(&record_path, e).into()),
    };
    let entries = EntryStream::open(&dir.output()).map_err(|e| {
        Error::Shard(format!(
            "{}: damaged: {e}; run it again; nothing published",
            name()
        ))
    })?;
    let algo = writer.catalogue().hash();
    Ok(Input {
        shard,
        dir,
        record,
        lock,
        entries,
        check: Some(EncodeStream::new(io::sink(), algo)),
        checksum: None,
    })
}

impl Input {
    /// Moves to the next entry of the output and returns its key; at the end,
    /// checks the output against the record and returns `None`.
    fn next(&mut self, collection: &Name) -> Result<Option<String>, Error> {
        let damaged = |input: &Input, e: faircore::Error| {
            refusal(collection, input, format!("damaged: {e}; run it again"))
        };
        if self.entries.advance().map_err(|e| damaged(self, e))? {
            let key = self.entries.key().map_err(|e| damaged(self, e))?;
            let checksum = self.entries.checksum().map_err(|e| damaged(self, e))?;
            if let Some(check) = &mut self.check {
                check
                    .push(&key, &checksum)
                    .map_err(|e| faircore::Error::io(self.dir.output(), e))?;
            }
            self.checksum = Some(checksum);
            return Ok(Some(key));
        }
        self.checksum = None;
        if let Some(check) = self.check.take() {
            let (_, checksum, nkeys) = check
                .finish()
                .map_err(|e| faircore::Error::io(self.dir.output(), e))?;
            if checksum != self.record.checksum || nkeys != self.record.files {
                return Err(refusal(
                    collection,
                    self,
                    format!(
                        "damaged: collection.json ({nkeys} keys, {checksum}) is not what shard.json records ({} keys, {}); run it again",
                        self.record.files, self.record.checksum
                    ),
                ));
            }
        }
        Ok(None)
    }
}

/// The refusal of `input`'s shard, saying `why`.
fn refusal(collection: &Name, input: &Input, why: String) -> Error {
    Error::Shard(format!(
        "shard {} of {collection} ({}): {why}; nothing published",
        input.shard,
        faircore::display::path(input.dir.path())
    ))
}
