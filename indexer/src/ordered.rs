//! Work done in parallel, its results taken in order: the items of an iterator
//! (the walk's directories) are processed on a rayon pool, with a bounded amount
//! of work in flight, and their outputs handed to one consumer in the iterator's
//! order. Memory stays bounded by that amount, not by the number of items.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex, mpsc};

/// Units of work in flight, waited for when over a maximum.
#[derive(Debug)]
struct Budget {
    used: Mutex<u64>,
    freed: Condvar,
    max: u64,
}

impl Budget {
    /// Waits until `units` more fit (or nothing is in flight), then takes them.
    fn take(&self, units: u64) {
        let mut used = self.used.lock().unwrap_or_else(|e| e.into_inner());
        while *used > 0 && *used + units > self.max {
            used = self.freed.wait(used).unwrap_or_else(|e| e.into_inner());
        }
        *used += units;
    }

    fn give_back(&self, units: u64) {
        let mut used = self.used.lock().unwrap_or_else(|e| e.into_inner());
        *used = used.saturating_sub(units);
        self.freed.notify_all();
    }
}

/// Runs `work` on every item of `items` on `pool`, with at most `max` units
/// (`units(item)` each) between the start of an item's work and the moment its
/// output is consumed, and hands each output to `consume` in the order of
/// `items`, on the calling thread. `items` is iterated on a thread of its own.
///
/// The first error of `consume` stops new work and is returned once the work in
/// flight has drained.
pub fn run<I, T, R, E>(
    pool: &rayon::ThreadPool,
    items: I,
    max: u64,
    units: impl Fn(&T) -> u64 + Send,
    work: impl Fn(T) -> R + Sync,
    mut consume: impl FnMut(R) -> Result<(), E>,
) -> Result<(), E>
where
    I: Iterator<Item = T> + Send,
    T: Send,
    R: Send,
{
    let budget = Budget {
        used: Mutex::new(0),
        freed: Condvar::new(),
        max,
    };
    let stop = AtomicBool::new(false);
    let (done, outputs) = mpsc::channel::<(usize, u64, R)>();
    std::thread::scope(|scope| {
        let (budget, stop, work) = (&budget, &stop, &work);
        scope.spawn(move || {
            pool.in_place_scope(|s| {
                for (seq, item) in items.enumerate() {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let n = units(&item);
                    budget.take(n);
                    let done = done.clone();
                    s.spawn(move |_| {
                        // The receiver outlives every sender.
                        let _ = done.send((seq, n, work(item)));
                    });
                }
            });
            drop(done);
        });
        let mut waiting = BTreeMap::new();
        let mut next = 0;
        let mut result = Ok(());
        for (seq, n, output) in outputs {
            waiting.insert(seq, (n, output));
            while let Some((n, output)) = waiting.remove(&next) {
                next += 1;
                if result.is_ok() {
                    result = consume(output);
                    if result.is_err() {
                        stop.store(true, Ordering::Relaxed);
                    }
                }
                budget.give_back(n);
            }
        }
        result
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU64;

    #[test]
    fn outputs_come_in_order_with_the_work_in_flight_bounded() {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(4)
            .build()
            .expect("pool");
        let in_flight = AtomicU64::new(0);
        let most = AtomicU64::new(0);
        let mut seen = Vec::new();
        let result: Result<(), ()> = run(
            &pool,
            0..2000u64,
            50,
            |i| 1 + i % 7,
            |i| {
                let now = in_flight.fetch_add(1 + i % 7, Ordering::SeqCst) + 1 + i % 7;
                most.fetch_max(now, Ordering::SeqCst);
                // Later items often finish first.
                std::thread::sleep(std::time::Duration::from_micros((2000 - i) % 13 * 20));
                i
            },
            |i| {
                in_flight.fetch_sub(1 + i % 7, Ordering::SeqCst);
                seen.push(i);
                Ok(())
            },
        );
        assert_eq!(result, Ok(()));
        assert_eq!(seen, (0..2000).collect::<Vec<_>>());
        assert!(most.load(Ordering::SeqCst) <= 50, "{most:?}");
    }

    #[test]
    fn the_first_error_stops_the_work_and_is_returned() {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .expect("pool");
        let started = AtomicU64::new(0);
        let result = run(
            &pool,
            0..1_000_000u64,
            10,
            |_| 1,
            |i| {
                started.fetch_add(1, Ordering::SeqCst);
                i
            },
            |i| if i == 100 { Err(i) } else { Ok(()) },
        );
        assert_eq!(result, Err(100));
        assert!(started.load(Ordering::SeqCst) < 1000, "{started:?}");
    }
}
