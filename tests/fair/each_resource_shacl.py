#!/usr/bin/env python3
"""SHACL on the Turtle of every metadata record of a `fair serve` on loopback,
each record alone: its own document must hold against the shapes, without the
documents of its neighbours.

usage: each_resource_shacl.py http://127.0.0.1:PORT/ [--profiles fdp-v2,dcat-ap]

Walks the records from the root as `fair_http_check.py` does and validates each
with `shacl_check.py`'s profiles; a record fails on a violation, or when it is
not itself a focus node of a profile's shapes. Prints one line per record and
ends with `N resources, M with violations` (exit status 1 if M > 0).
"""

import argparse
import sys

import rdflib

import fairweb
import shacl_check


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("root")
    parser.add_argument("--profiles", default="fdp-v2,dcat-ap")
    args = parser.parse_args()
    if not fairweb.is_loopback(args.root):
        parser.error(f"{args.root} is not on a loopback address")
    profiles = args.profiles.split(",")
    unknown = [p for p in profiles if p not in shacl_check.PROFILES]
    if unknown:
        parser.error(f"unknown profile {unknown[0]!r}")
    client = fairweb.LoopbackClient()
    failed = []

    def visit(url):
        answer = client.get(url, "text/turtle")
        if answer.status_code != 200 or fairweb.media_type(answer) != "text/turtle":
            print(f"FAIL {url}: {answer.status_code} {answer.headers.get('Content-Type')}")
            failed.append(url)
            return None
        try:
            graph = fairweb.parse_rdf(answer.text, "text/turtle", url)
        except Exception as error:  # any parser error is the finding
            print(f"FAIL {url}: the Turtle does not parse: {error}")
            failed.append(url)
            return None
        problems, figures = [], []
        for profile in profiles:
            outcome = shacl_check.validate(graph, profile)
            figures.append(outcome.summary())
            if outcome.violations:
                problems += outcome.results
            if rdflib.URIRef(url) not in outcome.focus_nodes:
                problems.append(f"  {url} is not a focus node of {profile}")
        print(("FAIL " if problems else "PASS ") + url + "  " + " | ".join(figures))
        if problems:
            failed.append(url)
            print("\n".join(p for p in problems if not p.startswith("  warning")))
        return graph

    reached, _ = fairweb.crawl(args.root, visit)
    print(f"{len(reached)} resources, {len(failed)} with violations")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
