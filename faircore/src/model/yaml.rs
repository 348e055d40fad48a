//! Reading YAML (dataset headers, action files) with messages for the people who
//! wrote it: the parser's line and column and what is wrong, without its internals
//! (the names of its limits and options).

use serde::de::DeserializeOwned;

/// Parses `text`; the error says where and what, in the file's terms.
pub fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, String> {
    serde_saphyr::from_str(text).map_err(|e| message(&e))
}

/// The message of a parse error.
fn message(error: &serde_saphyr::Error) -> String {
    let at = error
        .location()
        .map(|l| format!(" at line {} column {}", l.line(), l.column()))
        .unwrap_or_default();
    let text = error.to_string();
    // The variant may come wrapped (with a snippet of the input): its text is
    // what is known for sure.
    if matches!(error, serde_saphyr::Error::Budget { .. }) || text.contains("budget breached") {
        return format!(
            "the document is too large or too deeply nested{at} (more nodes, nesting or aliases than a YAML file of fair may have): make it smaller or simpler"
        );
    }
    text.replace(", set DuplicateKeyPolicy in Options if acceptable", "")
        .replace("set DuplicateKeyPolicy in Options if acceptable", "")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_parser_s_internals_stay_out_of_the_message() {
        let duplicate = from_str::<serde_json::Value>("a: 1\na: 2\n").expect_err("duplicate");
        assert!(
            duplicate.contains("duplicate") && !duplicate.contains("Options"),
            "{duplicate}"
        );
        let many: String = (0..300_000).map(|i| format!("- {i}\n")).collect();
        let large = from_str::<serde_json::Value>(&many).expect_err("too large");
        assert!(
            large.contains("too large") && !large.contains("Nodes"),
            "{large}"
        );
    }
}
