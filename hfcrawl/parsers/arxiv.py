"""arXiv ids as people write them, and the arXiv export API's Atom feeds.

Ids: new style ``YYMM.NNNN`` / ``YYMM.NNNNN`` (2007 on) and old style
``archive[.SC]/YYMMNNN``, each with an optional ``vN``; ``arXiv:`` prefixes and
``arxiv.org/abs|pdf/...`` URLs are accepted. Only the shape is checked here, so
that text which cannot be an id costs no request; arXiv's own rules are the
authority for the rest (its 400 answers, hub-api.md §12).

The feed (Atom 1.0, hub-api.md §12) is read with the standard library's
ElementTree, through defusedxml (already Scrapy's dependency): the documents are
small (100 entries at most) and plainly namespaced, but they come off the network,
and defusedxml refuses entity expansion and external references.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from defusedxml.ElementTree import fromstring

from hfcrawl.coerce import to_datetime
from hfcrawl.items import Paper

ATOM: Final = "{http://www.w3.org/2005/Atom}"
ARXIV: Final = "{http://arxiv.org/schemas/atom}"
OPENSEARCH: Final = "{http://a9.com/-/spec/opensearch/1.1/}"

_NEW = re.compile(r"(\d{4}\.\d{4,5})(?:v(\d+))?")
_OLD = re.compile(r"([a-z][a-z-]*(?:\.[A-Z]{2})?/\d{7})(?:v(\d+))?")
_PREFIX = re.compile(r"^arxiv:\s*", re.IGNORECASE)
_URL = re.compile(
    r"^(?:https?://)?(?:www\.|export\.)?arxiv\.org/(?:abs|pdf)/(.+?)(?:\.pdf)?/?$",
    re.IGNORECASE,
)
_ENTRY_ID = re.compile(r"/abs/(.+)$")
_BAD_ID = re.compile(r"^incorrect id format for (.+)$")


@dataclass(frozen=True, slots=True)
class ArxivId:
    id: str  # without version: the key of a paper
    version: int | None = None

    @property
    def query(self) -> str:
        """The id as sent in ``id_list``: with its version when one was asked."""
        return f"{self.id}v{self.version}" if self.version else self.id


def parse_arxiv_id(text: str) -> ArxivId:
    """The arXiv id in ``text``; ``ValueError`` saying why when there is none."""
    value = text.strip()
    url = _URL.match(value)
    if url:
        value = url.group(1)
    value = _PREFIX.sub("", value)
    for pattern in (_NEW, _OLD):
        found = pattern.fullmatch(value)
        if found:
            version = int(found.group(2)) if found.group(2) else None
            if version == 0:
                raise ValueError(f"not an arXiv id: {text!r}: versions start at v1")
            return ArxivId(found.group(1), version)
    raise ValueError(
        f"not an arXiv id: {text!r}: expected YYMM.NNNNN or archive/YYMMNNN"
        " (an optional vN, arXiv: prefix or arxiv.org URL)"
    )


def canonical_arxiv_id(text: str) -> str | None:
    """The arXiv id (without version) that ``text`` names; None if it names none."""
    try:
        return parse_arxiv_id(text).id
    except ValueError:
        return None


def _text(element: ET.Element | None) -> str | None:
    if element is None or element.text is None:
        return None
    # titles and abstracts hold the line breaks of their LaTeX source
    return " ".join(element.text.split()) or None


def _attr(element: ET.Element | None, name: str) -> str | None:
    return None if element is None else element.get(name)


def _date(element: ET.Element | None) -> datetime | None:
    text = _text(element)
    return to_datetime(text) if text else None


@dataclass(slots=True)
class Feed:
    papers: list[Paper]
    errors: list[str]  # the summaries of error entries (a 400's body)
    total: int | None = None


def parse_feed(body: bytes, crawled_at: datetime | None = None) -> Feed:
    """The papers and error messages of a feed; ``ET.ParseError`` when the body
    is not XML (cut short, say)."""
    root = fromstring(body)
    if root.tag != f"{ATOM}feed":
        raise ET.ParseError(f"not an Atom feed: <{root.tag}>")
    papers, errors = [], []
    for entry in root.iter(f"{ATOM}entry"):
        entry_id = _text(entry.find(f"{ATOM}id")) or ""
        if "/api/errors" in entry_id:
            errors.append(_text(entry.find(f"{ATOM}summary")) or entry_id)
            continue
        paper = parse_entry(entry, crawled_at)
        if paper is not None:
            papers.append(paper)
    total_text = _text(root.find(f"{OPENSEARCH}totalResults"))
    total = int(total_text) if total_text and total_text.isdigit() else None
    return Feed(papers, errors, total)


def parse_entry(entry: ET.Element, crawled_at: datetime | None = None) -> Paper | None:
    """One ``<entry>`` as a Paper; None when it carries no arXiv id."""
    found = _ENTRY_ID.search(_text(entry.find(f"{ATOM}id")) or "")
    if not found:
        return None
    try:
        arxiv_id = parse_arxiv_id(found.group(1))
    except ValueError:
        return None
    links = entry.findall(f"{ATOM}link")
    pdf = next((link.get("href") for link in links if link.get("title") == "pdf"), None)
    abs_url = next(
        (link.get("href") for link in links if link.get("rel") == "alternate"), None
    )
    return Paper(
        id=arxiv_id.id,
        version=arxiv_id.version,
        title=_text(entry.find(f"{ATOM}title")),
        abstract=_text(entry.find(f"{ATOM}summary")),
        authors=[
            name
            for author in entry.findall(f"{ATOM}author")
            if (name := _text(author.find(f"{ATOM}name")))
        ],
        categories=[
            term
            for category in entry.findall(f"{ATOM}category")
            if (term := category.get("term"))
        ],
        primary_category=_attr(entry.find(f"{ARXIV}primary_category"), "term"),
        published=_date(entry.find(f"{ATOM}published")),
        updated=_date(entry.find(f"{ATOM}updated")),
        doi=_text(entry.find(f"{ARXIV}doi")),
        journal_ref=_text(entry.find(f"{ARXIV}journal_ref")),
        comment=_text(entry.find(f"{ARXIV}comment")),
        pdf_url=pdf,
        abs_url=abs_url,
        crawled_at=crawled_at,
    )


def rejected_ids(errors: list[str]) -> list[str]:
    """The ids a 400's error entries name (``incorrect id format for X``)."""
    return [m.group(1).strip() for e in errors if (m := _BAD_ID.match(e))]
