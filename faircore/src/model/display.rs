//! How paths and names appear in messages and reports: bytes that are not UTF-8
//! as `\xNN` (two different bad names never look alike), control characters
//! escaped (`\n`, `\t`, `\u{1b}`: a name cannot forge a second report line or
//! colour a terminal), and the backslash doubled (so that an escape is never a
//! name's own text). Only for showing: keys and paths themselves are never changed.

use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// `path`, escaped for a message.
pub fn path(path: &Path) -> String {
    bytes(path.as_os_str().as_bytes())
}

/// `text`, escaped for a message.
pub fn text(text: &str) -> String {
    bytes(text.as_bytes())
}

/// `raw`, escaped for a message.
pub fn bytes(raw: &[u8]) -> String {
    let mut out = String::with_capacity(raw.len());
    for chunk in raw.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", u32::from(c))),
                c => out.push(c),
            }
        }
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsStr;

    #[test]
    fn bad_names_stay_apart_and_cannot_forge_lines() {
        let a = path(Path::new(OsStr::from_bytes(b"d/\xff.txt")));
        let b = path(Path::new(OsStr::from_bytes(b"d/\xfe.txt")));
        assert_eq!((a.as_str(), b.as_str()), ("d/\\xff.txt", "d/\\xfe.txt"));
        assert_eq!(text("x\nd/y.txt: ok"), "x\\nd/y.txt: ok");
        assert_eq!(text("\u{1b}[31mred\t\\"), "\\u{1b}[31mred\\t\\\\");
        assert_eq!(text("é/plain name"), "é/plain name");
    }
}
