//! `fair verify`: every content-addressed file hashes to its name, and every
//! distribution record agrees with the files it points to. Reads only; takes no
//! lock, so it can run beside a writer (whose files appear atomically).

use std::collections::{BTreeMap, HashMap};
use std::fs::{self, File};
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::Serialize;

use crate::layout::ContentDir;
use crate::stream::EntryStream;
use crate::{Catalogue, Checksum, CollectionKind, Distribution, HashAlgo, Result, keyorder};

/// One thing wrong, with the file or record it is about.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Problem {
    /// The file, or `distributions/<dataset>.json record N`.
    pub subject: String,
    /// What is wrong.
    pub problem: String,
}

/// What `verify` checked and found.
#[derive(Debug, Default, Serialize)]
pub struct Verification {
    /// Content-addressed files hashed.
    pub files: u64,
    /// Their total size.
    pub bytes: u64,
    /// Distribution records checked.
    pub records: u64,
    /// Records whose content size could not be checked: some element buffer is
    /// not in `buffers/` (elements that were never interned).
    pub content_size_unchecked: u64,
    /// Every problem, sorted.
    pub problems: Vec<Problem>,
}

/// Verifies the catalogue; hashes `buffers/` too when `buffers` is set (it can be
/// large). `progress` is called with the size of each file hashed.
pub fn verify(
    catalogue: &Catalogue,
    buffers: bool,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Verification> {
    let mut report = Verification::default();
    for dir in ContentDir::ALL {
        if dir == ContentDir::Buffers && !buffers {
            continue;
        }
        hash_dir(catalogue, dir, &mut report, progress);
    }
    let mut collections = Collections::new(catalogue);
    let view = crate::View::load(catalogue);
    for (dataset, found) in &view.datasets {
        let file = format!("distributions/{dataset}.json");
        check_records(&file, &found.records, &mut collections, &mut report);
    }
    report
        .problems
        .extend(view.problems.iter().map(|problem| Problem {
            subject: catalogue.root().display().to_string(),
            problem: problem.clone(),
        }));
    check_store(catalogue, &view, &mut report)?;
    report.problems.sort();
    Ok(report)
}

/// Checks that the derived store, if the catalogue has one, holds the lookups of
/// every record (a catalogue changed by another tool lacks them until a reader
/// or `fair reindex` catches up).
fn check_store(catalogue: &Catalogue, view: &crate::View, report: &mut Verification) -> Result<()> {
    let subject = catalogue.layout().store().display().to_string();
    let opened = crate::StoreReader::open(catalogue.layout())
        .and_then(|store| store.map(|s| s.missing(&view.needs())).transpose());
    let missing = match opened {
        Ok(Some(missing)) => missing,
        // None, or one a killed writer left for the next one to repair (as
        // redb does after any crash): derived state, nothing wrong yet.
        Ok(None) => return Ok(()),
        Err(crate::Error::Database { message, .. }) => {
            report.problems.push(Problem {
                subject,
                problem: format!(
                    "cannot be read ({message}): `fair reindex` sets it aside and rebuilds it"
                ),
            });
            return Ok(());
        }
        Err(e) => return Err(e),
    };
    let lacks = missing
        .access_indexes
        .iter()
        .map(|c| format!("the lookups of access index {c}"))
        .chain(
            missing
                .collections
                .iter()
                .map(|c| format!("the reverse index of {c}")),
        );
    for what in lacks {
        report.problems.push(Problem {
            subject: subject.clone(),
            problem: format!("lacks {what}: run `fair reindex`"),
        });
    }
    Ok(())
}

/// Hashes every file of `dir` in parallel against its name.
fn hash_dir(
    catalogue: &Catalogue,
    dir: ContentDir,
    report: &mut Verification,
    progress: &(dyn Fn(u64) + Sync),
) {
    let path = catalogue.layout().content_dir(dir);
    let entries = match fs::read_dir(&path) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return,
        Err(e) => {
            report.problems.push(problem(&path, e.to_string()));
            return;
        }
    };
    let files: Vec<_> = entries
        .filter_map(|e| e.ok())
        // Hidden entries are staging areas of writers (`.fair-tmp`).
        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .map(|e| e.path())
        .collect();
    let algo = catalogue.hash();
    let results: Vec<(u64, Option<Problem>)> = files
        .par_iter()
        .map(|file| {
            let name = file
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            let Ok(expected) = name
                .parse::<Checksum>()
                .map_err(drop)
                .and_then(|c| if c.to_hex() == name { Ok(c) } else { Err(()) })
            else {
                return (
                    0,
                    Some(problem(file, "not named by a lower-case checksum".into())),
                );
            };
            match hash_file(file, algo) {
                Ok((size, actual)) => {
                    progress(size);
                    let wrong = (actual != expected)
                        .then(|| problem(file, format!("content hashes to {actual} ({algo})")));
                    (size, wrong)
                }
                Err(e) => (0, Some(problem(file, e.to_string()))),
            }
        })
        .collect();
    for (size, wrong) in results {
        report.files += 1;
        report.bytes += size;
        report.problems.extend(wrong);
    }
}

