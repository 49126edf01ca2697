"""scrapy-redis' scheduler with leases: the queue and dupefilter are scrapy-redis'
(``FifoQueue``'s list and encoding, ``RFPDupeFilter``'s fingerprints), the moves
between them are one Redis script each (``run.py``).

- A new request (no lease) is pushed to the shared queue if its fingerprint is
  new to the run, whatever its ``dont_filter``: hfcrawl sets that flag because
  Scrapy's JOBDIR dupefilter cannot be trusted after a kill; the shared one can,
  since a fingerprint is only ever added with its push.
- A request that carries a lease (a retry or redirect of a request this process
  took) stays here, in memory: its lease is still held, and a worker that dies
  gives the original back to the queue.
- ``next_request`` serves those first, then moves one request from the queue to
  this worker's leases.

scrapy-redis' ``PriorityQueue`` is not used: its pop (ZRANGE + ZREMRANGEBYRANK)
cannot move the request to a lease in the same command, and hfcrawl's requests
all have priority 0.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Any

from scrapy_redis.dupefilter import RFPDupeFilter
from scrapy_redis.queue import FifoQueue
from scrapy_redis.scheduler import Scheduler

from hfcrawl.scaleout import LEASE
from hfcrawl.scaleout.extension import shared

if TYPE_CHECKING:
    from typing import Self

    from scrapy import Request, Spider
    from scrapy.crawler import Crawler


class LeasingScheduler(Scheduler):
    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        ext = shared(crawler)
        run = ext.run
        scheduler = cls(
            server=run.redis,
            persist=True,  # the queue is the run's, not this process's
            queue_key=run.key("requests"),
            queue_cls="scrapy_redis.queue.FifoQueue",
            dupefilter=RFPDupeFilter(run.redis, key=run.key("dupefilter")),
        )
        scheduler.stats = crawler.stats
        scheduler.ext = ext
        scheduler.local = deque()
        return scheduler

    def open(self, spider: Spider) -> None:
        super().open(spider)
        self.ext.queue = self.queue
        self.ext.scheduler = self

    def close(self, reason: str) -> None:
        """Nothing to flush: the leases go back in ``RedisRun.leave``."""

    def __len__(self) -> int:
        return len(self.local) + len(self.queue)

    def enqueue_request(self, request: Request) -> bool:
        if LEASE in request.meta:
            self.local.append(request)
            self.stats.inc_value("scheduler/enqueued/leased")
            return True
        queue: FifoQueue = self.queue
        data = queue._encode_request(request)
        if not self.ext.run.push(self.df.request_fingerprint(request), data):
            self.df.log(request, self.spider)
            self.stats.inc_value("scheduler/filtered/redis")
            return False
        self.stats.inc_value("scheduler/enqueued/redis")
        return True

    def next_request(self) -> Request | None:
        if self.local:
            self.stats.inc_value("scheduler/dequeued/leased")
            return self.local.popleft()
        request: Any = self.ext.take()
        if request is not None:
            self.stats.inc_value("scheduler/dequeued/redis")
        return request

    def has_pending_requests(self) -> bool:
        return bool(self.local) or len(self.queue) > 0
