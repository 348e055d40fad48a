//! The routes of the server, in one list: each one's pattern, how people write
//! it, what it answers, and how its handler is mounted. `create_app` registers
//! exactly this list; `fair serve --help` prints it, and the tests check the
//! route table of `docs/http.md` against it and take their requests from it.

use actix_web::{FromRequest, Handler, Resource, Responder, web};

use crate::{content, machine, metadata, ops};

/// A GET route (which also answers HEAD; any other method gets 405).
#[derive(Debug, Clone, Copy)]
pub struct Route {
    /// How people write it: the method, the path with its variable parts in
    /// capitals, the query if it takes one (optional parameters in brackets),
    /// e.g. `GET /machine/find/CHECKSUM`.
    pub syntax: &'static str,
    /// What it answers, in one line.
    pub summary: &'static str,
    /// The pattern it is mounted at: `{part}` is one path segment, `{part:.*}`
    /// the rest of the path.
    pub pattern: &'static str,
    /// Mounts its handler at a pattern.
    pub(crate) mount: fn(&mut web::ServiceConfig, &'static str),
}

/// Every route of the server: the Seamless machine API, its extensions, the
/// content, the FAIR metadata, and the server's own.
pub const ROUTES: &[Route] = &[
    Route {
        syntax: "GET /machine/dataset/NAME",
        summary: "header and distributions of a dataset",
        pattern: "/machine/dataset/{name:.*}",
        mount: |app, at| get(app, at, machine::dataset),
    },
    Route {
        syntax: "GET /machine/find/CHECKSUM",
        summary: "dataset and record of a distribution",
        pattern: "/machine/find/{checksum:.*}",
        mount: |app, at| get(app, at, machine::find),
    },
    Route {
        syntax: "GET /machine/access/ELEMENT",
        summary: "where an element can be downloaded",
        pattern: "/machine/access/{checksum:.*}",
        mount: |app, at| get(app, at, machine::access),
    },
    Route {
        syntax: "GET /machine/keyorder/CHECKSUM",
        summary: "a keyorder file (immutable, gzip if asked)",
        pattern: "/machine/keyorder/{checksum:.*}",
        mount: |app, at| get(app, at, machine::keyorder),
    },
    Route {
        syntax: "GET /machine/find_distribution?dataset=D[&type=&version=&date=&format=&compression=]",
        summary: "the record that matches, or 300 with the candidates",
        pattern: "/machine/find_distribution",
        mount: |app, at| get(app, at, machine::find_distribution),
    },
    Route {
        syntax: "GET /machine/find_checksum?dataset=D[...]",
        summary: "the same, the checksum only",
        pattern: "/machine/find_checksum",
        mount: |app, at| get(app, at, machine::find_checksum),
    },
    Route {
        syntax: "GET /machine/datasets",
        summary: "every dataset with its latest distributions",
        pattern: "/machine/datasets",
        mount: |app, at| get(app, at, machine::datasets),
    },
    Route {
        syntax: "GET /machine/diff/OLD/NEW",
        summary: "changed keys between two distributions (JSON lines)",
        pattern: "/machine/diff/{old}/{new}",
        mount: |app, at| get(app, at, machine::diff),
    },
    Route {
        syntax: "GET /machine/manifest/CHECKSUM?format=F[&since=OLD]",
        summary: "a bulk download manifest (see fair manifest --help)",
        pattern: "/machine/manifest/{checksum}",
        mount: |app, at| get(app, at, machine::manifest),
    },
    Route {
        syntax: "GET /machine/locate/ELEMENT",
        summary: "every dataset, distribution and key holding an element",
        pattern: "/machine/locate/{checksum}",
        mount: |app, at| get(app, at, machine::locate),
    },
    Route {
        syntax: "GET /buffers/CHECKSUM",
        summary: "an element's bytes (ranges, immutable)",
        pattern: "/buffers/{checksum}",
        mount: |app, at| get(app, at, content::buffer),
    },
    Route {
        syntax: "GET /files/CHECKSUM/KEY",
        summary: "the same under a key's name (sources: --serve-source)",
        pattern: "/files/{checksum}/{key:.*}",
        mount: |app, at| get(app, at, content::file),
    },
    Route {
        syntax: "GET /",
        summary: "the FAIR Data Point: DCAT catalogue, landing page",
        pattern: "/",
        mount: |app, at| get(app, at, metadata::root),
    },
    Route {
        syntax: "GET /catalogue[?page=N]",
        summary: "the whole catalogue in one RDF document, paged (Hydra)",
        pattern: "/catalogue",
        mount: |app, at| get(app, at, metadata::dump),
    },
    Route {
        syntax: "GET /dataset/",
        summary: "the LDP container of the datasets: 303 to /",
        pattern: "/dataset/",
        mount: |app, at| get(app, at, metadata::datasets_container),
    },
    Route {
        syntax: "GET /dataset/NAME",
        summary: "a dataset across its versions (DCAT, landing page)",
        pattern: "/dataset/{name}",
        mount: |app, at| get(app, at, metadata::dataset),
    },
    Route {
        syntax: "GET /dataset/NAME/",
        summary: "the LDP container of its versions: 303 to /dataset/NAME",
        pattern: "/dataset/{name}/",
        mount: |app, at| get(app, at, metadata::versions_container),
    },
    Route {
        syntax: "GET /dataset/NAME/CHECKSUM",
        summary: "one snapshot (latest: 307 to the current one)",
        pattern: "/dataset/{name}/{checksum}",
        mount: |app, at| get(app, at, metadata::snapshot),
    },
    Route {
        syntax: "GET /dataset/NAME/CHECKSUM/collection.json",
        summary: "a snapshot's collection index",
        pattern: "/dataset/{name}/{checksum}/collection.json",
        mount: |app, at| get(app, at, metadata::collection),
    },
    Route {
        syntax: "GET /dataset/NAME/CHECKSUM/distribution/PART",
        summary: "a snapshot's distribution: collection or a manifest",
        pattern: "/dataset/{name}/{checksum}/distribution/{part}",
        mount: |app, at| get(app, at, metadata::distribution),
    },
    Route {
        syntax: "GET /health",
        summary: "status, catalogue generation, problems",
        pattern: "/health",
        mount: |app, at| get(app, at, ops::health),
    },
    Route {
        syntax: "GET /metrics",
        summary: "Prometheus metrics",
        pattern: "/metrics",
        mount: |app, at| get(app, at, ops::metrics),
    },
];

impl Route {
    /// A request target of this route: its syntax without the method and the
    /// optional parameters, each part in capitals replaced by `fill(part)`
    /// (`GET /machine/diff/OLD/NEW` gives `/machine/diff/{fill("OLD")}/{fill("NEW")}`).
    pub fn target(&self, mut fill: impl FnMut(&str) -> String) -> String {
        let path = self.syntax.split_once(' ').map_or(self.syntax, |(_, p)| p);
        let mut target = String::new();
        let mut part = String::new();
        let mut optional = 0_usize;
        for c in path.chars() {
            if c.is_ascii_uppercase() && optional == 0 {
                part.push(c);
                continue;
            }
            if !part.is_empty() {
                target.push_str(&fill(&part));
                part.clear();
            }
            match c {
                '[' => optional += 1,
                ']' => optional = optional.saturating_sub(1),
                _ if optional == 0 => target.push(c),
                _ => {}
            }
        }
        if !part.is_empty() {
            target.push_str(&fill(&part));
        }
        target
    }
}

/// `handler` at `pattern`, for GET and HEAD; other methods get 405.
fn resource<F, Args>(pattern: &str, handler: F) -> Resource
where
    F: Handler<Args>,
    Args: FromRequest + 'static,
    F::Output: Responder + 'static,
{
    web::resource(pattern)
        .route(web::get().to(handler.clone()))
        .route(web::head().to(handler))
        .default_service(web::to(ops::method_not_allowed))
}

/// Mounts `handler` at `pattern` on `app`, for GET and HEAD.
fn get<F, Args>(app: &mut web::ServiceConfig, pattern: &str, handler: F)
where
    F: Handler<Args>,
    Args: FromRequest + 'static,
    F::Output: Responder + 'static,
{
    app.service(resource(pattern, handler));
}

#[cfg(test)]
mod tests {
    use actix_web::dev::ResourceDef;

