//! The free-space reserve of the buffer filesystem (`--min-free`): every writer
//! of buffers (an interning copy, an operation) stops before the filesystem's
//! free space would fall under it, so that a run cannot fill the disk.

use std::fs::File;
use std::io;

/// The default reserve of a filesystem of `total` bytes: 5%, at most 2 GiB.
fn default_reserve(total: u64) -> u64 {
    (total / 20).min(2 << 30)
}

/// Fails with [`io::ErrorKind::StorageFull`] if writing `ahead` more bytes to
/// the filesystem of `file` would leave less free than `min_free` bytes (`None`:
/// the default reserve); the message gives the free space and the reserve.
pub fn ensure(file: &File, min_free: Option<u64>, ahead: u64) -> io::Result<()> {
    let stat = rustix::fs::fstatvfs(file).map_err(io::Error::from)?;
    let free = stat.f_bavail.saturating_mul(stat.f_frsize);
    let total = stat.f_blocks.saturating_mul(stat.f_frsize);
    let reserve = min_free.unwrap_or_else(|| default_reserve(total));
    if free.saturating_sub(ahead) < reserve {
        return Err(io::Error::new(
            io::ErrorKind::StorageFull,
            format!(
                "the buffer filesystem has {free} bytes free, and keeps {reserve} (--min-free)"
            ),
        ));
    }
    Ok(())
}

/// Whether `error` says the filesystem is full (or the user's quota is).
pub fn is_full(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_reserve_is_5_percent_at_most_2_gib() {
        assert_eq!(default_reserve(20 << 30), 1 << 30);
        assert_eq!(default_reserve(1 << 40), 2 << 30);
    }

    #[test]
    fn a_reserve_larger_than_any_disk_refuses_and_none_accepts() {
        let file = tempfile::tempfile().expect("tmp");
        let refused = ensure(&file, Some(u64::MAX / 2), 1).expect_err("refused");
        assert!(is_full(&refused), "{refused}");
        assert!(refused.to_string().contains("--min-free"), "{refused}");
        ensure(&file, Some(0), 0).expect("no reserve");
    }
}
