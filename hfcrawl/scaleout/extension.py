"""This process's part in a shared run: it joins, keeps its tag alive, takes
work, takes over dead workers, and closes when the whole run has nothing left.

Scrapy pulls from the scheduler only after an answer or on its 5-second
heartbeat; a worker whose own work ran out would wait that long for requests
other workers queue. So a poll loop (``HFCRAWL_REDIS_POLL`` seconds) hands the
engine a request from the queue whenever it has room, and closes the spider
(reason ``finished``) as soon as it is idle and the run is finished; for a
spider that follows a frontier, once it is also done (``levels.py``).
"""

from __future__ import annotations

import logging
import os
import time
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.exceptions import DontCloseSpider, NotConfigured
from scrapy.utils.defer import deferred_from_coro
from scrapy_redis.connection import get_redis_from_settings
from twisted.internet.task import LoopingCall

from hfcrawl.bases.following import FollowingSpider
from hfcrawl.outcome import EXIT_INCOMPLETE
from hfcrawl.pipelines.export import part_options
from hfcrawl.runs import run_dir, run_id
from hfcrawl.scaleout import enabled
from hfcrawl.scaleout.lease import LeaseTracker
from hfcrawl.scaleout.levels import SharedLevels
from hfcrawl.scaleout.run import LostTag, RedisRun

if TYPE_CHECKING:
    from typing import Self

    from scrapy import Request
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)


def shared(crawler: Crawler, join: bool = True) -> ScaleOutExtension:
    ext = crawler.get_extension(ScaleOutExtension)
    if ext is None:
        raise RuntimeError("REDIS_URL is set but the ScaleOutExtension is not enabled")
    if join:
        ext.join()
    return ext


def fatal(exc: LostTag) -> None:
    """Another worker took this one for dead and took its files over: writing
    one more row could lose it, so stop at once."""
    logger.critical("%s: stopping now", exc)
    logging.shutdown()
    os._exit(EXIT_INCOMPLETE)


class ScaleOutExtension:
    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        assert crawler.spider is not None
        self.crawler = crawler
        ttl = settings.getfloat("HFCRAWL_REDIS_WORKER_TTL", 30.0)
        self.poll = settings.getfloat("HFCRAWL_REDIS_POLL", 0.2)
        self.prefetch = max(settings.getint("HFCRAWL_REDIS_PREFETCH", 4), 1)
        self._empty_until = 0.0
        self.beat = ttl / 5
        self.run = RedisRun(
            get_redis_from_settings(settings),
            f"hfcrawl:{crawler.spider.name}:{run_id(crawler)}",
            run_dir(crawler),
            part_options(crawler),
            ttl,
        )
        self.run.redis.ping()  # fails the start at once when Redis is not there
        self.tracker = LeaseTracker(crawler, self.run)
        self.levels = (
            SharedLevels(crawler, self.run)
            if isinstance(crawler.spider, FollowingSpider)
            else None
        )
        self.queue: Any = None  # scrapy-redis' FifoQueue, once the scheduler opens
        self.scheduler: Any = None
        self.opened = False
        self.closing = False
        self._next_beat = self._next_reap = 0.0
        self.loop = LoopingCall(self.tick)
        crawler.signals.connect(self.spider_opened, signals.spider_opened)
        crawler.signals.connect(self.spider_idle, signals.spider_idle)
        crawler.signals.connect(self.spider_closed, signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        if not enabled(crawler.settings):
            raise NotConfigured
        return cls(crawler)

    def join(self) -> None:
        """Join the run, as late as can be: when the spider opens (the first
        component to need the tag asks), so that a slow start-up is not taken
        for a dead worker."""
        if self.run.tag:
            return
        self.run.join()
        self.loop.start(self.poll, now=False)

    def spider_opened(self) -> None:
        self.opened = True

    def spider_closed(self, reason: str) -> None:
        self.opened = False

    def take(self) -> Request | None:
        """A request moved from the queue to this worker's leases, or None.

        A few are taken at once (``HFCRAWL_REDIS_PREFETCH``; the others wait
        in the scheduler's local queue, leased); after an empty answer the
        queue is not asked again before the next poll."""
        now = time.monotonic()
        if now < self._empty_until:
            return None
        try:
            taken = self.run.pop(self.prefetch)
        except LostTag as exc:
            fatal(exc)
        if not taken:
            self._empty_until = now + self.poll
            return None
        requests = [
            self.tracker.lease(self.queue._decode_request(data), data) for data in taken
        ]
        self.scheduler.local.extend(requests[1:])
        return requests[0]

    def _take_now(self) -> Request | None:
        self._empty_until = 0.0
        return self.take()

    def spider_idle(self) -> None:
        if not self.run.finished() or (
            self.levels is not None and self.levels.done() is None
        ):
            raise DontCloseSpider

    def tick(self) -> None:
        now = time.monotonic()
        try:
            if now >= self._next_beat:
                self.run.heartbeat()
                self._next_beat = now + self.beat
            self.run.flush_acks()
            if now >= self._next_reap:
                self.run.take_over_dead()
                self._next_reap = now + max(self.poll, 1.0)
        except LostTag as exc:
            fatal(exc)
        engine = self.crawler.engine
        if not self.opened or self.closing or engine is None or self.queue is None:
            return
        if (
            not engine.needs_backout()
            and not self.scheduler.local
            and self.run.queued()
            and (request := self._take_now()) is not None
        ):
            engine.crawl(request)  # it stays in this process: it has a lease
            return
        if not (engine.spider_is_idle() and self.run.finished()):
            return
        try:
            reason = (
                "finished"
                if self.levels is None
                else self.levels.at_rest(self.scheduler)
            )
        except LostTag as exc:
            fatal(exc)
        if reason:
            self.closing = True
            deferred_from_coro(engine.close_spider_async(reason=reason))

    def leave(self, stats: dict[str, Any]) -> int:
        """Stop the loop and leave the run; the workers still in it."""
        if self.loop.running:
            self.loop.stop()
        if not self.run.tag:
            return 0
        return self.run.leave(stats)
