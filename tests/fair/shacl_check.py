#!/usr/bin/env python3
"""SHACL validation of FAIR metadata, offline, with the shapes of
`tests/fair/shapes/` (their sources and licences are in the README there).

usage: shacl_check.py SOURCE... [--profiles fdp-v2,fdp-stock,dcat-ap] [--format FORMAT] [--quiet]

Each SOURCE is an RDF file (its format guessed from the extension unless
--format says) or a loopback URL (fetched as Turtle); together they make one
data graph. For each profile one line is printed,

    PASS fdp-v2: 0 violations, 0 warnings, 0 infos; 60 focus nodes

followed, without --quiet, by the results themselves. A profile fails when it
finds a violation, or when no node of the graph is a target of its shapes (a
validation that validated nothing). Warnings (DCAT-AP's recommended
properties) are reported, not failed. Exit status: 0 all profiles pass, 1 one
fails, 2 bad usage.

`owl:imports` are never followed. As a module: `validate(graph, profile)`.
"""

import argparse
import functools
import pathlib
import sys
from dataclasses import dataclass

import pyshacl
import rdflib
from rdflib.namespace import RDF, RDFS, SH
from rdflib.util import guess_format

import fairweb

SHAPES = pathlib.Path(__file__).resolve().parent / "shapes"

FDP_V2 = ("resource", "catalog", "dataset", "data-service", "distribution",
          "metadata", "metadata-service", "fairdata-point")
FDP_STOCK = ("resource", "catalog", "dataset", "data-service", "distribution",
             "fdp", "metadata-service")


@dataclass(frozen=True)
class Profile:
    what: str
    shapes: tuple
    # Given to pyshacl as the ontology: its rdfs:subClassOf axioms make a
    # shape of a class reach the instances of its subclasses.
    ontology: tuple


PROFILES = {
    "fdp-v2": Profile(
        "FAIR Data Point v2 record shapes (fdpneo default profile)",
        tuple(f"fdp-v2-fdpneo/{name}.ttl" for name in FDP_V2),
        ("vocab/dcat3.ttl",),
    ),
    "fdp-stock": Profile(
        "FAIR Data Point (Java server) default shapes, as its reset installs them",
        tuple(f"fdp-stock/shape-{name}.ttl" for name in FDP_STOCK),
        ("vocab/dcat3.ttl",),
    ),
    "dcat-ap": Profile(
        "DCAT-AP 3.0.1: mandatory properties and cardinalities, class ranges, "
        "recommended properties (warnings)",
        ("dcat-ap-3.0.1/shapes.ttl", "dcat-ap-3.0.1/range.ttl",
         "dcat-ap-3.0.1/shapes_recommended.ttl"),
        ("vocab/dcat3.ttl",),
    ),
}

SEVERITIES = {SH.Violation: "violations", SH.Warning: "warnings", SH.Info: "infos"}


@functools.lru_cache(maxsize=None)
def turtle_files(paths):
    """The graph of Turtle files of the shapes folder, read once."""
    graph = rdflib.Graph()
    for path in paths:
        graph.parse(SHAPES / path, format="turtle")
    return graph


def focus_nodes(data, shapes, ontology):
    """The nodes of `data` the shapes target (SHACL 2.1.3), with classes
    closed under rdfs:subClassOf of the data and the ontology."""
    classes = data + ontology
    nodes = set()
    for cls in set(shapes.objects(None, SH.targetClass)) | {
        s for s in shapes.subjects(RDF.type, SH.NodeShape)
        if (s, RDF.type, RDFS.Class) in shapes
    }:
        for sub in classes.transitive_subjects(RDFS.subClassOf, cls):
            nodes.update(data.subjects(RDF.type, sub))
    nodes.update(n for n in shapes.objects(None, SH.targetNode) if (n, None, None) in data)
    for prop in shapes.objects(None, SH.targetSubjectsOf):
        nodes.update(data.subjects(prop, None))
    for prop in shapes.objects(None, SH.targetObjectsOf):
        nodes.update(data.objects(None, prop))
    return nodes


