//! Sorting more records than memory should hold: an external merge sort.
//!
//! Records (a key and a value, both bytes) are gathered in memory up to a budget,
//! then sorted and written as a run to an unnamed temporary file (deleted by the
//! system however the process ends); [`Spill::sorted`] merges the runs. Records
//! come out by key bytes, records of equal keys in the order they were pushed
//! (the sort is stable), which is what a snapshot of 10^7 keys needs to order its
//! keyorder and access index in bounded memory.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Seek, Write};
use std::path::{Path, PathBuf};

use rayon::slice::ParallelSliceMut;

use crate::{Error, Result};

/// Bytes of records held in memory before a run is written: 32 MiB (a
/// snapshot sorts up to three things at once).
pub const BUDGET: usize = 32 << 20;

/// Bytes of memory a record takes besides its key and value.
const RECORD: usize = size_of::<(usize, u32, u32)>();

/// Records being gathered for an external sort.
#[derive(Debug)]
pub struct Spill {
    dir: PathBuf,
    budget: usize,
    /// Keys and values, one after the other.
    arena: Vec<u8>,
    /// Each record: where it starts in `arena`, its key's and value's lengths.
    records: Vec<(usize, u32, u32)>,
    runs: Vec<File>,
}

impl Spill {
    /// A sort that writes its runs in `dir` (on the catalogue's filesystem, in
    /// its staging directory) once `budget` bytes are held.
    pub fn new(dir: &Path, budget: usize) -> Self {
        Spill {
            dir: dir.to_owned(),
            budget,
            arena: Vec::new(),
            records: Vec::new(),
            runs: Vec::new(),
        }
    }

    fn error(&self, e: io::Error) -> Error {
        Error::io(&self.dir, e)
    }

    /// Adds a record. Errors: a run that cannot be written (naming the directory).
    pub fn push(&mut self, key: &[u8], value: &[u8]) -> Result<()> {
        let (Ok(k), Ok(v)) = (u32::try_from(key.len()), u32::try_from(value.len())) else {
            return Err(self.error(io::Error::new(
                io::ErrorKind::InvalidInput,
                "a record of 4 GiB or more",
            )));
        };
        let size = key.len() + value.len();
        if self.arena.len() + size > self.arena.capacity()
            || self.records.len() == self.records.capacity()
        {
            if !self.records.is_empty() {
                self.write_run()?;
            }
            // Three quarters of the budget for the bytes, the rest for the
            // records; allocated once, never grown (a record larger than that
            // is held alone).
            let bytes = (self.budget / 4 * 3).max(size);
            self.arena
                .reserve_exact(bytes.saturating_sub(self.arena.capacity()));
            let records = (self.budget / 4 / RECORD).max(1);
            self.records
                .reserve_exact(records.saturating_sub(self.records.capacity()));
        }
        self.records.push((self.arena.len(), k, v));
        self.arena.extend_from_slice(key);
        self.arena.extend_from_slice(value);
        Ok(())
    }

    fn key(&self, (start, k, _): (usize, u32, u32)) -> &[u8] {
        &self.arena[start..start + k as usize]
    }

    /// Sorts the records in memory by key, then by the order they were pushed
    /// (their place in the arena): stable, with the speed of an unstable sort.
    fn sort(&mut self) {
        let mut records = std::mem::take(&mut self.records);
        records.par_sort_unstable_by(|&a, &b| self.key(a).cmp(self.key(b)).then(a.0.cmp(&b.0)));
        self.records = records;
    }

    fn write_run(&mut self) -> Result<()> {
        self.sort();
        let write = || -> io::Result<File> {
            let mut out = BufWriter::with_capacity(1 << 20, tempfile::tempfile_in(&self.dir)?);
            for &(start, k, v) in &self.records {
                out.write_all(&k.to_le_bytes())?;
                out.write_all(&v.to_le_bytes())?;
                out.write_all(&self.arena[start..start + k as usize + v as usize])?;
            }
            let mut file = out.into_inner().map_err(io::IntoInnerError::into_error)?;
            file.rewind()?;
            Ok(file)
        };
        let run = write().map_err(|e| self.error(e))?;
        self.runs.push(run);
        self.arena.clear();
        self.records.clear();
        Ok(())
    }

