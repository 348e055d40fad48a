"""What the FAIR checkers of this folder share: an HTTP client that talks to
loopback addresses only, the RDF media types `fair serve` negotiates, offline
RDF parsing, and the links a FAIR Data Point client follows from one metadata
record to the next.

Nothing here touches the network beyond the loopback interface: URLs of other
hosts (licences, ORCIDs, vocabularies) are never dereferenced, a redirect to
another host is refused, and JSON-LD with a remote `@context` is refused rather
than fetched.
"""

import ipaddress
import json
import urllib.parse
from collections import deque

import rdflib
import requests
from rdflib import URIRef

DCAT = rdflib.Namespace("http://www.w3.org/ns/dcat#")
DCT = rdflib.Namespace("http://purl.org/dc/terms/")
FDPO = rdflib.Namespace("https://w3id.org/fdp/fdp-o#")
LDP = rdflib.Namespace("http://www.w3.org/ns/ldp#")
SPDX = rdflib.Namespace("http://spdx.org/rdf/terms#")
SCHEMA = "https://schema.org/"

# Media type -> rdflib parser name, for the RDF serialisations a record has.
RDF_MEDIA_TYPES = {
    "text/turtle": "turtle",
    "application/ld+json": "json-ld",
    "application/rdf+xml": "xml",
}

# From a record, the properties that lead to further records: FDP navigation,
# DCAT containment and DCAT versioning.
NAVIGATION = (
    FDPO.metadataCatalog,
    FDPO.servesMetadata,
    DCAT.catalog,
    DCAT.dataset,
    DCAT.service,
    DCAT.distribution,
    DCAT.hasVersion,
    DCAT.hasCurrentVersion,
    DCAT.previousVersion,
    LDP.contains,
)


def is_loopback(url):
    """Whether `url` is http(s) on localhost or a loopback IP address (a host
    name that merely starts with `127.` is not one)."""
    parts = urllib.parse.urlsplit(str(url))
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return False
    if parts.hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(parts.hostname).is_loopback
    except ValueError:
        return False


class NotLoopback(Exception):
    """A request to a URL that is not on a loopback address."""


class LoopbackClient:
    """GET and HEAD on loopback URLs only. Redirects are followed here, one hop
    at a time, so that a `Location` on another host is refused as well."""

    def __init__(self, timeout=30, max_redirects=5):
        self.session = requests.Session()
        # No proxy, .netrc or CA settings from the environment.
        self.session.trust_env = False
        self.timeout = timeout
        self.max_redirects = max_redirects

    def request(self, method, url, accept=None, follow=True):
        """The answer to `method url`. `accept=None` sends no Accept header at
        all (requests would otherwise send `*/*`)."""
        for _ in range(self.max_redirects + 1):
            if not is_loopback(url):
                raise NotLoopback(f"refusing a request to {url}: not a loopback address")
            answer = self.session.request(
                method,
                url,
                headers={"Accept": accept},
                timeout=self.timeout,
                allow_redirects=False,
            )
            if not (follow and answer.is_redirect):
                return answer
            url = urllib.parse.urljoin(url, answer.headers["Location"])
        raise requests.TooManyRedirects(f"more than {self.max_redirects} redirects from {url}")

    def get(self, url, accept=None, follow=True):
        return self.request("GET", url, accept, follow)

    def head(self, url, accept=None):
        return self.request("HEAD", url, accept, follow=False)


def media_type(answer):
    """The media type of an answer, without parameters, in lower case."""
    return answer.headers.get("Content-Type", "").split(";", 1)[0].strip().lower()


def remote_contexts(document):
    """The remote `@context` (or `@import`) references anywhere in a JSON-LD
    document: strings where a context object could have been inlined."""
    found = []

    def visit(node, is_context):
        # A string standing where a context is expected is a reference to one.
        if isinstance(node, str):
            if is_context:
                found.append(node)
        elif isinstance(node, list):
            for item in node:
                visit(item, is_context)
        elif isinstance(node, dict):
            # Keys of a context object are term definitions, which may hold
            # scoped contexts of their own: walk into them as into data.
            for key, value in node.items():
                visit(value, key in ("@context", "@import"))

    visit(document, False)
    return found


def parse_rdf(text, media, base):
    """The graph of an RDF document of media type `media`, parsed with no
    network access; ValueError for a JSON-LD document with a remote context."""
    parser = RDF_MEDIA_TYPES[media]
    if parser == "json-ld":
        remote = remote_contexts(json.loads(text))
        if remote:
            raise ValueError(f"JSON-LD with a remote @context {remote[0]!r} cannot be read offline")
    return rdflib.Graph().parse(data=text, format=parser, publicID=base)


def next_records(graph, url):
    """The records `graph` (the description of the record `url`) leads to, in
    a stable order: its navigation properties, and the members of the LDP
    containers whose membership resource it is."""
    me = URIRef(url)
    found = []
    for prop in NAVIGATION:
        found += sorted(graph.objects(me, prop))
    for container in sorted(graph.subjects(LDP.membershipResource, me)):
        found += sorted(graph.objects(container, LDP.contains))
    return list(dict.fromkeys(str(o) for o in found if isinstance(o, URIRef)))


def crawl(root, visit):
    """Walks the records breadth-first from `root`: `visit(url)` returns the
    record's graph, or None when it could not be read. Links off loopback are
    never followed. Returns (visited urls, skipped off-loopback urls)."""
    seen, skipped, todo = [], [], deque([root])
    while todo:
        url = todo.popleft()
        if url in seen or url in skipped:
            continue
        if not is_loopback(url):
            skipped.append(url)
            continue
        seen.append(url)
        graph = visit(url)
        if graph is not None:
            todo.extend(next_records(graph, url))
    return seen, skipped
