//! Throughput of the three catalogue hash algorithms, on a small buffer (the
//! typical mirror file) and a large one (where BLAKE3 goes multi-threaded).

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use faircore::HashAlgo;

fn hashing(c: &mut Criterion) {
    let mut group = c.benchmark_group("hash");
    for size in [4 << 10, 16 << 20] {
        let data: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
        group.throughput(Throughput::Bytes(size as u64));
        for algo in HashAlgo::ALL {
            group.bench_with_input(BenchmarkId::new(algo.name(), size), &data, |b, data| {
                b.iter(|| algo.hash(data))
            });
        }
    }
    group.finish();
}

criterion_group!(benches, hashing);
criterion_main!(benches);