fn hash_file(path: &Path, algo: HashAlgo) -> io::Result<(u64, Checksum)> {
    let mut file = File::open(path)?;
    if !file.metadata()?.is_file() {
        return Err(io::Error::other("not a regular file"));
    }
    let mut hasher = algo.hasher();
    let mut buffer = vec![0; 1 << 20];
    let mut size = 0;
    loop {
        let n = file.read(&mut buffer)?;
        if n == 0 {
            return Ok((size, hasher.finalize()));
        }
        hasher.update(&buffer[..n]);
        size += n as u64;
    }
}

fn problem(path: &Path, problem: String) -> Problem {
    Problem {
        subject: path.display().to_string(),
        problem,
    }
}

/// Collections by checksum: snapshotted ones in `buffers/`, current ones in
/// `deepfolders/` and `deepcells/` (hashed once, when first needed, and then
/// found by path: nothing is held in memory but their names).
struct Collections<'a> {
    catalogue: &'a Catalogue,
    current: Option<HashMap<Checksum, PathBuf>>,
}

impl<'a> Collections<'a> {
    fn new(catalogue: &'a Catalogue) -> Self {
        Collections {
            catalogue,
            current: None,
        }
    }

    /// The file holding the collection `checksum`.
    fn path(&mut self, checksum: &Checksum) -> Option<PathBuf> {
        let path = self
            .catalogue
            .layout()
            .content(ContentDir::Buffers, checksum);
        if path.is_file() {
            return Some(path);
        }
        let catalogue = self.catalogue;
        let current = self.current.get_or_insert_with(|| {
            let mut found = HashMap::new();
            for kind in [CollectionKind::Deepfolder, CollectionKind::Deepcell] {
                let Ok(entries) = fs::read_dir(catalogue.layout().dir(kind.dir())) else {
                    continue;
                };
                for path in entries.filter_map(|e| Some(e.ok()?.path())) {
                    if let Ok((_, checksum)) = hash_file(&path, catalogue.hash()) {
                        found.insert(checksum, path);
                    }
                }
            }
            found
        });
        current.get(checksum).cloned()
    }
}

/// A fingerprint of a multiset of keys: their number and the wrapping sum of
/// their 128-bit BLAKE3 hashes under a key drawn for this run. Two lists of keys
/// get the same fingerprint when they hold the same keys as often (a collision
/// has probability about 2^-128, and as the key is secret no file can be made to
/// collide); so a keyorder is checked against its collection in constant memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct KeySet {
    count: u64,
    sum: u128,
}

impl KeySet {
    fn new() -> Self {
        KeySet { count: 0, sum: 0 }
    }

    fn add(&mut self, secret: &[u8; 32], key: &str) {
        let hash = blake3::keyed_hash(secret, key.as_bytes());
        let mut low = [0; 16];
        low.copy_from_slice(&hash.as_bytes()[..16]);
        self.sum = self.sum.wrapping_add(u128::from_le_bytes(low));
        self.count += 1;
    }
}

/// 32 random bytes for [`KeySet`] hashes, from the kernel (or, failing that,
/// from the process's randomly seeded hasher state and the clock).
fn secret() -> [u8; 32] {
    let mut secret = [0; 32];
    if File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut secret))
        .is_err()
    {
        use std::hash::{BuildHasher, Hasher};
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or_default(),
        );
        secret = *blake3::hash(&h.finish().to_le_bytes()).as_bytes();
    }
    secret
}

