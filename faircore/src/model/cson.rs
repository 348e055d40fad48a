//! A reader of CSON (CoffeeScript Object Notation), the subset Seamless FAIR dirs
//! use for dataset headers (`dataset_header/<dataset>.cson`), read as
//! `fairserver.py`'s bundled `pycson` reads it:
//!
//! - `#` comments to the end of a line;
//! - keys as names (`[$A-Za-z_][$0-9A-Za-z_]*`) or quoted strings;
//! - objects nested by indentation (`key:` then more-indented lines), or in
//!   braces (`{a: 1, b: 2}`, over several lines too);
//! - arrays in brackets, items separated by commas or new lines; an item may be an
//!   indented object (`[`, `  name: 'Ada'`, `,`, `  name: 'Bob'`, `]`);
//! - strings in `'…'` or `"…"` (a line break and the spaces around it become one
//!   space) and block strings in `'''…'''` or `"""…"""` (lines kept, their common
//!   indentation removed, a first and last line that are blank dropped), with the
//!   escapes `\n \t \r \f \b \uXXXX` and `\` before any other character;
//! - `true`, `false`, `null`, and numbers (decimal, `0x`, `0o`, `0b`).
//!
//! Everything else (unquoted strings, `yes`/`no`, `a: b: 1` on one line, a key
//! given twice) is refused with an [`Error`] naming the line and column and what
//! was expected there.

use serde_json::{Map, Number, Value};

/// Why a CSON text could not be read: where, and what was expected there.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}: {message}")]
pub struct Error {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// What was expected and what was found.
    pub message: String,
}

/// Reads the CSON `text` as a JSON value.
pub fn parse(text: &str) -> Result<Value, Error> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let text = text.replace("\r\n", "\n");
    let mut parser = Parser {
        text: &text,
        pos: 0,
    };
    parser.root()
}

/// A position in the text being read.
struct Parser<'t> {
    text: &'t str,
    pos: usize,
}

/// Characters a bare word (a number or a literal) is made of.
fn is_word(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '$' | '.' | '+' | '-')
}

impl<'t> Parser<'t> {
    fn rest(&self) -> &'t str {
        &self.text[self.pos..]
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn error_at(&self, pos: usize, message: String) -> Error {
        let before = &self.text[..pos];
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        Error {
            line: before.matches('\n').count() + 1,
            column: before[line_start..].chars().count() + 1,
            message,
        }
    }

    /// "expected `what`, found" the next character.
    fn expected(&self, what: &str) -> Error {
        let found = match self.peek() {
            None => "the end of the file".to_string(),
            Some('\n') => "the end of the line".to_string(),
            Some(c) => format!("{c:?}"),
        };
        self.error_at(self.pos, format!("expected {what}, found {found}"))
    }

