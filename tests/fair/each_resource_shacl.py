#!/usr/bin/env python3
"""Runs the shared `shacl_check.py` on the Turtle of every metadata resource of a
`fair serve` on loopback, each resource alone (its graph must hold on its own).

usage: each_resource_shacl.py http://127.0.0.1:PORT/ SHACL_CHECK_PY [--profiles fdp-v2,dcat-ap]
Crawls from the root along the links a FAIR Data Point client follows; prints one
line per resource and ends with `N resources, M with violations` (exit 1 if M > 0).
"""
import subprocess, sys, tempfile, urllib.parse

import rdflib
import requests

DCAT = rdflib.Namespace("http://www.w3.org/ns/dcat#")
LDP = rdflib.Namespace("http://www.w3.org/ns/ldp#")
FOLLOW = [DCAT.dataset, DCAT.distribution, DCAT.hasVersion, DCAT.previousVersion, LDP.contains]


def loopback(url):
    host = urllib.parse.urlsplit(url).hostname or ""
    return host in ("localhost", "::1") or host.startswith("127.")


def main():
    root, checker = sys.argv[1], sys.argv[2]
    profiles = sys.argv[sys.argv.index("--profiles") + 1] if "--profiles" in sys.argv else "fdp-v2,dcat-ap"
    seen, todo, failed = set(), [root], []
    while todo:
        url = todo.pop(0)
        if url in seen or not loopback(url):
            continue
        seen.add(url)
        answer = requests.get(url, headers={"Accept": "text/turtle"}, timeout=30)
        if not answer.ok:
            print(f"FAIL {url}: HTTP {answer.status_code}")
            failed.append(url)
            continue
        graph = rdflib.Graph().parse(data=answer.text, format="turtle", publicID=url)
        for predicate in FOLLOW:
            todo += [str(o) for o in graph.objects(rdflib.URIRef(url), predicate)]
            todo += [str(o) for s in graph.subjects(LDP.membershipResource, rdflib.URIRef(url))
                     for o in graph.objects(s, LDP.contains)]
        with tempfile.NamedTemporaryFile("w", suffix=".ttl") as f:
            f.write(answer.text)
            f.flush()
            run = subprocess.run([sys.executable, checker, f.name, "--profiles", profiles, "--quiet"],
                                 capture_output=True, text=True)
        summary = " ".join(line for line in run.stdout.splitlines() if line.startswith("["))
        print(("PASS " if run.returncode == 0 else "FAIL ") + url + "  " + summary)
        if run.returncode != 0:
            failed.append(url)
            print(run.stdout + run.stderr)
    print(f"{len(seen)} resources, {len(failed)} with violations")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
