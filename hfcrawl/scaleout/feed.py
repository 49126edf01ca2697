"""The feed: the spider's own ``start()``, run by one process of the run.

The first process in takes the feed and runs ``start()`` through the shared
scheduler (its requests go to the queue, its items to its own run folder
parts); the others wait (taking work meanwhile) until it is done, and take the
feed over if its process dies first. A feed run again from its beginning gives
requests the shared dupefilter has seen and rows whose keys are written, so
nothing is asked or written twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from hfcrawl.scaleout import enabled
from hfcrawl.scaleout.extension import fatal, shared
from hfcrawl.scaleout.run import LostTag

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)


class FeedMiddleware:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    async def process_start(self, start: AsyncIterator[Any]) -> AsyncIterator[Any]:
        if not enabled(self.crawler.settings):
            async for item in start:
                yield item
            return
        ext = shared(self.crawler)
        waiting = False
        while True:
            try:
                role = ext.run.take_feed()
            except LostTag as exc:
                fatal(exc)
            if role == "fed":
                return
            if role == "feed":
                break
            if not waiting:
                logger.info("another worker feeds the run; taking its work")
                waiting = True
            await asyncio.sleep(ext.poll)
        seeded = ext.run.seed_keys()
        if seeded:
            logger.info("%d row keys of the run folder count as written", seeded)
        logger.info("worker %s feeds the run", ext.run.tag)
        async for item in start:
            yield item
        ext.run.fed()
