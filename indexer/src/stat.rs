//! Opening and stat-ing a directory's entries relative to the open directory,
//! without ever blocking on a FIFO or device, and naming file types in
//! messages; `FileStat` (faircore) is re-exported here.
//!
//! A name looked up relative to its directory's descriptor costs one dentry
//! lookup; a path costs one per component, and in a mirror's dentry cache of
//! millions of names each lookup walks a long hash chain (measured at 10^6 files:
//! path lookups were a quarter of a first index's CPU).

use std::fs::File;
use std::io;
use std::os::fd::BorrowedFd;

use rustix::fs::{AtFlags, FileType, Mode, OFlags, Stat};

pub use faircore::statcache::FileStat;

/// Opens `name` in the directory `dir` (following a symlink) for reading
/// without blocking: a FIFO or device swapped in after the type check must not
/// hang the run.
pub fn open_at(dir: BorrowedFd<'_>, name: &str) -> io::Result<File> {
    let flags = OFlags::RDONLY | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::CLOEXEC;
    Ok(File::from(rustix::fs::openat(
        dir,
        name,
        flags,
        Mode::empty(),
    )?))
}

/// The stat of `name` in the directory `dir`: of what it links to when
/// `follow`, else of the entry itself.
pub fn stat_at(dir: BorrowedFd<'_>, name: &str, follow: bool) -> io::Result<Stat> {
    let flags = match follow {
        true => AtFlags::empty(),
        false => AtFlags::SYMLINK_NOFOLLOW,
    };
    Ok(rustix::fs::statat(dir, name, flags)?)
}

/// The stat of an open file.
pub fn stat_of(file: &File) -> io::Result<Stat> {
    Ok(rustix::fs::fstat(file)?)
}

/// The type of the file a stat describes.
pub fn kind(stat: &Stat) -> FileType {
    FileType::from_raw_mode(stat.st_mode)
}

/// What the incremental cache keeps of a stat: the same numbers as
/// `FileStat::from(&std::fs::Metadata)` gives (tested).
// The fields' integer types differ between architectures.
#[allow(clippy::unnecessary_cast)]
pub fn file_stat(stat: &Stat) -> FileStat {
    FileStat {
        dev: stat.st_dev as u64,
        ino: stat.st_ino as u64,
        size: stat.st_size as u64,
        mtime_ns: stat.st_mtime as i64 * 1_000_000_000 + stat.st_mtime_nsec as i64,
        ctime_ns: stat.st_ctime as i64 * 1_000_000_000 + stat.st_ctime_nsec as i64,
    }
}

/// A short name for a non-regular file type, for messages.
pub fn kind_name(kind: FileType) -> &'static str {
    match kind {
        FileType::Directory => "a directory",
        FileType::Fifo => "a FIFO",
        FileType::Socket => "a socket",
        FileType::BlockDevice => "a block device",
        FileType::CharacterDevice => "a character device",
        FileType::Symlink => "a symbolic link",
        FileType::RegularFile => "a regular file",
        FileType::Unknown => "a file of unknown type",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsFd;

    #[test]
    fn a_stat_gives_the_numbers_std_s_metadata_gives() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("f"), b"some bytes").expect("write");
        let fd = File::open(dir.path()).expect("open the directory");
        let file = open_at(fd.as_fd(), "f").expect("open_at");
        let std = FileStat::from(&file.metadata().expect("metadata"));
        assert_eq!(file_stat(&stat_of(&file).expect("fstat")), std);
        let by_name = stat_at(fd.as_fd(), "f", false).expect("stat_at");
        assert_eq!(file_stat(&by_name), std);
        assert_eq!(kind(&by_name), FileType::RegularFile);
    }
}