@dataclass
class Outcome:
    profile: str
    counts: dict
    focus_nodes: set
    results: list

    @property
    def focus(self):
        return len(self.focus_nodes)

    @property
    def violations(self):
        return self.counts["violations"]

    @property
    def passed(self):
        return self.violations == 0 and self.focus > 0

    def figures(self):
        counts = ", ".join(f"{n} {name}" for name, n in self.counts.items())
        return f"{counts}; {self.focus} focus nodes"

    def summary(self):
        return f"{self.profile}: {self.figures()}"


def describe(report, result):
    """One line for one sh:ValidationResult."""
    def term(prop):
        value = report.value(result, prop)
        return "-" if value is None else value.n3(report.namespace_manager)

    severity = SEVERITIES.get(report.value(result, SH.resultSeverity), "other")
    message = "; ".join(str(m) for m in report.objects(result, SH.resultMessage))
    return (f"  {severity[:-1]}: node {term(SH.focusNode)} path {term(SH.resultPath)}"
            f" value {term(SH.value)} ({term(SH.sourceConstraintComponent)}): {message}")


def validate(data, profile):
    """Validates `data` against the shapes of `profile` (a name of PROFILES)."""
    spec = PROFILES[profile]
    shapes = turtle_files(spec.shapes)
    ontology = turtle_files(spec.ontology)
    _, report, _ = pyshacl.validate(
        data,
        shacl_graph=shapes,
        ont_graph=ontology,
        inference="none",
        abort_on_first=False,
        allow_infos=True,
        allow_warnings=True,
        do_owl_imports=False,
    )
    counts = {name: 0 for name in SEVERITIES.values()}
    counts["other"] = 0
    results = sorted(report.subjects(RDF.type, SH.ValidationResult))
    for result in results:
        counts[SEVERITIES.get(report.value(result, SH.resultSeverity), "other")] += 1
    # A severity SHACL does not define counts as a violation.
    counts["violations"] += counts.pop("other")
    return Outcome(profile, counts, focus_nodes(data, shapes, ontology),
                   sorted(describe(report, r) for r in results))


def load(sources, fmt):
    """The data graph of files and loopback URLs."""
    data = rdflib.Graph()
    client = fairweb.LoopbackClient()
    for source in sources:
        if "://" in source:
            answer = client.get(source, accept="text/turtle")
            answer.raise_for_status()
            media = fairweb.media_type(answer)
            if media not in fairweb.RDF_MEDIA_TYPES:
                raise ValueError(f"{source}: answered {media}, not RDF")
            data += fairweb.parse_rdf(answer.text, media, source)
        else:
            data.parse(source, format=fmt or guess_format(source))
    return data


def main():
    parser = argparse.ArgumentParser(description="Offline SHACL validation of FAIR metadata.")
    parser.add_argument("sources", nargs="+", metavar="SOURCE")
    parser.add_argument("--profiles", default="fdp-v2,dcat-ap",
                        help=f"comma-separated, of: {', '.join(PROFILES)}")
    parser.add_argument("--format", help="rdflib parser of the files (default: from the extension)")
    parser.add_argument("--quiet", action="store_true", help="the summary lines only")
    args = parser.parse_args()
    profiles = args.profiles.split(",")
    unknown = [p for p in profiles if p not in PROFILES]
    if unknown:
        parser.error(f"unknown profile {unknown[0]!r}; known: {', '.join(PROFILES)}")
    try:
        data = load(args.sources, args.format)
    except (fairweb.NotLoopback, ValueError, OSError) as error:
        parser.error(str(error))
    failed = False
    for profile in profiles:
        outcome = validate(data, profile)
        failed |= not outcome.passed
        print(("PASS " if outcome.passed else "FAIL ") + outcome.summary())
        if not args.quiet and outcome.results:
            print("\n".join(outcome.results))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
