//! Reverse lookup (`fair locate`, `/machine/locate`) over 10 versions of a
//! 100,000-key dataset, 1% of the keys changing from one version to the next:
//! building the index (against reading the 10 collections, same run), then the
//! latency of random lookups (p50, p99; target p99 under 5 ms) against a point
//! lookup in the catalogue's own redb database (same run), and the index's size
//! per million elements.
//!
//! Run: `cargo bench --bench locate` (`LOCATE_KEYS`, `LOCATE_VERSIONS`,
//! `LOCATE_CHANGED` (per mille), `LOCATE_LOOKUPS` change the sizes). Exit code 1
//! if the target is missed.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use faircore::store::locate;
use faircore::stream::EntryStream;
use faircore::{Catalogue, Checksum, Collection, CollectionKind, Config, ContentDir, HashAlgo};

fn env<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A small deterministic generator (xorshift).
struct Random(u64);

impl Random {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

/// The `q`-quantile of sorted `times`.
fn quantile(times: &[Duration], q: f64) -> Duration {
    times[((times.len() as f64 * q) as usize).min(times.len() - 1)]
}

fn main() {
    let keys: usize = env("LOCATE_KEYS", 100_000);
    let versions: usize = env("LOCATE_VERSIONS", 10);
    let changed: usize = env("LOCATE_CHANGED", 10);
    let lookups: usize = env("LOCATE_LOOKUPS", 20_000);
    let dir = tempfile::tempdir().expect("tempdir");
    let algo = HashAlgo::Blake3;
    let catalogue = Catalogue::init(dir.path(), Config::new(algo, None)).expect("init");
    std::fs::create_dir_all(dir.path().join("buffers")).expect("buffers");

    // Version v: key i holds the content (i, the last version that changed it).
    let mut random = Random(0x2545_f491_4f6c_dd1d);
    let mut revision = vec![0usize; keys];
    let mut collections = Vec::new();
    let mut elements = std::collections::HashSet::new();
    for v in 0..versions {
        if v > 0 {
            for _ in 0..keys * changed / 1000 {
                revision[random.below(keys)] = v;
            }
        }
        let entries: BTreeMap<String, Checksum> = (0..keys)
            .map(|i| {
                let element = algo.hash(format!("{i}/{}", revision[i]).as_bytes());
                elements.insert(element);
                (format!("{:02x}/{i:07}.cif", i % 256), element)
            })
            .collect();
        let encoded = Collection::new(CollectionKind::Deepfolder, entries).encode(algo);
        let path = catalogue
            .layout()
            .content(ContentDir::Buffers, &encoded.checksum);
        std::fs::write(path, &encoded.bytes).expect("collection");
        collections.push(encoded.checksum);
    }
    let elements: Vec<Checksum> = elements.into_iter().collect();
    println!(
        "{versions} versions of {keys} keys, {}‰ changed per version: {} distinct elements, {} (element, version) pairs",
        changed,
        elements.len(),
        keys * versions
    );

    // Reference for building: reading every collection as a stream of entries.
    let started = Instant::now();
    let mut read = 0usize;
    for c in &collections {
        let path = catalogue.layout().content(ContentDir::Buffers, c);
        read += EntryStream::open(&path).expect("open").count();
    }
    let reading = started.elapsed();
    assert_eq!(read, keys * versions);

    let writer = catalogue.writer().expect("lock");
    let mut store = writer.store().expect("store");
    let update = |collections: &[Checksum]| {
        let (added, problems) = locate::update(store.redb(), &catalogue, collections);
        assert!(problems.is_empty(), "{problems:?}");
        added
    };
    // The first version is added whole, each next one as its changes to the
    // one before.
    let started = Instant::now();
    let added = update(&collections[..1]);
    let first = started.elapsed();
    let added = added + update(&collections);
    let building = started.elapsed();
    assert_eq!(added, versions);
    let next = (building - first) / (versions as u32 - 1).max(1);
    let again = Instant::now();
    update(&collections);
    let up_to_date = again.elapsed();
    let (rows, sets, indexed) = locate::counts(store.redb()).expect("counts");
    assert_eq!(
        (rows as usize, indexed as usize),
        (elements.len(), versions)
    );
    let file = catalogue.layout().store();
    let written = std::fs::metadata(&file).expect("store file").len();
    // Each added version rewrote the rows of its elements: the file keeps the
    // freed pages until it is compacted.
    store.compact().expect("compact");
    let size = std::fs::metadata(&file).expect("store file").len();

    // Reference for lookups: a point lookup in another table of the store.
    let records: Vec<(Checksum, u64)> = collections.iter().map(|c| (*c, 1)).collect();
    store.record_content_sizes(&records).expect("sizes");
    let mut reference = Vec::with_capacity(lookups);
    let mut located = Vec::with_capacity(lookups);
    let mut places = 0usize;
    for _ in 0..lookups {
        let element = &elements[random.below(elements.len())];
        let collection = &collections[random.below(collections.len())];
        let started = Instant::now();
        let size = store.content_size(collection).expect("get");
        reference.push(started.elapsed());
        assert_eq!(size, Some(1));
        let started = Instant::now();
        let found = locate::lookup(store.redb(), element).expect("lookup");
        located.push(started.elapsed());
        assert!(!found.is_empty());
        places += found.len();
    }
    reference.sort();
    located.sort();
    let (p50, p99, max) = (
        quantile(&located, 0.5),
        quantile(&located, 0.99),
        quantile(&located, 1.0),
    );
    let (r50, r99) = (quantile(&reference, 0.5), quantile(&reference, 0.99));
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "build: {:.3} s for {versions} collections ({:.2}× reading them, {:.3} s): the first {:.3} s ({:.2}× reading one), each next {:.3} s ({:.2}× reading one); up to date again: {:.3} ms",
        building.as_secs_f64(),
        building.as_secs_f64() / reading.as_secs_f64(),
        reading.as_secs_f64(),
        first.as_secs_f64(),
        first.as_secs_f64() * versions as f64 / reading.as_secs_f64(),
        next.as_secs_f64(),
        next.as_secs_f64() * versions as f64 / reading.as_secs_f64(),
        ms(up_to_date)
    );
    println!(
        "index: {:.1} MB as written, {:.1} MB compacted, {rows} element rows, {sets} distinct sets of versions: {:.1} MB per million elements ({:.1} MB per million (element, version) pairs)",
        written as f64 / 1e6,
        size as f64 / 1e6,
        size as f64 / elements.len() as f64,
        size as f64 / (keys * versions) as f64,
    );
    println!(
        "{lookups} random lookups ({:.1} places each): p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms; redb point lookup p50 {:.3} ms, p99 {:.3} ms; p99 ratio {:.2}",
        places as f64 / lookups as f64,
        ms(p50),
        ms(p99),
        ms(max),
        ms(r50),
        ms(r99),
        p99.as_secs_f64() / r99.as_secs_f64()
    );
    if p99 >= Duration::from_millis(5) {
        eprintln!("target missed: p99 {:.3} ms ≥ 5 ms", ms(p99));
        std::process::exit(1);
    }
}