    fn expect(&mut self, c: char) -> Result<(), Error> {
        if self.peek() == Some(c) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.expected(&format!("{c:?}")))
        }
    }

    /// Skips spaces and tabs, then a comment.
    fn skip_line_space(&mut self) {
        let rest = self.rest();
        self.pos += rest.len() - rest.trim_start_matches([' ', '\t']).len();
        if self.peek() == Some('#') {
            self.pos += self.rest().find('\n').unwrap_or(self.rest().len());
        }
    }

    /// Whether only spaces or a comment are left on this line.
    fn at_line_end(&mut self) -> bool {
        self.skip_line_space();
        matches!(self.peek(), None | Some('\n'))
    }

    /// Skips spaces, comments and line breaks; whether a line break was skipped.
    fn skip_space(&mut self) -> bool {
        let mut newline = false;
        while self.at_line_end() && self.bump().is_some() {
            newline = true;
        }
        newline
    }

    /// From the end of a line: skips blank and comment lines and stops at the
    /// start of the next line with content (or the end of the file).
    fn next_content_line(&mut self) {
        loop {
            let start = self.pos;
            if !self.at_line_end() {
                self.pos = start;
                return;
            }
            if self.bump().is_none() {
                return;
            }
        }
    }

    /// The spaces and tabs at the position.
    fn indentation(&self) -> &str {
        let rest = self.rest();
        &rest[..rest.len() - rest.trim_start_matches([' ', '\t']).len()]
    }

    /// The indentation of the line the position is on, if only spaces precede it.
    fn line_indentation(&self) -> Option<&str> {
        let line_start = self.text[..self.pos].rfind('\n').map_or(0, |i| i + 1);
        let before = &self.text[line_start..self.pos];
        before
            .chars()
            .all(|c| c == ' ' || c == '\t')
            .then_some(before)
    }

    /// Whether a `key:` starts at the position.
    fn at_key(&mut self) -> bool {
        let start = self.pos;
        let found = self.key().is_ok() && {
            self.skip_line_space();
            self.peek() == Some(':')
        };
        self.pos = start;
        found
    }

    fn root(&mut self) -> Result<Value, Error> {
        self.next_content_line();
        let indentation = self.indentation().to_string();
        self.pos += indentation.len();
        let name = self
            .peek()
            .is_some_and(|c| c.is_ascii_alphabetic() || matches!(c, '_' | '$'));
        let value = if self.at_key() || name {
            self.pos -= indentation.len();
            Value::Object(self.block(&indentation)?)
        } else {
            self.value()?
        };
        self.skip_space();
        if self.peek().is_some() {
            return Err(self.expected(
                "a `key: value` line at the indentation of the first one, or the end of the file",
            ));
        }
        Ok(value)
    }

    /// An object of `key: value` lines indented by `indentation`, from the start
    /// of its first line to the end of its last. Ends before a line indented
    /// less, or one that is no `key:` line (a closing bracket, a comma).
    fn block(&mut self, indentation: &str) -> Result<Map<String, Value>, Error> {
        let mut object = Map::new();
        let mut last_end = self.pos;
        loop {
            let found = self.indentation();
            if found != indentation {
                if found.len() > indentation.len() && found.starts_with(indentation) {
                    return Err(self.error_at(
                        self.pos + found.len(),
                        format!(
                            "expected a key indented as the line above ({} characters), found {} characters",
                            indentation.len(),
                            found.len()
                        ),
                    ));
                }
                if !indentation.starts_with(found) {
                    return Err(self.error_at(
                        self.pos + found.len(),
                        "indentation mixes tabs and spaces differently from the lines above".into(),
                    ));
                }
                self.pos = last_end;
                return Ok(object);
            }
            self.pos += found.len();
            if !self.at_key() {
                let name = self
                    .peek()
                    .is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '$'));
                if object.is_empty() || name {
                    return Err(self.key_error());
                }
                self.pos = last_end;
                return Ok(object);
            }
            // Keys separated by commas on one line.
            loop {
                self.entry(&mut object, indentation)?;
                self.skip_line_space();
                if self.peek() != Some(',') {
                    break;
                }
                self.pos += 1;
                if self.at_line_end() {
                    break;
                }
            }
            if !self.at_line_end() {
                return Err(self.expected("the end of the line after the value"));
            }
            last_end = self.pos;
            self.next_content_line();
            if self.peek().is_none() {
                return Ok(object);
            }
        }
    }

    /// Why no `key:` starts at the position.
    fn key_error(&mut self) -> Error {
        if let Err(e) = self.key() {
            return e;
        }
        self.skip_line_space();
        self.expected("':'")
    }

    /// `key: value` into `object`; `indentation` is the key's line's.
    fn entry(&mut self, object: &mut Map<String, Value>, indentation: &str) -> Result<(), Error> {
        let key_pos = self.pos;
        let key = self.key()?;
        self.skip_line_space();
        self.expect(':')?;
        let value = if self.at_line_end() {
            // The value is on the lines below, indented more.
            self.next_content_line();
            let below = self.indentation().to_string();
            if below.len() <= indentation.len() || !below.starts_with(indentation) {
                return Err(self.error_at(
                    self.pos + below.len(),
                    format!("expected the value of {key:?} indented more than its key"),
                ));
            }
            self.pos += below.len();
            if self.at_key() {
                self.pos -= below.len();
                Value::Object(self.block(&below)?)
            } else {
                self.value()?
            }
        } else if self.at_key() {
            return Err(self.expected(&format!(
                "a value for {key:?}; a nested object goes on the lines below, indented"
            )));
        } else {
            self.value()?
        };
        if object.contains_key(&key) {
            return Err(self.error_at(key_pos, format!("the key {key:?} is given twice")));
        }
        object.insert(key, value);
        Ok(())
    }

    /// A name or a quoted string.
    fn key(&mut self) -> Result<String, Error> {
        match self.peek() {
            Some('\'' | '"')
                if !self.rest().starts_with("'''") && !self.rest().starts_with("\"\"\"") =>
            {
                self.string()
            }
            Some(c) if c.is_ascii_alphabetic() || c == '_' || c == '$' => {
                let rest = self.rest();
                let end = rest
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '$'))
                    .unwrap_or(rest.len());
                self.pos += end;
                Ok(rest[..end].to_string())
            }
            _ => {
                Err(self
                    .expected("a key (a name of letters, digits, `_` and `$`, or a quoted string)"))
            }
        }
    }

    /// A value at the position.
    fn value(&mut self) -> Result<Value, Error> {
        match self.peek() {
            Some('[') => self.array(),
            Some('{') => self.flow_object(),
            Some('\'' | '"') => self.string().map(Value::String),
            Some(c) if is_word(c) => self.word(),
            _ => Err(self.expected(
                "a value (a quoted string, a number, true, false, null, [...] or {...})",
            )),
        }
    }

    /// `null`, `true`, `false` or a number.
    fn word(&mut self) -> Result<Value, Error> {
        let start = self.pos;
        let rest = self.rest();
        let word = &rest[..rest.find(|c: char| !is_word(c)).unwrap_or(rest.len())];
        self.pos += word.len();
        let radix = |prefix: &str, radix: u32| {
            word.strip_prefix(prefix)
                .and_then(|digits| i64::from_str_radix(digits, radix).ok())
        };
        let value = match word {
            "null" => Some(Value::Null),
            "true" => Some(Value::Bool(true)),
            "false" => Some(Value::Bool(false)),
            _ => radix("0x", 16)
                .or_else(|| radix("0o", 8))
                .or_else(|| radix("0b", 2))
                .map(Value::from)
                .or_else(|| decimal(word)),
        };
        value.ok_or_else(|| {
            self.error_at(
                start,
                format!(
                    "expected a value (a quoted string, a number, true, false, null, [...] or {{...}}), found `{word}` (strings must be quoted)"
                ),
            )
        })
    }

    /// `[a, b]`, items separated by commas or line breaks.
    fn array(&mut self) -> Result<Value, Error> {
        self.expect('[')?;
        let mut items = Vec::new();
        let mut separated = true;
        loop {
            separated |= self.skip_space();
            match self.peek() {
                Some(']') => {
                    self.pos += 1;
                    return Ok(Value::Array(items));
                }
                Some(',') if !items.is_empty() => {
                    self.pos += 1;
                    separated = true;
                    continue;
                }
                _ if !separated => {
                    return Err(self.expected("',', a line break or ']' after an array item"));
                }
                _ => {}
            }
            let item = if self.at_key() {
                let Some(indentation) = self.line_indentation().map(str::to_string) else {
                    return Err(self.expected(
                        "an array item; an object in an array goes in braces or on lines of its own",
                    ));
                };
                self.pos -= indentation.len();
                Value::Object(self.block(&indentation)?)
            } else {
                self.value()?
            };
            items.push(item);
            separated = false;
        }
    }

    /// `{a: 1, b: 2}`, pairs separated by commas or line breaks.
    fn flow_object(&mut self) -> Result<Value, Error> {
        self.expect('{')?;
        let mut object = Map::new();
        let mut separated = true;
        loop {
            separated |= self.skip_space();
            match self.peek() {
                Some('}') => {
                    self.pos += 1;
                    return Ok(Value::Object(object));
                }
                Some(',') if !object.is_empty() => {
                    self.pos += 1;
                    separated = true;
                    continue;
                }
                _ if !separated => {
                    return Err(self.expected("',', a line break or '}' after a value"));
                }
                _ => {}
            }
            let key_pos = self.pos;
            let key = self.key()?;
            self.skip_line_space();
            self.expect(':')?;
            self.skip_space();
            let value = self.value()?;
            if object.contains_key(&key) {
                return Err(self.error_at(key_pos, format!("the key {key:?} is given twice")));
            }
            object.insert(key, value);
            separated = false;
        }
    }

    /// A quoted string: `'…'`, `"…"`, `'''…'''` or `"""…"""`.
    fn string(&mut self) -> Result<String, Error> {
        let start = self.pos;
        let Some(quote) = self.bump() else {
            return Err(self.expected("a string"));
        };
        let block = self.rest().starts_with(&format!("{quote}{quote}"));
        if block {
            self.pos += 2;
        }
        // (text, escaped): escaped characters are kept as they are.
        let mut parts: Vec<(String, bool)> = vec![(String::new(), false)];
        loop {
            let Some(c) = self.bump() else {
                return Err(self.error_at(start, "this string is never closed".into()));
            };
            if c == quote {
                if !block {
                    break;
                }
                if self.rest().starts_with(&format!("{quote}{quote}")) {
                    self.pos += 2;
                    break;
                }
            }
            if c != '\\' {
                push(&mut parts, c, false);
                continue;
            }
            let escape_pos = self.pos - 1;
            match self.bump() {
                Some('\n') => {
                    // A line continuation: the break and the next line's
                    // indentation are dropped.
                    let rest = self.rest();
                    self.pos += rest.len() - rest.trim_start_matches([' ', '\t']).len();
                }
                Some('u') => {
                    let hex = self.rest().get(..4).unwrap_or_default();
                    let c = u32::from_str_radix(hex, 16)
                        .ok()
                        .and_then(char::from_u32)
                        .ok_or_else(|| {
                            self.error_at(
                                escape_pos,
                                "expected 4 hexadecimal digits of a character after \\u".into(),
                            )
                        })?;
                    self.pos += 4;
                    push(&mut parts, c, true);
                }
                Some(e) => {
                    let c = match e {
                        'n' => '\n',
                        't' => '\t',
                        'r' => '\r',
                        'f' => '\u{c}',
                        'b' => '\u{8}',
                        other => other,
                    };
                    push(&mut parts, c, true);
                }
                None => return Err(self.error_at(start, "this string is never closed".into())),
            }
        }
        Ok(if block { dedent(&parts) } else { fold(&parts) })
    }
}