/// Checks the records of one dataset.
fn check_records(
    file: &str,
    records: &[Distribution],
    collections: &mut Collections<'_>,
    report: &mut Verification,
) {
    let mut latest: BTreeMap<String, usize> = BTreeMap::new();
    for (i, record) in records.iter().enumerate() {
        report.records += 1;
        let mut found = Vec::new();
        if record.latest {
            let group = format!("{:?}", (record.kind, &record.format, &record.compression));
            if let Some(first) = latest.insert(group, i) {
                found.push(format!("latest, as is record {} of its group", first + 1));
            }
        }
        if let Some(j) = records[..i].iter().position(|r| r.same_release(record)) {
            found.push(format!("the same release as record {}", j + 1));
        }
        if !check_files(record, collections, &mut found) {
            report.content_size_unchecked += 1;
        }
        let subject = format!("{file} record {} ({})", i + 1, record.describe());
        report
            .problems
            .extend(found.into_iter().map(|problem| Problem {
                subject: subject.clone(),
                problem,
            }));
    }
}

/// Checks the files `record` points to against it, adding what is wrong to
/// `found`. Returns whether its content size could be checked. Every file is
/// read as a stream: memory does not grow with the collection.
fn check_files(
    record: &Distribution,
    collections: &mut Collections<'_>,
    found: &mut Vec<String>,
) -> bool {
    let catalogue = collections.catalogue;
    if let Some(index) = &record.access_index {
        let path = catalogue.layout().content(ContentDir::AccessIndex, index);
        let checked = File::open(&path)
            .map_err(|e| e.to_string())
            .and_then(|f| crate::access::check_index(f).map_err(|e| e.to_string()));
        if let Err(e) = checked {
            found.push(format!("access index {index}: {e}"));
        }
    }
    let Some(path) = collections.path(&record.checksum) else {
        found.push(format!(
            "collection {} is neither in buffers/ nor a current collection",
            record.checksum
        ));
        return true;
    };
    let secret = secret();
    let mut keys = KeySet::new();
    // The sum of the element buffers' sizes, until one is not in buffers/.
    let mut content_size = Some(0u64);
    let read = EntryStream::open(&path).and_then(|stream| {
        for entry in stream {
            let (key, element) = entry?;
            keys.add(&secret, &key);
            if let Some(size) = content_size {
                let buffer = catalogue.layout().content(ContentDir::Buffers, &element);
                content_size = match fs::metadata(buffer) {
                    Ok(meta) if meta.is_file() => Some(size + meta.len()),
                    _ => None,
                };
            }
        }
        Ok(())
    });
    if let Err(e) = read {
        found.push(format!("collection {}: {e}", record.checksum));
        return true;
    }
    let index_size = fs::metadata(&path).map(|m| m.len()).unwrap_or_default();
    let counts = [
        ("nkeys", record.nkeys, keys.count),
        ("index_size", record.index_size, index_size),
    ];
    for (field, stored, actual) in counts {
        if stored != actual {
            found.push(format!("{field} is {stored}, the collection has {actual}"));
        }
    }
    let path = catalogue
        .layout()
        .content(ContentDir::Keyorder, &record.keyorder);
    let mut order = KeySet::new();
    let read = File::open(&path)
        .map_err(|e| e.to_string())
        .and_then(|f| keyorder::for_each(f, |k| order.add(&secret, k)).map_err(|e| e.to_string()));
    match read {
        Err(e) => found.push(format!("keyorder {}: {e}", record.keyorder)),
        Ok(_) if order != keys => found.push(format!(
            "keyorder {} does not hold exactly the collection's {} keys, each once (it has {} entries)",
            record.keyorder, keys.count, order.count
        )),
        Ok(_) => {}
    }
    // Elements never interned leave the content size unchecked.
    match content_size {
        Some(size) if size != record.content_size => {
            found.push(format!(
                "content_size is {}, the element buffers add up to {size}",
                record.content_size
            ));
            true
        }
        Some(_) => true,
        None => false,
    }
}
