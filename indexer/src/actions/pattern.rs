//! Python-compatible entry patterns and URL/key templates of action files.
//!
//! A [`Pattern`] behaves like Python's `re.match`: anchored at the start of the
//! entry, not at its end, with `(?P<name>...)` named groups. A [`Template`] is a
//! Python `str.format` string: `{0}`, `{1}` (every group by position, named ones
//! included), `{name}`, `{}` (the next position), `{{` and `}}`.

use regex::Regex;

/// A compiled entry pattern.
#[derive(Clone, Debug)]
pub struct Pattern {
    regex: Regex,
}

/// The groups one entry matched: by position (from 0) and by name.
#[derive(Debug)]
pub struct Groups<'a> {
    pattern: &'a Pattern,
    values: Vec<&'a str>,
}

impl Pattern {
    /// Compiles `source`, anchored at the start like `re.match`.
    pub fn new(source: &str) -> Result<Self, String> {
        let regex = Regex::new(&format!("^(?:{source})"))
            .map_err(|e| format!("regex {source:?} does not compile: {e}"))?;
        Ok(Pattern { regex })
    }

    /// The number of capturing groups.
    pub fn groups(&self) -> usize {
        self.regex.captures_len() - 1
    }

    /// Whether the pattern has a group called `name`.
    pub fn has_name(&self, name: &str) -> bool {
        self.regex.capture_names().flatten().any(|n| n == name)
    }

    /// The groups of `entry`, or `None` if the pattern does not match it. A group
    /// that took no part in the match is "None", as Python formats it.
    pub fn captures<'a>(&'a self, entry: &'a str) -> Option<Groups<'a>> {
        let caps = self.regex.captures(entry)?;
        let values = (1..self.regex.captures_len())
            .map(|i| caps.get(i).map_or("None", |m| m.as_str()))
            .collect();
        Some(Groups {
            pattern: self,
            values,
        })
    }
}

impl Groups<'_> {
    fn named(&self, name: &str) -> Option<&str> {
        let index = self
            .pattern
            .regex
            .capture_names()
            .position(|n| n == Some(name))?;
        self.values.get(index - 1).copied()
    }
}

/// A parsed `str.format` template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Template {
    parts: Vec<Part>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Part {
    Literal(String),
    Position(usize),
    Name(String),
}

impl Template {
    /// Parses `source`; format specs and conversions (`{0:>3}`, `{0!r}`) are refused.
    pub fn new(source: &str) -> Result<Self, String> {
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut next_position = 0;
        let mut chars = source.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '{' if chars.peek() == Some(&'{') => {
                    chars.next();
                    literal.push('{');
                }
                '}' if chars.peek() == Some(&'}') => {
                    chars.next();
                    literal.push('}');
                }
                '}' => return Err(format!("template {source:?}: single '}}' (write '}}}}')")),
                '{' => {
                    let mut field = String::new();
                    loop {
                        match chars.next() {
                            Some('}') => break,
                            Some(c) => field.push(c),
                            None => return Err(format!("template {source:?}: '{{' is not closed")),
                        }
                    }
                    if field.contains([':', '!', '[', '.', '{']) {
                        return Err(format!(
                            "template {source:?}: field {{{field}}} is not supported; use {{N}} or {{name}}"
                        ));
                    }
                    if !literal.is_empty() {
                        parts.push(Part::Literal(std::mem::take(&mut literal)));
                    }
                    parts.push(if field.is_empty() {
                        next_position += 1;
                        Part::Position(next_position - 1)
                    } else if let Ok(n) = field.parse() {
                        Part::Position(n)
                    } else {
                        Part::Name(field)
                    });
                }
                c => literal.push(c),
            }
        }
        if !literal.is_empty() {
            parts.push(Part::Literal(literal));
        }
        Ok(Template { parts })
    }

    /// Checks that every field names a group of `pattern`.
    pub fn check(&self, pattern: &Pattern) -> Result<(), String> {
        for part in &self.parts {
            match part {
                Part::Position(n) if *n >= pattern.groups() => {
                    return Err(format!(
                        "{{{n}}} names group {n}, but the regex has {} group(s) (numbered from 0)",
                        pattern.groups()
                    ));
                }
                Part::Name(name) if !pattern.has_name(name) => {
                    return Err(format!("{{{name}}} names a group the regex does not have"));
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// The template filled with `groups` (checked beforehand with [`Template::check`]).
    pub fn render(&self, groups: &Groups<'_>) -> String {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Literal(s) => out.push_str(s),
                Part::Position(n) => out.push_str(groups.values.get(*n).copied().unwrap_or("")),
                Part::Name(name) => out.push_str(groups.named(name).unwrap_or("")),
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expand(regex: &str, template: &str, entry: &str) -> Option<String> {
        let p = Pattern::new(regex).expect("regex");
        let t = Template::new(template).expect("template");
        t.check(&p).expect("check");
        p.captures(entry).map(|g| t.render(&g))
    }

    #[test]
    fn anchored_at_the_start_only_like_re_match() {
        assert_eq!(
            expand("(.{2})/(.{4})\\.cif\\.gz", "{1}", "xy/1xyz.cif.gz"),
            Some("1xyz".into())
        );
        assert_eq!(
            expand("(.{2})/(.{4})\\.cif", "{1}", "xy/1xyz.cif.gz"),
            Some("1xyz".into())
        );
        assert_eq!(expand("(.{4})\\.cif", "{0}", "xy/1xyz.cif"), None);
    }

    #[test]
    fn positions_include_named_groups_and_names_work() {
        let r = "(?P<name>[^.]+)\\.(?P<ext>.*)";
        assert_eq!(
            expand(r, "http://m/{0}", "5.txt"),
            Some("http://m/5".into())
        );
        assert_eq!(
            expand(r, "{name}.{ext}.gz", "5.txt"),
            Some("5.txt.gz".into())
        );
        assert_eq!(expand(r, "{}-{}", "a.b"), Some("a-b".into()));
        assert_eq!(expand("(a)?(b)", "{0}{1}", "b"), Some("Noneb".into()));
    }

    #[test]
    fn braces_escape_and_bad_templates_are_explained() {
        assert_eq!(expand("(x)", "{{{0}}}", "x"), Some("{x}".into()));
        assert!(
            Template::new("{0")
                .expect_err("open")
                .contains("not closed")
        );
        assert!(Template::new("a}b").expect_err("single").contains("single"));
        assert!(
            Template::new("{0:>3}")
                .expect_err("spec")
                .contains("not supported")
        );
        let p = Pattern::new("(?P<a>x)(y)").expect("regex");
        assert!(
            Template::new("{2}")
                .expect("t")
                .check(&p)
                .expect_err("index")
                .contains("2 group")
        );
        assert!(
            Template::new("{b}")
                .expect("t")
                .check(&p)
                .expect_err("name")
                .contains("{b}")
        );
        assert!(
            Pattern::new("(")
                .expect_err("bad")
                .contains("does not compile")
        );
    }
}
