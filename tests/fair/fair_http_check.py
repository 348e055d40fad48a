#!/usr/bin/env python3
"""FAIR checks of a catalogue served on loopback, over HTTP, with no network
beyond the loopback interface.

usage: fair_http_check.py http://127.0.0.1:PORT/ [--shacl-profiles fdp-v2,dcat-ap] [--no-shacl]

From the root it walks every metadata record a FAIR Data Point client reaches
(FDP navigation, DCAT datasets, versions and distributions, LDP containers)
and checks, for each record:

  conneg         no Accept and `*/*` give Turtle; Turtle, JSON-LD and RDF/XML each
                 answer in their type with `Vary: Accept`, parse offline (inline
                 JSON-LD context), describe the record and hold one same graph;
                 q-values are honoured; an unservable type is a 406 that names
                 the types there are
  signposting-1  the Link header (the same on HEAD as on GET): one cite-as that
                 resolves to the HTML landing page, typed describedby links that
                 answer in their type with the record's graph, a schema.org type
                 and AboutPage, a license (the record's dct:license), typed items
                 that answer in their type
  signposting-2  an advertised linkset (RFC 9264 JSON) whose entry for the record
                 repeats the Link header, with every item anchored in it and
                 linking back with rel=collection; negotiating
                 application/linkset+json on the record gives the same document
  landing        the HTML page: its <link> signposts are the Link header's; its
                 schema.org JSON-LD describes the page with the Link header's
                 type, parses offline, and has what Google's Dataset rich results
                 require (name, description; DataDownload contentUrl and
                 encodingFormat)

then for the catalogue: the root is an fdp-o:FAIRDataPoint and a dcat:Catalog
with LDP DirectContainer navigation whose containers list exactly their members
(`catalogue`); every loopback dcat:downloadURL is downloaded and its bytes
match every spdx:checksum (spdx:checksumValue), dcat:byteSize and
dcat:mediaType, and it links back with rel=collection (`download`);
`Repr-Digest` / `Content-Digest` (RFC 9530) and `ni:` identifiers (RFC 6920,
resolved through /.well-known/ni/) are checked when present (`digest`, `ni`);
loopback dcat:accessURLs answer in their dcat:mediaType (`access`); and the
merged Turtle of all records passes SHACL with each profile of
`shacl_check.py`, every record being a focus node (`shacl`).

Each check prints one line, `PASS [category] subject: what` or `FAIL ...  --
detail`; the last line is `N passed, M failed`. Exit status 1 if any check
failed, 2 on bad usage (a root that is not on loopback, for one).
"""

import argparse
import base64
import hashlib
import html.parser
import json
import re
import sys
import urllib.parse

import blake3
import extruct
import rdflib
import requests
import signposting
from rdflib import URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import RDF

import fairweb
import shacl_check
from fairweb import DCAT, DCT, FDPO, LDP, SCHEMA, SPDX

# spdx:checksumAlgorithm_NAME -> a hash object constructor.
SPDX_HASHES = {
    "md5": hashlib.md5,
    "sha1": hashlib.sha1,
    "sha224": hashlib.sha224,
    "sha256": hashlib.sha256,
    "sha384": hashlib.sha384,
    "sha512": hashlib.sha512,
    "sha3_256": hashlib.sha3_256,
    "sha3_384": hashlib.sha3_384,
    "sha3_512": hashlib.sha3_512,
    "blake2b256": lambda: hashlib.blake2b(digest_size=32),
    "blake2b384": lambda: hashlib.blake2b(digest_size=48),
    "blake2b512": lambda: hashlib.blake2b(digest_size=64),
    "blake3": blake3.blake3,
}
SPDX_ALGORITHM = str(SPDX) + "checksumAlgorithm_"

# The active algorithms of the IANA HTTP Digest Algorithm registry (RFC 9530).
HTTP_DIGESTS = {"sha-256": hashlib.sha256, "sha-512": hashlib.sha512}

