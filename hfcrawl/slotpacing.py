"""Download slots whose delay counts from the previous answer, not its start.

Scrapy spaces the requests of a slot by its delay from the moment each was
handed to the download handler. The server sees a request later than that, by
however long its connection took to open: a first request on a new connection
arrives late, the next one on the open connection does not, and the two arrive
less than the delay apart (measured: 2.96 s of a 3 s delay). For a slot that
serves a limit set by the server (arXiv's one request every 3 seconds), the
delay must count from something that comes after the server saw the request:
its answer. ``AnswerPacedSlots`` moves the slot's last-seen time to the moment
each answer arrives, in the ``response_downloaded`` signal, which Scrapy sends
before it picks the slot's next request (as AutoThrottle does with the delay).

A request that fails without an answer (a reset, a timeout) leaves the slot's
time at its start. Slots: ``HFCRAWL_ANSWER_PACED_SLOTS`` (``["arxiv"]``).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from scrapy import signals

if TYPE_CHECKING:
    from typing import Self

    from scrapy import Request, Spider
    from scrapy.crawler import Crawler
    from scrapy.http import Response


MARGIN = 0.05  # seconds


class AnswerPacedSlots:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.slots = frozenset(crawler.settings.getlist("HFCRAWL_ANSWER_PACED_SLOTS"))
        crawler.signals.connect(self.answered, signal=signals.response_downloaded)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def answered(self, response: Response, request: Request, spider: Spider) -> None:
        key = request.meta.get("download_slot")
        if not isinstance(key, str) or key not in self.slots or not self.crawler.engine:
            return
        slot = self.crawler.engine.downloader.slots.get(key)
        if slot is not None:
            # the clock Scrapy's downloader keeps its slots' times in, plus a
            # margin: timers fire to within a few milliseconds, and a limit of
            # "one request every 3 s" must hold to the millisecond at the server
            slot.lastseen = time.monotonic() + MARGIN
