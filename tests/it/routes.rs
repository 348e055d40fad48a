//! The one list of routes, `fairserver::ROUTES`, against every other place that
//! names routes: the README's route table, and the application `create_app`
//! builds (each route answered by its own handler, with HEAD, 405, CORS and
//! metrics as every route has them); and the request targets the other tests make
//! from it.

use std::path::Path;

use fairserver::{ROUTES, Route};

/// A value for a variable part of a route's syntax that names something of the
/// golden catalogue (`NAME`: a dataset), or is well-formed (a checksum, a key, a
/// part, a manifest format).
pub fn sample(part: &str) -> String {
    match part {
        "NAME" | "D" => "mydataset".into(),
        "KEY" => "a/key.txt".into(),
        "PART" => "collection".into(),
        "F" => "urls".into(),
        _ => "0".repeat(64),
    }
}

/// How many variable parts `route` has.
pub fn parts(route: &Route) -> usize {
    let mut n = 0;
    route.target(|_| {
        n += 1;
        String::new()
    });
    n
}

/// `route`'s target with `value` as its variable part number `at` and samples
/// as the others.
pub fn with_part(route: &Route, at: usize, value: &str) -> String {
    let mut i = 0;
    route.target(|part| {
        i += 1;
        if i - 1 == at {
            value.to_string()
        } else {
            sample(part)
        }
    })
}

/// `route`'s target up to its variable part number `at` (samples before it).
pub fn up_to_part(route: &Route, at: usize) -> String {
    const CUT: &str = "\u{0}";
    let target = with_part(route, at, CUT);
    target.split(CUT).next().unwrap_or_default().to_string()
}

/// A target of `route` with samples for all its variable parts.
pub fn example(route: &Route) -> String {
    route.target(sample)
}

/// The first cell of each row of the README's route table (the one headed
/// `| route | answer |`), without its backquotes.
fn readme_routes() -> Vec<String> {
    let readme = Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md");
    let readme = std::fs::read_to_string(readme).expect("README.md");
    let tables: Vec<&str> = readme
        .split("\n| route | answer |\n| --- | --- |\n")
        .collect();
    assert_eq!(tables.len(), 2, "one route table in the README");
    tables[1]
        .lines()
        .take_while(|row| row.starts_with('|'))
        .map(|row| {
            let cell = row.split(" | ").next().unwrap_or_default();
            cell.trim_start_matches("| `")
                .trim_end_matches('`')
                .to_string()
        })
        .collect()
}

#[test]
fn the_readme_route_table_lists_exactly_the_routes_of_the_server_in_order() {
    let listed: Vec<&str> = ROUTES.iter().map(|r| r.syntax).collect();
    assert_eq!(readme_routes(), listed);
}