    use super::*;

    /// The path of `route`'s target with every part filled with `x`.
    fn example(route: &Route) -> String {
        let target = route.target(|_| "x".into());
        target.split('?').next().unwrap_or_default().to_string()
    }

    #[test]
    fn each_syntax_is_a_get_matched_by_its_own_pattern_and_no_other() {
        for route in ROUTES {
            assert!(route.syntax.starts_with("GET /"), "{}", route.syntax);
            let path = example(route);
            let matching: Vec<&str> = ROUTES
                .iter()
                .filter(|r| ResourceDef::new(r.pattern).is_match(&path))
                .map(|r| r.pattern)
                .collect();
            assert_eq!(matching, [route.pattern], "{}: {path}", route.syntax);
        }
    }

    #[test]
    fn syntaxes_and_patterns_are_unique_and_summaries_one_short_line() {
        // `fair serve --help` puts them after a column of 44, within 100.
        for (i, route) in ROUTES.iter().enumerate() {
            for other in &ROUTES[i + 1..] {
                assert_ne!(route.syntax, other.syntax);
                assert_ne!(route.pattern, other.pattern);
            }
            let summary = route.summary;
            assert!(!summary.is_empty() && summary.len() <= 56, "{summary}");
            assert!(!summary.contains('\n'), "{summary}");
        }
    }

    #[test]
    fn targets_fill_the_parts_and_leave_out_the_optional_parameters() {
        let target = |syntax: &str| {
            let route = ROUTES.iter().find(|r| r.syntax.starts_with(syntax));
            route.map(|r| r.target(|part| format!("<{part}>")))
        };
        assert_eq!(
            target("GET /machine/diff/").as_deref(),
            Some("/machine/diff/<OLD>/<NEW>")
        );
        assert_eq!(
            target("GET /machine/manifest/").as_deref(),
            Some("/machine/manifest/<CHECKSUM>?format=<F>")
        );
        assert_eq!(
            target("GET /machine/find_checksum").as_deref(),
            Some("/machine/find_checksum?dataset=<D>")
        );
        assert_eq!(target("GET /health").as_deref(), Some("/health"));
    }
}
