#!/usr/bin/env python3
"""Harvests a catalogue's data dump as CKAN's DCAT harvester does: ckanext-dcat's
RDFParser with the profile euro_dcat_ap_3, following the Hydra pages.

usage: ckan_harvest.py URL

URL is the document the catalogue names with void:dataDump. Prints one JSON
object: {"pages": N, "datasets": [{"title", "license_id", "resources"}, ...]}.

ckanext-dcat imports the `ckan` package (its plugin toolkit and licence
register), although parsing touches no CKAN site, database or configuration:
tests/fair/requirements-ckan.txt installs `ckan` without its dependencies
(`pip install --no-deps`), with only the few libraries its import path loads.
"""

import json
import sys

import requests
from ckanext.dcat.processors import RDFParser


def harvest(url):
    datasets, pages = [], 0
    while url:
        answer = requests.get(url, headers={"Accept": "text/turtle"}, timeout=30)
        answer.raise_for_status()
        parser = RDFParser(profiles=["euro_dcat_ap_3"])
        parser.parse(answer.text, _format="turtle")
        pages += 1
        for dataset in parser.datasets():
            datasets.append({
                "title": dataset.get("title"),
                "license_id": dataset.get("license_id"),
                "resources": len(dataset.get("resources", [])),
            })
        url = parser.next_page()
    return {"pages": pages, "datasets": datasets}


if __name__ == "__main__":
    print(json.dumps(harvest(sys.argv[1])))
