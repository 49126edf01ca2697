"""When a request taken from the shared queue is done: every row it gave is
written, every request it gave is queued.

Plain scrapy-redis pops a request and forgets it: a worker killed while the
request is in flight, or while its rows are still on their way to disk, loses
it. Here a popped request stays in its worker's ``leases:<tag>`` list until it is
done, and goes back to the queue if the worker dies (``run.py``).

Done means: the callback (or errback) has run to its end, and each item it
gave has left the item pipelines (``item_scraped``, ``item_dropped`` or
``item_error``: the export pipeline has put the rows in its write-ahead log by
then). Requests a callback yields were pushed to Redis as they were yielded.
The callback and errback are wrapped to see the end of their output: errback
output never passes through spider middlewares, so a middleware could not. A
copy of the request (a retry, a redirect, a callback asking again for a bad
body) carries the same lease in its meta, stays in this process and counts as
one more thing to wait for.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

from scrapy import Request, signals
from scrapy.utils.asyncgen import as_async_generator
from scrapy.utils.defer import ensure_awaitable
from scrapy.utils.spider import iterate_spider_output

from hfcrawl.scaleout import LEASE

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from twisted.python.failure import Failure

    from hfcrawl.scaleout.run import RedisRun

logger = logging.getLogger(__name__)


class Lease:
    """One request taken from the queue, until it is done."""

    __slots__ = ("callback", "data", "errback", "pending", "tracker")

    def __init__(
        self,
        tracker: LeaseTracker,
        data: bytes,
        callback: Callable[..., Any] | None,
        errback: Callable[..., Any] | None,
    ) -> None:
        self.tracker = tracker
        self.data = data
        self.callback = callback
        self.errback = errback
        self.pending = 1  # the request's own answer

    def on_response(self, response: Any, **kwargs: Any) -> AsyncIterator[Any]:
        callback = self.callback or self.tracker.default_callback()
        return self._follow(callback(response, **kwargs))

    def on_failure(self, failure: Failure) -> Any:
        if self.errback is None:
            self.tracker.settle(self)  # nothing comes of it
            return failure
        return self._follow(self.errback(failure))

    async def _follow(self, output: Any) -> AsyncIterator[Any]:
        try:
            result = await ensure_awaitable(iterate_spider_output(output))
            async for out in as_async_generator(result):
                if isinstance(out, Request):
                    if out.meta.get(LEASE) is self:
                        self.pending += 1  # a copy of this request: asked again
                elif out is not None:
                    self.pending += 1  # an item: done once out of the pipelines
                yield out
        finally:
            self.tracker.settle(self)


class LeaseTracker:
    """Leases of this process; acknowledges each in Redis once it is done."""

    def __init__(self, crawler: Crawler, run: RedisRun) -> None:
        self.crawler = crawler
        self.run = run
        self.held = 0
        for signal in (signals.item_scraped, signals.item_dropped, signals.item_error):
            crawler.signals.connect(self.item_done, signal=signal)

    def default_callback(self) -> Callable[..., Any]:
        spider = self.crawler.spider
        assert spider is not None
        return spider._parse

    def lease(self, request: Request, data: bytes) -> Request:
        """Wrap a request popped from the queue (encoded as ``data``)."""
        lease = Lease(self, data, request.callback, request.errback)
        request.callback = lease.on_response
        request.errback = lease.on_failure
        request.meta[LEASE] = lease
        self.held += 1
        return request

    def item_done(self, item: Any, response: Any = None, **kwargs: Any) -> None:
        request = getattr(response, "request", None)
        lease = request.meta.get(LEASE) if request is not None else None
        if isinstance(lease, Lease):
            self.settle(lease)

    def settle(self, lease: Lease) -> None:
        lease.pending -= 1
        if lease.pending == 0:
            self.run.ack(lease.data)
            self.held -= 1
