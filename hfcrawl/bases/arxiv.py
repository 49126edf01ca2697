"""Asking arXiv's export API for papers in batches, within arXiv's terms: a base.

Ids are asked for in batches of ``HFCRAWL_ARXIV_BATCH`` (100) through the export
API's ``id_list``, paced by arXiv's terms: one request at a time, three seconds
apart (the ``arxiv`` download slot). A batch that arXiv refuses (400: an id it
finds malformed) is split, so one bad id costs only itself. Answers: ``Paper``
rows, and ``Missed`` rows of kind ``arxiv_paper`` (``not_found``, ``invalid``,
request failures). Used by the ``arxiv`` spider and the whole-graph ``hub``.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit
from xml.etree.ElementTree import ParseError

from scrapy import Request

from hfcrawl.bases.hub import HubSpider
from hfcrawl.items import ItemBatch, Missed
from hfcrawl.parsers.arxiv import ArxivId, parse_arxiv_id, parse_feed, rejected_ids

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from scrapy.settings import BaseSettings
    from twisted.python.failure import Failure

logger = logging.getLogger(__name__)

ARXIV_SLOT = "arxiv"
DEFAULT_ARXIV_ENDPOINT = "https://export.arxiv.org"
MAX_BATCH = 100
# arXiv's terms of use (hub-api.md §12)
MIN_DELAY = 3.0
KIND = "arxiv_paper"


def arxiv_endpoint(settings: BaseSettings) -> str:
    return (settings.get("ARXIV_ENDPOINT") or DEFAULT_ARXIV_ENDPOINT).rstrip("/")


def _loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def ensure_arxiv_slot(settings: BaseSettings) -> None:
    """Give ``DOWNLOAD_SLOTS`` an ``arxiv`` slot that keeps arXiv's terms.

    A slot missing (a ``DOWNLOAD_SLOTS`` of the user's own) gets the terms;
    one that asks for more than they allow is held to them, unless the endpoint
    is on loopback (the tests' fake arXiv). Called from ``update_settings``, before
    the downloader reads the setting.
    """
    slots = {k: dict(v) for k, v in settings.getdict("DOWNLOAD_SLOTS").items()}
    slot = slots.setdefault(ARXIV_SLOT, {})
    slot.setdefault("concurrency", 1)
    slot.setdefault("delay", MIN_DELAY)
    slot.setdefault("jitter", 0.0)
    if not _loopback(arxiv_endpoint(settings)):
        held = {
            "concurrency": 1,
            "delay": max(MIN_DELAY, float(slot["delay"])),
            # jitter would bring some waits under the delay
            "jitter": 0.0,
        }
        if held != {k: slot[k] for k in held}:
            logger.warning("the arxiv download slot is held to arXiv's terms: %s", held)
        slot.update(held)
    priority = settings.getpriority("DOWNLOAD_SLOTS") or 0
    settings.set("DOWNLOAD_SLOTS", slots, priority=priority)


class ArxivRequests(HubSpider):
    """A ``HubSpider`` that asks arXiv for papers (``arxiv_requests``)."""

    arxiv_endpoint: str = DEFAULT_ARXIV_ENDPOINT
    batch_size: int = MAX_BATCH

    @classmethod
    def update_settings(cls, settings: BaseSettings) -> None:
        super().update_settings(settings)
        ensure_arxiv_slot(settings)

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.arxiv_endpoint = arxiv_endpoint(crawler.settings)
        size = crawler.settings.getint("HFCRAWL_ARXIV_BATCH", MAX_BATCH)
        spider.batch_size = min(max(size, 1), MAX_BATCH)
        return spider

    def arxiv_requests(self, ids: Iterable[ArxivId]) -> Iterator[Request]:
        """``ids`` in batches of ``batch_size``."""
        batch: list[ArxivId] = []
        for arxiv_id in ids:
            batch.append(arxiv_id)
            if len(batch) == self.batch_size:
                yield self.batch_request(batch)
                batch = []
        if batch:
            yield self.batch_request(batch)

    # --- the export API -----------------------------------------------------------
    def batch_request(self, batch: list[ArxivId]) -> Request:
        params = [
            ("id_list", ",".join(a.query for a in batch)),
            ("max_results", str(len(batch))),
        ]
        self.crawler.stats.inc_value("hfcrawl/arxiv/batches")
        return Request(
            f"{self.arxiv_endpoint}/api/query?{urlencode(params)}",
            callback=self.parse_batch,
            errback=self.batch_failed,
            # plain strings: requests may be pickled into a JOBDIR queue
            cb_kwargs={"ids": [a.query for a in batch]},
            meta={
                "download_slot": ARXIV_SLOT,
                # AutoThrottle would otherwise move the slot's delay with latency
                "autothrottle_dont_adjust_delay": True,
                "handle_httpstatus_list": [400],
            },
            dont_filter=True,  # a split batch may be asked for again as is
        )

    def parse_batch(self, response: Response, ids: list[str]) -> Iterator[Any]:
        batch = [parse_arxiv_id(i) for i in ids]
        now = self.now()
        try:
            feed = parse_feed(response.body, now)
        except ParseError as exc:
            yield from self._undecodable(response, batch, exc)
            return
        if response.status == 400:
            yield from self._refused(response, batch, feed.errors)
            return
        wanted = {a.id: a for a in batch}
        rows: list[Any] = []
        for paper in feed.papers:
            if wanted.pop(paper.id, None) is None:
                # not asked for, or given twice: arXiv's id_list has done both
                self.crawler.stats.inc_value("hfcrawl/arxiv/unexpected_entries")
                continue
            rows.append(paper)
        rows.extend(
            self._missed(response, a, "not_found", f"arXiv has no paper {a.query}")
            for a in wanted.values()
        )
        yield ItemBatch(rows)

    def _missed(
        self,
        response: Response,
        paper: ArxivId,
        reason: str,
        detail: str,
        attempts: int | None = None,
    ) -> Missed:
        return Missed(
            kind=KIND,
            id=paper.id,
            url=response.url,
            status=response.status,
            reason=reason,
            detail=detail[:500],
            attempts=attempts,
            crawled_at=self.now(),
        )

    def _refused(
        self, response: Response, batch: list[ArxivId], errors: list[str]
    ) -> Iterator[Any]:
        """A 400 refuses the whole batch for its bad ids: those arXiv names are
        answered at once, the rest asked again; without a name, halves."""
        named = set(rejected_ids(errors))
        bad = [a for a in batch if a.query in named or a.id in named]
        if not bad and len(batch) == 1:
            bad = batch
        if bad:
            detail = "; ".join(errors)[:500] or "refused by arXiv (400)"
            yield ItemBatch([self._missed(response, a, "invalid", detail) for a in bad])
            rest = [a for a in batch if a not in bad]
            if rest:
                yield self.batch_request(rest)
            return
        self.crawler.stats.inc_value("hfcrawl/arxiv/splits")
        middle = len(batch) // 2
        yield self.batch_request(batch[:middle])
        yield self.batch_request(batch[middle:])

    def _undecodable(
        self, response: Response, batch: list[ArxivId], problem: Exception
    ) -> Iterator[Any]:
        retry = self.retry_bad_body(response)
        if retry is not None:
            yield retry
            return
        assert response.request is not None
        attempts = response.request.meta.get("retry_times", 0) + 1
        detail = f"undecodable feed: {problem}"
        yield ItemBatch(
            [self._missed(response, a, "error", detail, attempts) for a in batch]
        )

    def batch_failed(self, failure: Failure) -> Iterator[Any]:
        ids = failure.request.cb_kwargs["ids"]  # type: ignore[attr-defined]
        yield ItemBatch([self.missed(failure, KIND, parse_arxiv_id(i).id) for i in ids])