/// Appends `c` to the last part if it is of the same kind, else to a new one.
fn push(parts: &mut Vec<(String, bool)>, c: char, escaped: bool) {
    match parts.last_mut() {
        Some((text, kind)) if *kind == escaped => text.push(c),
        _ => parts.push((c.to_string(), escaped)),
    }
}

/// A `'…'` string over several lines, as CoffeeScript reads it: each line break
/// with the spaces around it becomes one space; a break right after the opening
/// quote or before the closing one is dropped. Escaped characters stay as they
/// are.
fn fold(parts: &[(String, bool)]) -> String {
    let last = parts.len() - 1;
    let mut out = String::new();
    for (i, (text, escaped)) in parts.iter().enumerate() {
        if *escaped {
            out.push_str(text);
            continue;
        }
        let mut text = text.as_str();
        if i == 0 {
            let trimmed = text.trim_start_matches([' ', '\t']);
            if let Some(after) = trimmed.strip_prefix('\n') {
                text = after.trim_start_matches([' ', '\t']);
            }
        }
        if i == last {
            let trimmed = text.trim_end_matches([' ', '\t', '\n']);
            if text[trimmed.len()..].contains('\n') {
                text = trimmed;
            }
        }
        // Each run of spaces and line breaks holding a break becomes a space.
        let mut run = String::new();
        for c in text.chars() {
            if matches!(c, ' ' | '\t' | '\n') {
                run.push(c);
                continue;
            }
            out.push_str(if run.contains('\n') { " " } else { &run });
            run.clear();
            out.push(c);
        }
        out.push_str(if run.contains('\n') { " " } else { &run });
    }
    out
}