# RFC 6920 names: sha-256 and its truncations, in bits.
NI_BITS = {"sha-256": 256, "sha-256-128": 128, "sha-256-120": 120,
           "sha-256-96": 96, "sha-256-64": 64, "sha-256-32": 32}

IANA_MEDIA_TYPES = re.compile(r"^https?://www\.iana\.org/assignments/media-types/(.+)$")

# The relations FAIR signposting defines (https://signposting.org/FAIR/).
SIGNPOSTS = ("author", "cite-as", "collection", "describedby", "describes",
             "item", "license", "linkset", "type")

UNSERVABLE = ("application/x-unsupported", "image/png")


class Tally:
    """Prints each check as it is made, and counts them."""

    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, ok, category, subject, what, detail=""):
        ok = bool(ok)
        if ok:
            self.passed += 1
        else:
            self.failed += 1
        line = f"{'PASS' if ok else 'FAIL'} [{category}] {subject}: {what}"
        if detail and not ok:
            line += f"  -- {str(detail)[:400]}"
        print(line, flush=True)
        return ok

    def closing_line(self):
        return f"{self.passed} passed, {self.failed} failed"


def bare(media):
    """A media type without parameters, in lower case."""
    return (media or "").split(";", 1)[0].strip().lower()


def status(answer):
    return f"{answer.status_code} {answer.headers.get('Content-Type', '(no Content-Type)')}"


def triples(links):
    """(rel, target, type) of signposts, comparable as a set."""
    return {(str(s.rel), str(s.target), bare(s.type) or None) for s in links}


def of_rel(sp, rel):
    return [s for s in sp.signposts if str(s.rel) == rel]


def schema_types(node):
    kinds = node.get("@type", [])
    return {str(k).removeprefix(SCHEMA).removeprefix("http://schema.org/")
            for k in (kinds if isinstance(kinds, list) else [kinds])}


def as_list(value):
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


class HeadLinks(html.parser.HTMLParser):
    """The <link> elements of an HTML page, as (rel, href, type) triples."""

    def __init__(self, base):
        super().__init__()
        self.base = base
        self.links = set()

    def handle_starttag(self, tag, attrs):
        if tag != "link":
            return
        attrs = dict(attrs)
        href = urllib.parse.urljoin(self.base, attrs.get("href") or "")
        for rel in (attrs.get("rel") or "").lower().split():
            self.links.add((rel, href, bare(attrs.get("type")) or None))


def media_of(graph, node):
    """The media types dcat:mediaType gives `node`, its IANA IRIs read as type names."""
    found = set()
    for value in graph.objects(node, DCAT.mediaType):
        match = IANA_MEDIA_TYPES.match(str(value))
        found.add(match.group(1).lower() if match else str(value))
    return found


def structured_dictionary(header):
    """The members `name=:base64:` of an RFC 8941 dictionary header, as
    {name: bytes or None when the value is not a byte sequence}."""
    members = {}
    for member in header.split(","):
        name, _, value = member.strip().partition("=")
        value = value.split(";", 1)[0].strip()
        match = re.fullmatch(r":([A-Za-z0-9+/=]*):", value)
        try:
            members[name.strip().lower()] = base64.b64decode(match.group(1)) if match else None
        except ValueError:
            members[name.strip().lower()] = None
    return members


