"""Replay recorded Hub responses (betamax cassettes) in tests. Test-only.

Two things live here:

- helpers for parser tests that want a real recorded body:
  :func:`load_cassette`, :func:`interaction`, :func:`interaction_body`;
- :class:`CassetteReplayMiddleware`, a Scrapy downloader middleware that
  answers every request from the cassettes and never touches the network.

Enable replay in a crawl's settings::

    DOWNLOADER_MIDDLEWARES = {"tests.replay.CassetteReplayMiddleware": 950}
    REPLAY_CASSETTES = ["model_info", "errors"]  # names in tests/cassettes
    REPLAY_MATCH_ON = ["method", "uri"]  # optional, betamax matcher names

Priority 950 puts it closest to the downloader, after every built-in
downloader middleware. A replayed response therefore goes through
``process_response`` of all of them, so a recorded 307 is followed by
Scrapy's ``RedirectMiddleware`` and the redirected request is matched
against the cassettes again.

Matching is betamax's own: each Scrapy request becomes a
``requests.PreparedRequest`` and ``Cassette.find_match`` runs the
configured matchers from ``betamax.matchers.matcher_registry`` (the
``uri`` matcher compares query parameters regardless of order).
Interactions can be played any number of times. A request with no match
is dropped with ``IgnoreRequest`` and counted in the ``replay/unmatched``
stat; matches are counted in ``replay/matched``.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import requests
from betamax.cassette import Cassette, Interaction
from betamax.matchers import matcher_registry
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Headers, Request, Response
from scrapy.responsetypes import responsetypes

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)

CASSETTE_DIR = Path(__file__).resolve().parent / "cassettes"
DEFAULT_MATCH_ON: tuple[str, ...] = ("method", "uri")
# The body betamax hands back is already decoded, and Scrapy computes its
# own framing, so these recorded headers must not reach Scrapy.
_DROPPED_RESPONSE_HEADERS = frozenset({"content-encoding", "transfer-encoding"})


def load_cassette(
    name: str,
    *,
    match_on: Sequence[str] = DEFAULT_MATCH_ON,
    cassette_dir: Path | str = CASSETTE_DIR,
) -> Cassette:
    """Load ``<cassette_dir>/<name>.json`` read-only, with repeatable playback.

    Raises ``FileNotFoundError`` for a missing cassette (betamax itself
    would silently create an empty file), ``ValueError`` for an unknown
    matcher name or a cassette with no interactions (betamax reads
    invalid JSON as an empty cassette).
    """
    cassette_dir = Path(cassette_dir)
    path = cassette_dir / f"{name}.json"
    if not path.is_file():
        raise FileNotFoundError(f"no cassette {path}")
    unknown = sorted(set(match_on) - set(matcher_registry))
    if unknown:
        raise ValueError(
            f"unknown betamax matcher(s) {unknown}; known: {sorted(matcher_registry)}"
        )
    cassette = Cassette(
        name,
        "json",
        cassette_library_dir=str(cassette_dir),
        record_mode="none",
        allow_playback_repeats=True,
    )
    if not cassette.interactions:
        raise ValueError(f"cassette {path} has no interactions (or is not JSON)")
    # Betamax.use_cassette() normally sets this; with an empty set,
    # find_match() would accept the first interaction for any request.
    cassette.match_options = set(match_on)
    return cassette


@functools.cache
def _shared_cassette(name: str) -> Cassette:
    # Read-only use: with allow_playback_repeats, find_match() mutates nothing.
    return load_cassette(name)


def _prepared(
    method: str, url: str, headers: Any = None, body: Any = None
) -> requests.PreparedRequest:
    return requests.Request(method, url, headers=headers, data=body).prepare()


def interaction(name: str, uri: str, method: str = "GET") -> Interaction:
    """The recorded interaction of cassette ``name`` for ``method uri``.

    Matching is betamax's default (method + uri, query order ignored).
    Raises ``KeyError`` listing the cassette's requests when nothing matches.
    """
    cassette = _shared_cassette(name)
    found = cassette.find_match(_prepared(method, uri))
    if found is None:
        recorded = [
            f"{i.data['request']['method']} {i.data['request']['uri']}"
            for i in cassette.interactions
        ]
        raise KeyError(f"{method} {uri} is not in cassette {name!r}: {recorded}")
    return found


def interaction_body(name: str, uri: str, method: str = "GET") -> str:
    """The recorded response body (text) for ``method uri`` in cassette ``name``."""
    text: str = interaction(name, uri, method).as_response().text
    return text


def response_from_interaction(found: Interaction, request: Request) -> Response:
    """Turn a betamax interaction into a Scrapy response for ``request``."""
    recorded = found.data["response"]
    # as_response() goes through requests/urllib3 exactly as betamax's own
    # playback does (base64 bodies, gzip, Content-Length checks).
    body = found.as_response().content
    headers = Headers()
    for name, values in recorded["headers"].items():
        if name.lower() in _DROPPED_RESPONSE_HEADERS:
            continue
        for value in values if isinstance(values, list) else [values]:
            headers.appendlist(name, value)
    respcls = responsetypes.from_args(headers=headers, url=request.url, body=body)
    return respcls(
        url=request.url,
        status=int(recorded["status"]["code"]),
        headers=headers,
        body=body,
        request=request,
        flags=["replay"],
    )


class CassetteReplayMiddleware:
    """Downloader middleware answering every request from betamax cassettes.

    Settings: ``REPLAY_CASSETTES`` (list of cassette names, required),
    ``REPLAY_MATCH_ON`` (betamax matcher names, default method + uri),
    ``REPLAY_CASSETTE_DIR`` (default ``tests/cassettes``).
    """

    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        self.names: list[str] = settings.getlist("REPLAY_CASSETTES")
        if not self.names:
            raise ValueError(
                "CassetteReplayMiddleware is enabled but REPLAY_CASSETTES is empty"
            )
        self.match_on: list[str] = settings.getlist(
            "REPLAY_MATCH_ON", list(DEFAULT_MATCH_ON)
        )
        cassette_dir = settings.get("REPLAY_CASSETTE_DIR") or CASSETTE_DIR
        self.cassettes: list[Cassette] = [
            load_cassette(name, match_on=self.match_on, cassette_dir=cassette_dir)
            for name in self.names
        ]
        assert crawler.stats is not None
        self.stats: StatsCollector = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CassetteReplayMiddleware:
        return cls(crawler)

    def find(self, request: Request) -> Interaction | None:
        headers = {
            key.decode("latin-1"): b", ".join(values).decode("latin-1")
            for key, values in request.headers.items()
        }
        prepared = _prepared(
            request.method, request.url, headers=headers, body=request.body or None
        )
        for cassette in self.cassettes:
            found = cassette.find_match(prepared)
            if found is not None:
                return found
        return None

    def process_request(self, request: Request) -> Response:
        found = self.find(request)
        if found is None:
            self.stats.inc_value("replay/unmatched")
            message = (
                f"No recorded interaction for {request.method} {request.url}"
                f" in cassettes {self.names} (matching on {self.match_on})"
            )
            logger.warning(message)
            raise IgnoreRequest(message)
        self.stats.inc_value("replay/matched")
        return response_from_interaction(found, request)
