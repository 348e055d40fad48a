//! How each manifest format writes a key, and which keys it cannot carry: the
//! rules of the tools that read them, checked against the tools themselves
//! (`tests/it/manifest.rs`).
//!
//! | format | a key is written | refused |
//! |---|---|---|
//! | `urls`, `wget` | percent-encoded in the URL | none |
//! | `aria2` | raw after `  out=` (aria2 strips the value, no escapes) | LF; leading or trailing space, TAB, CR |
//! | `metalink` | XML-escaped, TAB, LF, CR as `&#9;`, `&#10;`, `&#13;` | what XML 1.0 forbids (other C0 controls, U+FFFE, U+FFFF) |
//! | `b3sum` | `\` line, `\\` and `\n` (b3sum reads CR raw) | U+FFFD (b3sum refuses it) |
//! | `sha256sum`, `sha3-256sum` | GNU: `\` line, `\\`, `\n`, `\r` | none |
//! | `rsync` | raw; `./` before a leading `#` or `;` (comments to rsync) | LF, CR (line ends to rsync) |
//! | `bagit` | `data/KEY`, `%`, CR, LF percent-encoded (RFC 8493) | none |
//!
//! NUL is refused everywhere (no file name holds it).

use std::borrow::Cow;

use super::Format;

/// What `format` cannot carry of `key`, if anything.
pub(super) fn refusal(format: Format, key: &str) -> Option<&'static str> {
    if key.contains('\0') {
        return Some("a NUL character");
    }
    let blank = |c: char| matches!(c, ' ' | '\t' | '\r');
    match format {
        Format::Aria2 if key.contains('\n') => Some("a line feed (aria2 input has no escapes)"),
        Format::Aria2 if key.starts_with(blank) || key.ends_with(blank) => {
            Some("a leading or trailing space, tab or carriage return (aria2 strips out= values)")
        }
        Format::Metalink if key.chars().any(|c| !xml_char(c)) => {
            Some("a control character XML 1.0 forbids (even as a character reference)")
        }
        Format::B3sum if key.contains('\u{FFFD}') => {
            Some("U+FFFD, which b3sum -c refuses in a path")
        }
        Format::Rsync if key.contains(['\n', '\r']) => {
            Some("a line feed or carriage return (line ends to rsync --files-from)")
        }
        _ => None,
    }
}

/// Whether XML 1.0 allows `c` in a document (§2.2, `Char`).
fn xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | ' '..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// `text` escaped for XML text and attribute values: the five markup characters
/// as entities, TAB, LF and CR as character references (attribute-value
/// normalisation keeps those, and turns raw ones into spaces).
pub(super) fn xml(text: &str) -> Cow<'_, str> {
    if !text.contains(['&', '<', '>', '"', '\'', '\t', '\n', '\r']) {
        return Cow::Borrowed(text);
    }
    let mut escaped = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&apos;"),
            '\t' => escaped.push_str("&#9;"),
            '\n' => escaped.push_str("&#10;"),
            '\r' => escaped.push_str("&#13;"),
            c => escaped.push(c),
        }
    }
    Cow::Owned(escaped)
}

/// One line of a check file: `HEX  KEY`, or `\HEX  ESCAPED` when the key needs
/// escapes. GNU (`sha256sum -c`) escapes `\`, LF and CR; b3sum only `\` and LF
/// (its `-c` refuses `\r` and reads a raw CR as part of the name).
pub(super) fn check_line(format: Format, digest: &str, key: &str) -> String {
    let special: &[char] = match format {
        Format::B3sum => &['\\', '\n'],
        _ => &['\\', '\n', '\r'],
    };
    if !key.contains(special) {
        return format!("{digest}  {key}");
    }
    let mut line = format!("\\{digest}  ");
    for c in key.chars() {
        match c {
            '\\' => line.push_str("\\\\"),
            '\n' => line.push_str("\\n"),
            '\r' if special.contains(&'\r') => line.push_str("\\r"),
            c => line.push(c),
        }
    }
    line
}

/// A key as a line of `rsync --files-from`: a leading `#` or `;` would make it a
/// comment, so such keys get `./` (the same path to rsync).
pub(super) fn rsync_line(key: &str) -> Cow<'_, str> {
    match key.starts_with(['#', ';']) {
        true => Cow::Owned(format!("./{key}")),
        false => Cow::Borrowed(key),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_escapes_markup_and_the_characters_normalisation_would_change() {
        assert_eq!(xml(r#"a&b<c>d"e'f"#), "a&amp;b&lt;c&gt;d&quot;e&apos;f");
        assert_eq!(xml("Icon\r\t\n"), "Icon&#13;&#9;&#10;");
        assert!(matches!(xml("plain"), Cow::Borrowed(_)));
    }

    #[test]
    fn check_lines_follow_each_tool_s_escapes() {
        let key = "a\\b\r\nc";
        assert_eq!(check_line(Format::B3sum, "00", key), "\\00  a\\\\b\r\\nc");
        assert_eq!(
            check_line(Format::Sha256sum, "00", key),
            "\\00  a\\\\b\\r\\nc"
        );
        assert_eq!(check_line(Format::B3sum, "00", "Icon\r"), "00  Icon\r");
        assert_eq!(check_line(Format::Sha256sum, "00", " x "), "00   x ");
    }

    #[test]
    fn each_format_refuses_only_what_its_readers_cannot_take() {
        assert!(refusal(Format::Aria2, " lead").is_some());
        assert!(refusal(Format::Aria2, "Icon\r").is_some());
        assert!(refusal(Format::Aria2, "mid\rdle\tx").is_none());
        assert!(refusal(Format::Metalink, "Icon\r").is_none());
        assert!(refusal(Format::Metalink, "bell\u{7}").is_some());
        assert!(refusal(Format::B3sum, "Icon\r\n\\").is_none());
        assert!(refusal(Format::B3sum, "\u{FFFD}").is_some());
        assert!(refusal(Format::Rsync, "Icon\r").is_some());
        assert!(refusal(Format::Rsync, "#x ;-y").is_none());
        for format in Format::ALL {
            assert!(refusal(format, "a\0").is_some(), "{format}");
        }
        assert_eq!(rsync_line("#x"), "./#x");
        assert_eq!(rsync_line("-x y"), "-x y");
    }
}
