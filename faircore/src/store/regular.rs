//! Opening the catalogue's own files (`fair.toml`, collections, distributions,
//! headers, keyorders, access indexes, buffers, action files): regular files only.
//! The open does not block, so a FIFO, device or socket where a file should be is
//! refused at once ("not a regular file") instead of hanging its reader.

use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

/// Opens `path` for reading if it is a regular file (a symbolic link to one
/// too); any other kind of file is an `InvalidInput` error naming the kind.
pub fn open(path: &Path) -> io::Result<File> {
    let file = File::options()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)?;
    let kind = file.metadata()?.file_type();
    if kind.is_file() {
        return Ok(file);
    }
    let what = if kind.is_fifo() {
        "a FIFO"
    } else if kind.is_dir() {
        "a directory"
    } else if kind.is_socket() {
        "a socket"
    } else if kind.is_char_device() || kind.is_block_device() {
        "a device"
    } else {
        "a special file"
    };
    Err(io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("not a regular file ({what})"),
    ))
}

/// The bytes of the regular file `path` (see [`open`]).
pub fn read(path: &Path) -> io::Result<Vec<u8>> {
    let mut file = open(path)?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// The text of the regular file `path` (see [`open`]); invalid UTF-8 is an
/// `InvalidData` error.
pub fn read_to_string(path: &Path) -> io::Result<String> {
    String::from_utf8(read(path)?).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fifo_is_refused_at_once_and_a_file_read() {
        let dir = tempfile::tempdir().expect("tempdir");
        let fifo = dir.path().join("fifo");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        assert!(made.expect("mkfifo runs").success());
        let error = read(&fifo).expect_err("a FIFO");
        assert_eq!(error.kind(), io::ErrorKind::InvalidInput);
        assert_eq!(error.to_string(), "not a regular file (a FIFO)");
        let error = read(dir.path()).expect_err("a directory");
        assert_eq!(error.to_string(), "not a regular file (a directory)");
        let file = dir.path().join("f");
        std::fs::write(&file, "x").expect("write");
        assert_eq!(read_to_string(&file).expect("reads"), "x");
    }
}
