//! Plain encoding of a collection of 100,000 PDB-like keys: encoding alone, and
//! encoding plus hashing (what writing a collection costs), against parsing it back.

use std::collections::BTreeMap;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use faircore::{Collection, CollectionKind, HashAlgo, plain};

fn collection(n: usize) -> Collection {
    let entries: BTreeMap<String, _> = (0..n)
        .map(|i| {
            let key = format!("{:02x}/{i:x}.cif.gz", i % 256);
            (key, HashAlgo::Blake3.hash(&i.to_le_bytes()))
        })
        .collect();
    Collection::new(CollectionKind::Deepfolder, entries)
}

fn plain_encoding(c: &mut Criterion) {
    let collection = collection(100_000);
    let bytes = plain::to_vec(collection.entries()).expect("encodes");
    let mut group = c.benchmark_group("plain");
    group.throughput(Throughput::Bytes(bytes.len() as u64));
    group.sample_size(20);
    group.bench_function("encode 100k keys", |b| {
        b.iter(|| plain::to_vec(collection.entries()))
    });
    group.bench_function("encode+blake3 100k keys", |b| {
        b.iter(|| collection.encode(HashAlgo::Blake3))
    });
    group.bench_function("parse 100k keys", |b| {
        b.iter(|| Collection::from_json(CollectionKind::Deepfolder, &bytes))
    });
    group.finish();
}

criterion_group!(benches, plain_encoding);
criterion_main!(benches);
