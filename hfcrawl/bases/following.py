"""A spider whose follow-ups are a frontier rebuilt from its run folder (``hfcrawl.frontier``).

A spider on this base declares its ``Follow``s and, for each, how to ask for a
level of references (``follow_requests``). The base keeps the frontier up to date
as rows are written, loads it from the run folder when the crawl starts (after
the export pipeline has recovered a killed session's logs), and when the engine
is idle (every answer so far written) asks for the next level of each follow.
Nothing to follow is ever kept in Scrapy's queue, so a crawl killed at any moment
and rerun ends with the rows of an uninterrupted one.

On a shared run (``REDIS_URL``) no process advances on its own idle: the
run's levels are advanced by one worker at a time, from the whole run folder
(``hfcrawl.scaleout.levels``), through ``load_state``, ``level_requests`` and
``last_requests``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from scrapy import Request, signals
from scrapy.exceptions import DontCloseSpider

from hfcrawl.frontier import Follow, Frontier
from hfcrawl.pipelines.rows import rows_of
from hfcrawl.scaleout import enabled

if TYPE_CHECKING:
    from pathlib import Path
    from typing import Self

    from scrapy.crawler import Crawler


class FollowingSpider:
    """A mixin for a ``HubSpider``: put it first among the bases."""

    frontier: Frontier
    crawler: Crawler

    def follows(self) -> list[Follow]:
        return []

    def follow_requests(
        self, follow: str, level: int, refs: list[str]
    ) -> Iterable[Request]:
        """The requests that answer ``refs`` of ``follow``, found at ``level``."""
        raise NotImplementedError(follow)

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        spider = super().from_crawler(crawler, *args, **kwargs)  # type: ignore[misc]
        spider.frontier = Frontier(spider.follows())
        if not enabled(crawler.settings):
            # on a shared run the levels are computed from the whole run
            # folder (scaleout.levels): this process's rows and idle are not
            crawler.signals.connect(spider.rows_written, signal=signals.item_scraped)
            crawler.signals.connect(spider.next_level, signal=signals.spider_idle)
        return spider

    def load_state(self, folder: Path) -> None:
        """What the spider keeps of the rows written, read afresh from the run
        folder's complete parts: at the start, and on a shared run before each
        level (every worker's rows, not only this one's)."""
        self.frontier = Frontier(self.follows())
        self.frontier.load(folder)

    def rows_written(self, item: Any) -> None:
        self.frontier.observe(rows_of(item))

    def next_level(self) -> None:
        requests = list(self.level_requests()) or list(self.last_requests())
        if not requests:
            return
        engine = self.crawler.engine
        assert engine is not None
        for request in requests:
            engine.crawl(request)
        raise DontCloseSpider

    def level_requests(self) -> Iterator[Request]:
        for follow in self.frontier.names():
            taken = self.frontier.take_level(follow)
            if taken is not None:
                level, refs = taken
                self.crawler.stats.max_value(f"hfcrawl/follow/{follow}/level", level)
                yield from self.follow_requests(follow, level, refs)

    def last_requests(self) -> Iterable[Request]:
        """Asked for once nothing is left to follow (``hub``: the reference
        tables, which count what the graph met)."""
        return ()

    def integrity(self, folder: Path) -> dict[str, Any]:
        """Referential integrity of the run folder, for its manifest: the
        references of each follow that no row and no ``Missed`` row answers
        (``dangling``: 0 when the crawl is complete), read from disk afresh."""
        written = Frontier(self.follows())
        written.load(folder)
        counts = {f: len(written.pending(f)) for f in written.names()}
        examples = sorted(r for f in written.names() for r in written.pending(f))
        return {
            "dangling": sum(counts.values()),
            "by_follow": counts,
            "examples": examples[:20],
        }