    /// The records in order ([`Sorted::next`]). Errors: the last run cannot be
    /// written or a run read back.
    pub fn sorted(mut self) -> Result<Sorted> {
        let dir = self.dir.clone();
        if self.runs.is_empty() {
            self.sort();
            return Ok(Sorted {
                dir,
                source: Source::Memory {
                    arena: self.arena,
                    records: self.records.into_iter(),
                },
            });
        }
        if !self.records.is_empty() {
            self.write_run()?;
        }
        let mut runs: Vec<Run> = self.runs.into_iter().map(Run::new).collect();
        let mut heap = BinaryHeap::new();
        for (i, run) in runs.iter_mut().enumerate() {
            if run.advance().map_err(|e| Error::io(&dir, e))? {
                heap.push(Reverse((run.key().to_vec(), i)));
            }
        }
        Ok(Sorted {
            dir,
            source: Source::Runs {
                runs,
                heap,
                last: None,
            },
        })
    }
}

/// The records of a [`Spill`] in order: by key, records of equal keys in the
/// order they were pushed.
#[derive(Debug)]
pub struct Sorted {
    dir: PathBuf,
    source: Source,
}

#[derive(Debug)]
enum Source {
    Memory {
        arena: Vec<u8>,
        records: std::vec::IntoIter<(usize, u32, u32)>,
    },
    /// Runs merged: the smallest key first, of equal keys the earliest run's.
    Runs {
        runs: Vec<Run>,
        heap: BinaryHeap<Reverse<(Vec<u8>, usize)>>,
        /// The run whose record was handed out last, to advance next.
        last: Option<usize>,
    },
}

impl Sorted {
    /// The next record as (key, value), or `None` after the last. Errors: a run
    /// that cannot be read back (naming the directory).
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Result<Option<(&[u8], &[u8])>> {
        match &mut self.source {
            Source::Memory { arena, records } => {
                let Some(record) = records.next() else {
                    return Ok(None);
                };
                let (start, k, v) = record;
                let at = start + k as usize;
                Ok(Some((&arena[start..at], &arena[at..at + v as usize])))
            }
            Source::Runs { runs, heap, last } => {
                if let Some(i) = last.take() {
                    let run = &mut runs[i];
                    if run.advance().map_err(|e| Error::io(&self.dir, e))? {
                        heap.push(Reverse((run.key().to_vec(), i)));
                    }
                }
                let Some(Reverse((_, i))) = heap.pop() else {
                    return Ok(None);
                };
                *last = Some(i);
                Ok(Some((runs[i].key(), runs[i].value())))
            }
        }
    }
}

/// A run read back record by record.
#[derive(Debug)]
struct Run {
    reader: BufReader<File>,
    record: Vec<u8>,
    key_len: usize,
}

impl Run {
    fn new(file: File) -> Self {
        Run {
            reader: BufReader::with_capacity(1 << 16, file),
            record: Vec::new(),
            key_len: 0,
        }
    }

    /// Reads the next record; false at the end of the run.
    fn advance(&mut self) -> io::Result<bool> {
        let mut lengths = [0; 8];
        match self.reader.read_exact(&mut lengths) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(false),
            Err(e) => return Err(e),
        }
        let [k0, k1, k2, k3, v0, v1, v2, v3] = lengths;
        self.key_len = u32::from_le_bytes([k0, k1, k2, k3]) as usize;
        let len = self.key_len + u32::from_le_bytes([v0, v1, v2, v3]) as usize;
        self.record.resize(len, 0);
        self.reader.read_exact(&mut self.record)?;
        Ok(true)
    }

    fn key(&self) -> &[u8] {
        &self.record[..self.key_len]
    }

    fn value(&self) -> &[u8] {
        &self.record[self.key_len..]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sorted(spill: Spill) -> Vec<(Vec<u8>, Vec<u8>)> {
        let mut out = Vec::new();
        let mut sorted = spill.sorted().expect("sorts");
        while let Some((k, v)) = sorted.next().expect("reads") {
            out.push((k.to_vec(), v.to_vec()));
        }
        out
    }

    #[test]
    fn runs_on_disk_merge_into_the_order_of_a_stable_sort_in_memory() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut records = Vec::new();
        for i in 0..20_000u32 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let key = format!("{:03}", state % 700).into_bytes();
            records.push((key, i.to_le_bytes().to_vec()));
        }
        // A budget of a few hundred records: dozens of runs.
        let mut small = Spill::new(dir.path(), 8 << 10);
        let mut large = Spill::new(dir.path(), BUDGET);
        for (k, v) in &records {
            small.push(k, v).expect("push");
            large.push(k, v).expect("push");
        }
        assert!(small.runs.len() > 20, "{}", small.runs.len());
        assert!(large.runs.is_empty());
        let mut expected = records;
        expected.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(sorted(small), expected);
        assert_eq!(sorted(large), expected);
        assert_eq!(
            std::fs::read_dir(dir.path()).expect("dir").count(),
            0,
            "runs are unnamed files"
        );
    }

    #[test]
    fn nothing_pushed_gives_nothing() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert!(sorted(Spill::new(dir.path(), 1)).is_empty());
    }
}