class CatalogueCheck:
    def __init__(self, root, tally):
        self.root = root
        self.tally = tally
        self.client = fairweb.LoopbackClient()
        self.merged = rdflib.Graph()
        self.records = {}

    def check(self, *args, **kwargs):
        return self.tally.check(*args, **kwargs)

    # -- one record ---------------------------------------------------------

    def record(self, url):
        """All per-record checks; the record's Turtle graph, or None."""
        try:
            graph, plain = self.negotiation(url)
            if graph is None:
                return None
            sp = self.signposting(url, graph, plain)
            self.linkset(url, sp)
            self.landing_page(url, sp)
        except Exception as error:  # a request or a header that fails is the finding
            self.check(False, "crawl", url, "checked to the end", repr(error))
            return None
        self.records[url] = graph
        self.merged += graph
        return graph

    def negotiation(self, url):
        plain = self.client.get(url)
        self.check(plain.status_code == 200 and fairweb.media_type(plain) == "text/turtle",
                   "conneg", url, "without Accept: text/turtle", status(plain))
        self.check("accept" in plain.headers.get("Vary", "").lower(),
                   "conneg", url, "Vary: Accept", plain.headers.get("Vary"))
        anything = self.client.get(url, "*/*")
        self.check(fairweb.media_type(anything) == "text/turtle",
                   "conneg", url, "Accept */*: text/turtle", status(anything))
        graphs = {}
        for media in fairweb.RDF_MEDIA_TYPES:
            answer = self.client.get(url, media)
            served = answer.status_code == 200 and fairweb.media_type(answer) == media
            served &= "accept" in answer.headers.get("Vary", "").lower()
            if not self.check(served, "conneg", url, f"Accept {media}: 200 {media}, Vary: Accept",
                              f"{status(answer)}, Vary {answer.headers.get('Vary')}"):
                continue
            try:
                graph = fairweb.parse_rdf(answer.text, media, url)
            except Exception as error:  # any parser error is the finding
                self.check(False, "conneg", url, f"{media} parses offline", error)
                continue
            if self.check((URIRef(url), None, None) in graph, "conneg", url,
                          f"{media} parses offline and describes the record",
                          f"no triple about <{url}> in {len(graph)}"):
                graphs[media] = graph
        turtle = graphs.get("text/turtle")
        same = turtle is not None and len(graphs) == len(fairweb.RDF_MEDIA_TYPES)
        same = same and all(isomorphic(turtle, g) for g in graphs.values())
        self.check(same, "conneg", url, "Turtle, JSON-LD and RDF/XML hold one same graph",
                   {m: len(g) for m, g in graphs.items()})
        preferred = self.client.get(url, "text/turtle;q=0.2, application/rdf+xml;q=0.9")
        self.check(fairweb.media_type(preferred) == "application/rdf+xml", "conneg", url,
                   "the type of higher q wins", status(preferred))
        refused = self.client.get(url, "application/ld+json;q=0, text/turtle;q=0.5")
        self.check(fairweb.media_type(refused) == "text/turtle", "conneg", url,
                   "q=0 excludes a type", status(refused))
        for media in UNSERVABLE:
            answer = self.client.get(url, media)
            self.check(answer.status_code == 406 and "text/turtle" in answer.text, "conneg", url,
                       f"Accept {media}: 406 naming the types there are",
                       f"{status(answer)} {answer.text[:200]!r}")
        return turtle, plain

    def signposting(self, url, graph, plain):
        head = self.client.head(url)
        link = plain.headers.get("Link", "")
        self.check(head.status_code == 200 and head.headers.get("Link") == link,
                   "signposting-1", url, "HEAD: 200 with the Link header of GET",
                   f"{head.status_code} {head.headers.get('Link')!r}")
        sp = signposting.find_signposting_http_link([link], url) if link else signposting.Signposting(url)

        cite_as = of_rel(sp, "cite-as")
        self.check(len(cite_as) == 1, "signposting-1", url, "one cite-as", triples(cite_as))
        if cite_as and fairweb.is_loopback(cite_as[0].target):
            page = self.client.get(str(cite_as[0].target), "text/html")
            self.check(page.status_code == 200 and fairweb.media_type(page) == "text/html",
                       "signposting-1", url, "cite-as resolves to the HTML landing page", status(page))

        described = of_rel(sp, "describedby")
        self.check(described and all(s.type for s in described), "signposting-1", url,
                   "describedby links, each with its type", triples(described))
        for s in described:
            media = bare(s.type)
            if media not in fairweb.RDF_MEDIA_TYPES or not fairweb.is_loopback(s.target):
                continue
            answer = self.client.get(str(s.target), media)
            try:
                same = (answer.status_code == 200 and fairweb.media_type(answer) == media
                        and isomorphic(fairweb.parse_rdf(answer.text, media, url), graph))
            except Exception as error:  # any parser error is the finding
                same = False
                answer = error
            self.check(same, "signposting-1", url,
                       f"describedby {s.target} answers {media} with the record's graph",
                       status(answer) if isinstance(answer, requests.Response) else answer)

        kinds = {str(s.target) for s in of_rel(sp, "type")}
        self.check(SCHEMA + "AboutPage" in kinds
                   and any(k.startswith(SCHEMA) and k != SCHEMA + "AboutPage" for k in kinds),
                   "signposting-1", url, "type: a schema.org type and AboutPage", kinds)

        licences = {str(s.target) for s in of_rel(sp, "license")}
        declared = {str(o) for o in graph.objects(URIRef(url), DCT.license)}
        self.check(licences and (not declared or licences == declared), "signposting-1", url,
                   "license: the record's dct:license", f"Link {licences}, RDF {declared}")

        items = of_rel(sp, "item")
        self.check(all(s.type for s in items), "signposting-1", url,
                   f"{len(items)} items, each with its type", triples(items))
        for s in items:
            if s.type and fairweb.is_loopback(s.target):
                answer = self.client.get(str(s.target), bare(s.type))
                self.check(answer.status_code == 200
                           and fairweb.media_type(answer) == bare(s.type), "signposting-1", url,
                           f"item {s.target} answers 200 {bare(s.type)}", status(answer))
        return sp

    def linkset(self, url, sp):
        advertised = [s for s in of_rel(sp, "linkset")
                      if bare(s.type) == "application/linkset+json"]
        self.check(advertised, "signposting-2", url, "a linkset of type application/linkset+json",
                   triples(of_rel(sp, "linkset")))
        own = triples(s for s in sp.signposts if str(s.rel) != "linkset")
        negotiated = self.client.get(url, "application/linkset+json")
        for s in advertised:
            answer = self.client.get(str(s.target), "application/linkset+json")
            try:
                entries = answer.json()["linkset"]
                if not (isinstance(entries, list) and all(isinstance(e, dict) for e in entries)):
                    raise ValueError("linkset is not a list of objects")
            except (ValueError, KeyError, TypeError) as error:
                self.check(False, "signposting-2", url, f"linkset {s.target} is RFC 9264 JSON",
                           f"{status(answer)}: {error}")
                continue
            self.check(answer.status_code == 200
                       and fairweb.media_type(answer) == "application/linkset+json",
                       "signposting-2", url, f"linkset {s.target}: 200 application/linkset+json",
                       status(answer))
            anchored = {}
            for entry in entries:
                anchor = urllib.parse.urljoin(str(s.target), entry.get("anchor", str(s.target)))
                for rel, targets in entry.items():
                    if rel == "anchor" or not (rel in SIGNPOSTS or ":" in rel):
                        continue
                    for target in as_list(targets):
                        if not isinstance(target, dict):
                            target = {"href": f"(not an object: {target!r})"}
                        anchored.setdefault(anchor, set()).add(
                            (rel, urllib.parse.urljoin(anchor, target.get("href", "")),
                             bare(target.get("type")) or None))
            self.check(anchored.get(url) == own, "signposting-2", url,
                       "the linkset entry of the record repeats its Link header",
                       f"linkset {sorted(anchored.get(url, set()) ^ own)} differ")
            for item in of_rel(sp, "item"):
                back = {t for r, t, _ in anchored.get(str(item.target), set()) if r == "collection"}
                self.check(url in back, "signposting-2", url,
                           f"item {item.target} anchored, rel=collection back to the record", back)
            self.check(negotiated.status_code == 200 and negotiated.content == answer.content,
                       "signposting-2", url,
                       "Accept application/linkset+json on the record gives this linkset",
                       status(negotiated))

    def landing_page(self, url, sp):
        page = self.client.get(url, "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8")
        if not self.check(page.status_code == 200 and fairweb.media_type(page) == "text/html",
                          "landing", url, "a browser gets HTML", status(page)):
            return
        head = HeadLinks(url)
        head.feed(page.text)
        rels = {"cite-as", "describedby", "item", "license", "linkset"}
        in_html = {link for link in head.links if link[0] in rels}
        in_header = {link for link in triples(sp.signposts) if link[0] in rels}
        self.check(any(r == "cite-as" for r, _, _ in in_html) and in_html == in_header,
                   "landing", url, "<link> cite-as, describedby, item, license, linkset as in the Link header",
                   f"differ: {sorted(in_html ^ in_header)}")

        try:
            blocks = extruct.extract(page.text, base_url=url, syntaxes=["json-ld"])["json-ld"]
        except Exception as error:  # any extraction error is the finding
            self.check(False, "landing", url, "JSON-LD blocks extract", error)
            return
        main = [b for b in blocks if isinstance(b, dict) and b.get("@id") == url]
        if not self.check(len(main) == 1, "landing", url, "one schema.org JSON-LD block about the page",
                          f"{len(blocks)} blocks, {len(main)} with @id {url}"):
            return
        node = main[0]
        linked = {str(s.target).removeprefix(SCHEMA) for s in of_rel(sp, "type")} - {"AboutPage"}
        kinds = schema_types(node)
        self.check(kinds and kinds == linked, "landing", url,
                   f"JSON-LD @type {'/'.join(sorted(kinds))} is the Link rel=type",
                   f"JSON-LD {kinds}, Link {linked}")
        try:
            rdf = fairweb.parse_rdf(json.dumps(node), "application/ld+json", url)
            typed = all((URIRef(url), RDF.type, URIRef(SCHEMA + k)) in rdf for k in kinds)
            self.check(typed, "landing", url, "JSON-LD parses offline to schema.org RDF",
                       f"{len(rdf)} triples")
        except Exception as error:  # any parser error is the finding
            self.check(False, "landing", url, "JSON-LD parses offline to schema.org RDF", error)
        if kinds & {"Dataset", "DataCatalog"}:
            self.check(str(node.get("name") or "").strip() and str(node.get("description") or "").strip(),
                       "landing", url, "schema.org name and description", node.keys())
        downloads = [d for d in as_list(node.get("distribution")) if isinstance(d, dict)]
        if "DataDownload" in kinds:
            downloads.append(node)
            items = {str(s.target) for s in of_rel(sp, "item")}
            self.check(str(node.get("contentUrl")) in items, "landing", url,
                       "DataDownload contentUrl is the Link rel=item", f"{node.get('contentUrl')} {items}")
        if "Dataset" in kinds or "DataDownload" in kinds:
            self.check(all(d.get("contentUrl") and d.get("encodingFormat") for d in downloads),
                       "landing", url,
                       f"{len(downloads)} DataDownloads, each with contentUrl and encodingFormat",
                       [d for d in downloads if not (d.get("contentUrl") and d.get("encodingFormat"))])

    # -- the catalogue ------------------------------------------------------

    def catalogue(self):
        root = URIRef(self.root)
        self.check((root, RDF.type, FDPO.FAIRDataPoint) in self.merged
                   and (root, RDF.type, DCAT.Catalog) in self.merged,
                   "catalogue", self.root, "an fdp-o:FAIRDataPoint and a dcat:Catalog",
                   set(self.merged.objects(root, RDF.type)))
        containers = sorted(set(self.merged.subjects(RDF.type, LDP.DirectContainer)))
        self.check(any((c, LDP.membershipResource, root) in self.merged
                       and self.merged.value(c, LDP.hasMemberRelation) is not None
                       for c in containers),
                   "catalogue", self.root, "LDP DirectContainer navigation from the root",
                   containers)
        for container in containers:
            of = self.merged.value(container, LDP.membershipResource)
            relation = self.merged.value(container, LDP.hasMemberRelation)
            listed = set(self.merged.objects(container, LDP.contains))
            members = set(self.merged.objects(of, relation)) if of and relation else None
            self.check(members is not None and listed == members, "catalogue", str(container),
                       f"the container lists exactly the {relation and relation.n3(self.merged.namespace_manager)} of {of}",
                       f"contains {len(listed)}, members {members and len(members)}")

    def downloads(self):
        for dist in sorted(set(self.merged.subjects(RDF.type, DCAT.Distribution))):
            urls = sorted(str(u) for u in self.merged.objects(dist, DCAT.downloadURL))
            for url in urls:
                if fairweb.is_loopback(url):
                    self.download(dist, url)
            for url in sorted(str(u) for u in self.merged.objects(dist, DCAT.accessURL)):
                if url not in urls and fairweb.is_loopback(url):
                    self.access(dist, url)

    def download(self, dist, url):
        g = self.merged
        try:
            answer = self.client.get(url)
        except requests.RequestException as error:
            self.check(False, "download", url, "answers", error)
            return
        body = answer.content
        self.check(answer.status_code == 200, "download", url, "200", status(answer))
        checksums = sorted(g.objects(dist, SPDX.checksum))
        self.check(checksums, "download", url, "its distribution has an spdx:checksum", dist)
        for checksum in checksums:
            algorithm = str(g.value(checksum, SPDX.algorithm) or "")
            name = algorithm.removeprefix(SPDX_ALGORITHM) if algorithm.startswith(SPDX_ALGORITHM) else None
            expected = str(g.value(checksum, SPDX.checksumValue) or "").lower()
            if not self.check(name in SPDX_HASHES, "download", url,
                              f"spdx:algorithm {name or algorithm or '(none)'} is one this check knows",
                              algorithm):
                continue
            digest = SPDX_HASHES[name]()
            digest.update(body)
            self.check(digest.hexdigest() == expected, "download", url,
                       f"{name} digest equals spdx:checksumValue",
                       f"computed {digest.hexdigest()}, spdx:checksumValue {expected}")
        size = g.value(dist, DCAT.byteSize)
        self.check(size is not None and str(size).isdigit() and int(str(size)) == len(body),
                   "download", url, f"{len(body)} bytes, as dcat:byteSize says", f"dcat:byteSize {size}")
        for media in sorted(media_of(g, dist)):
            self.check(fairweb.media_type(answer) == media, "download", url,
                       f"Content-Type {media}, as dcat:mediaType says", status(answer))
        back = signposting.find_signposting_http_link([answer.headers.get("Link", "")], url) \
            if answer.headers.get("Link") else signposting.Signposting(url)
        landing = [str(s.target) for s in of_rel(back, "collection")]
        self.check(landing and all(fairweb.is_loopback(t) for t in landing), "download", url,
                   "Link rel=collection back to its landing page", answer.headers.get("Link"))
        self.digests(url, answer)
        for ident in sorted(str(i) for i in g.objects(dist, DCT.identifier)):
            if ident.startswith("ni:"):
                self.named_information(url, ident, body)

    def digests(self, url, answer):
        encoded = answer.headers.get("Content-Encoding", "identity").lower() != "identity"
        for header in ("Repr-Digest", "Content-Digest"):
            value = answer.headers.get(header)
            if value is None or (header == "Content-Digest" and encoded):
                continue
            members = structured_dictionary(value)
            self.check(members and all(name in HTTP_DIGESTS for name in members), "digest", url,
                       f"{header} uses registered algorithms only", value)
            for name, got in sorted(members.items()):
                if name in HTTP_DIGESTS:
                    self.check(got == HTTP_DIGESTS[name](answer.content).digest(), "digest", url,
                               f"{header} {name} matches the bytes", value)

    def named_information(self, url, ident, body):
        match = re.fullmatch(r"ni://([^/]*)/([^;]+);([A-Za-z0-9_-]+)(\?.*)?", ident)
        if not self.check(match and match.group(2) in NI_BITS, "ni", url,
                          f"{ident} is an RFC 6920 name of a sha-256 digest", ident):
            return
        authority, algorithm, value = match.group(1), match.group(2), match.group(3)
        digest = hashlib.sha256(body).digest()[: NI_BITS[algorithm] // 8]
        try:
            named = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        except ValueError:
            named = None
        self.check(named == digest, "ni", url, f"{ident} names these bytes", value)
        base = f"http://{authority}/" if authority else self.root
        well_known = urllib.parse.urljoin(base, f"/.well-known/ni/{algorithm}/{value}")
        try:
            answer = self.client.get(well_known)
        except (requests.RequestException, fairweb.NotLoopback) as error:
            self.check(False, "ni", url, f"{well_known} resolves", error)
            return
        self.check(answer.status_code == 200
                   and hashlib.sha256(answer.content).digest()[: len(digest)] == digest,
                   "ni", url, f"{well_known} answers these bytes", status(answer))

    def access(self, dist, url):
        try:
            answer = self.client.get(url)
        except requests.RequestException as error:
            self.check(False, "access", url, "answers", error)
            return
        media = media_of(self.merged, dist)
        self.check(answer.status_code == 200 and (not media or fairweb.media_type(answer) in media),
                   "access", url, f"200 {'/'.join(sorted(media)) or 'any type'}, as dcat:mediaType says",
                   status(answer))

    def shacl(self, profiles):
        for profile in profiles:
            outcome = shacl_check.validate(self.merged, profile)
            self.check(outcome.passed, "shacl", profile,
                       f"no violations ({outcome.figures()})",
                       "\n".join(r for r in outcome.results if r.startswith("  violation")))
            unreached = sorted(u for u in self.records if URIRef(u) not in outcome.focus_nodes)
            self.check(not unreached, "shacl", profile,
                       f"each of the {len(self.records)} records is a focus node", unreached)

    def run(self, profiles):
        reached, skipped = fairweb.crawl(self.root, self.record)
        for url in skipped:
            print(f"SKIP [crawl] {url}: not on loopback, not followed")
        self.check(len(self.records) == len(reached), "crawl", self.root,
                   f"{len(reached)} records reached from the root, each readable",
                   sorted(set(reached) - set(self.records)))
        self.catalogue()
        self.downloads()
        self.shacl(profiles)


def main():
    parser = argparse.ArgumentParser(description="FAIR checks of a catalogue served on loopback.")
    parser.add_argument("root", help="the catalogue's root URL, on a loopback address")
    parser.add_argument("--shacl-profiles", default="fdp-v2,dcat-ap",
                        help=f"comma-separated, of: {', '.join(shacl_check.PROFILES)}")
    parser.add_argument("--no-shacl", action="store_true")
    args = parser.parse_args()
    if not fairweb.is_loopback(args.root):
        parser.error(f"{args.root} is not on a loopback address; only those are checked")
    profiles = [] if args.no_shacl else args.shacl_profiles.split(",")
    unknown = [p for p in profiles if p not in shacl_check.PROFILES]
    if unknown:
        parser.error(f"unknown profile {unknown[0]!r}; known: {', '.join(shacl_check.PROFILES)}")
    tally = Tally()
    CatalogueCheck(args.root, tally).run(profiles)
    print(tally.closing_line())
    sys.exit(1 if tally.failed else 0)


if __name__ == "__main__":
    main()
