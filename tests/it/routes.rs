//! The one list of routes, `fairserver::ROUTES`, against every other place that
//! names routes: the README's route table.

use std::path::Path;

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
    let listed: Vec<&str> = fairserver::ROUTES.iter().map(|r| r.syntax).collect();
    assert_eq!(readme_routes(), listed);
}