/// A block string: its lines (escaped line breaks do not divide them), without
/// a blank last line, with the common indentation of all but the first removed,
/// and without a blank first line.
fn dedent(parts: &[(String, bool)]) -> String {
    let mut lines = vec![String::new()];
    for (text, escaped) in parts {
        if *escaped {
            if let Some(line) = lines.last_mut() {
                line.push_str(text);
            }
            continue;
        }
        let mut pieces = text.split('\n');
        if let (Some(first), Some(line)) = (pieces.next(), lines.last_mut()) {
            line.push_str(first);
        }
        lines.extend(pieces.map(str::to_string));
    }
    let several = lines.len() > 1;
    let blank = |line: &str| line.chars().all(|c| c == ' ' || c == '\t');
    if several && lines.last().is_some_and(|l| blank(l)) {
        lines.pop();
    }
    let mut indent: Option<&str> = None;
    for line in lines.iter().skip(1).filter(|l| !l.is_empty()) {
        let own = &line[..line.len() - line.trim_start_matches([' ', '\t']).len()];
        indent = Some(match indent {
            None => own,
            Some(common) => match common.bytes().zip(line.bytes()).position(|(a, b)| a != b) {
                Some(differs) => &common[..differs],
                None => common,
            },
        });
    }
    let cut = indent.map_or(0, str::len);
    let strip = |line: &String| line.get(cut..).unwrap_or_default().to_string();
    let first = if several && blank(&lines[0]) {
        None
    } else {
        Some(lines[0].clone())
    };
    first
        .into_iter()
        .chain(lines[1..].iter().map(strip))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A decimal number (`-12`, `3.5`, `.5`, `1e-3`) as JSON.
fn decimal(word: &str) -> Option<Value> {
    let digits = word.strip_prefix('-').unwrap_or(word);
    let well_formed = !digits.is_empty()
        && digits.starts_with(|c: char| c.is_ascii_digit() || c == '.')
        && digits
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-'));
    if !well_formed {
        return None;
    }
    if let Ok(n) = word.parse::<i64>() {
        return Some(Value::from(n));
    }
    let f: f64 = word.parse().ok()?;
    Number::from_f64(f).map(Value::Number)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_header_with_every_construct_reads_as_pycson_reads_it() {
        let text = "\
# A Seamless dataset header
title: 'Protein structures'   # the title
\"landing-page\": \"https://example.org/pdb\"
description: '''
  Every entry of the PDB,
    as mmCIF.
'''
folded: 'one
   two'
keywords: [
  'protein', \"structure\"
  'mmCIF'
]
creator:
  name: 'Ada Lovelace'
  orcid: 'https://orcid.org/0000-0002-1825-0097'
  affiliation:
    name: 'wwPDB'
authors: [
  name: 'A'
,
  name: 'B'
]
inline: {a: 1, b: [true, false, null], c: 'x\\ty\\u00e9'}
numbers: [0x1f, -3, 2.5, 1e3]
";
        let value = parse(text).expect("parse");
        assert_eq!(
            value,
            json!({
                "title": "Protein structures",
                "landing-page": "https://example.org/pdb",
                "description": "Every entry of the PDB,\n  as mmCIF.",
                "folded": "one two",
                "keywords": ["protein", "structure", "mmCIF"],
                "creator": {
                    "name": "Ada Lovelace",
                    "orcid": "https://orcid.org/0000-0002-1825-0097",
                    "affiliation": {"name": "wwPDB"}
                },
                "authors": [{"name": "A"}, {"name": "B"}],
                "inline": {"a": 1, "b": [true, false, null], "c": "x\tyé"},
                "numbers": [31, -3, 2.5, 1000.0]
            })
        );
    }

    #[test]
    fn braces_at_the_top_and_crlf_are_read() {
        let value = parse("{\r\n  a: 1\r\n  b: 'two'\r\n}\r\n").expect("parse");
        assert_eq!(value, json!({"a": 1, "b": "two"}));
    }

    #[test]
    fn what_is_not_read_is_refused_with_its_line_and_column() {
        for (text, line, column, message) in [
            (
                "title: My dataset\n",
                1,
                8,
                "found `My` (strings must be quoted)",
            ),
            ("a: 1\nb: yes\n", 2, 4, "found `yes`"),
            (
                "a: 1\n  b: 2\n",
                2,
                3,
                "expected a key indented as the line above",
            ),
            ("a: b: 1\n", 1, 4, "a nested object goes on the lines below"),
            ("a: 1\na: 2\n", 2, 1, "the key \"a\" is given twice"),
            ("a: 'open\n", 1, 4, "this string is never closed"),
            ("a: [1 2]\n", 1, 7, "expected ',', a line break or ']'"),
            (
                "a:\nb: 1\n",
                2,
                1,
                "expected the value of \"a\" indented more",
            ),
            ("landing-page: 'x'\n", 1, 8, "expected ':', found '-'"),
            ("a: 1\n]\n", 2, 1, "expected a `key: value` line"),
        ] {
            let error = parse(text).expect_err(text);
            assert_eq!(
                (error.line, error.column),
                (line, column),
                "{text:?}: {error}"
            );
            assert!(error.message.contains(message), "{text:?}: {error}");
        }
    }
}
