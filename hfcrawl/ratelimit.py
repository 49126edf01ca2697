"""Pacing on the Hub's own quota, and retries that back off.

The Hub counts requests per bucket (``api`` for ``/api/``, ``resolvers`` for
``/resolve/``, ``pages`` for the rest) over fixed windows, and says where each
bucket stands on every response (hub-api.md §8)::

    RateLimit: "api";r=489;t=189
    RateLimit-Policy: "fixed window";"api";q=500;w=300

``HubRateLimitMiddleware`` lets requests go while a bucket has more than
``HFCRAWL_RATELIMIT_RESERVE`` left in its window, so the count never reaches
zero, then holds them until the window ends; after a 429 it holds the bucket for what
``RateLimit`` ``t`` or ``Retry-After`` says (plus ``HFCRAWL_RATELIMIT_MARGIN``)
and sends the request again. AutoThrottle keeps adjusting for latency.
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from scrapy.downloadermiddlewares.retry import RetryMiddleware

from hfcrawl.hub import hub_endpoint

if TYPE_CHECKING:
    from typing import Self

    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response

logger = logging.getLogger(__name__)

NOT_BEFORE = "hfcrawl_not_before"  # request meta: monotonic time to wait for
_RATELIMIT = re.compile(r'"([^"]+)"\s*;\s*r=(\d+)\s*;\s*t=(\d+)')
_POLICY = re.compile(r'"([^"]+)"\s*;\s*q=(\d+)\s*;\s*w=(\d+)')


def bucket_of(path: str) -> str:
    """The Hub's rate-limit bucket of a request path (hub-api.md §8)."""
    if "/resolve/" in path:
        return "resolvers"
    return "api" if path == "/api" or path.startswith("/api/") else "pages"


def backoff(attempt: int, base: float, cap: float) -> float:
    """Exponential backoff with jitter: ~base, 2*base, 4*base... up to cap."""
    return min(cap, base * 2 ** max(attempt - 1, 0)) * random.uniform(0.5, 1.0)


@dataclass
class Bucket:
    """What is known of one quota bucket, and when it may next send.

    Requests go as fast as the crawl makes them while the window has more than
    ``reserve`` left (counting those sent but not yet answered); then they wait
    for the window's end. Spreading them evenly instead would lose throughput
    whenever the crawl is slower than the spread, and the Hub counts windows,
    not rates.
    """

    remaining: int | None = None  # as of the last response
    reset_at: float = 0.0  # monotonic time the window ends (best estimate)
    quota: int | None = None
    window: float | None = None
    unanswered: int = 0  # sent since the last reading, not yet counted in it
    paused_until: float = 0.0  # after a 429
    opens_at: float = 0.0  # requests booked into a coming window wait for it

    def slot(self, now: float, reserve: int, margin: float) -> float:
        """Book the next request; the monotonic time it may be sent."""
        start = max(now, self.paused_until, self.opens_at)
        if self.remaining is not None and start >= self.reset_at:
            self._next_window(start, margin)
        if self.remaining is not None and self.remaining - self.unanswered <= reserve:
            # the window is spent but for the reserve: book into the next one
            self._next_window(self.reset_at, margin)
            start = max(start, self.opens_at)
        self.unanswered += 1
        return start

    def _next_window(self, at: float, margin: float) -> None:
        """Move the booking to the window running at ``at`` (or the next)."""
        if self.quota and self.window:
            windows = int((at - self.reset_at) // self.window) + 1
            self.opens_at = self.reset_at + (windows - 1) * self.window + margin
            self.reset_at += windows * self.window
            # the full quota again, until a response says more
            self.remaining, self.unanswered = self.quota, 0
        else:  # no policy known: one request after the end, then a reading
            self.opens_at = self.reset_at + margin
            self.remaining, self.unanswered = None, 0

    def update(self, now: float, remaining: int, reset_in: int) -> None:
        """A response's reading. ``t`` is whole seconds rounded up, so within a
        window the earliest ``now + t`` seen is the closest to the real end."""
        estimate = now + reset_in
        same_window = (
            self.remaining is not None
            and remaining <= self.remaining
            and estimate <= self.reset_at + 1
        )
        self.reset_at = min(self.reset_at, estimate) if same_window else estimate
        self.remaining = remaining
        self.unanswered = 0


class HubRateLimitMiddleware:
    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        self.host = urlsplit(hub_endpoint(settings)).netloc
        self.reserve = settings.getint("HFCRAWL_RATELIMIT_RESERVE", 1)
        self.margin = settings.getfloat("HFCRAWL_RATELIMIT_MARGIN", 0.5)
        self.max_429 = settings.getint("HFCRAWL_MAX_429_RETRIES", 10)
        self.stats = crawler.stats
        self.buckets: dict[str, Bucket] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def _bucket(self, request: Request) -> Bucket:
        parts = urlsplit(request.url)
        # the Hub's buckets by path; any other host is one bucket of its own
        name = bucket_of(parts.path) if parts.netloc == self.host else parts.netloc
        return self.buckets.setdefault(name, Bucket())

    async def process_request(self, request: Request) -> None:
        now = time.monotonic()
        start = max(now, request.meta.get(NOT_BEFORE, 0.0))
        start = max(start, self._bucket(request).slot(start, self.reserve, self.margin))
        if start > now:
            assert self.stats is not None
            self.stats.inc_value("hfcrawl/ratelimit/waited_seconds", start - now)
            await asyncio.sleep(start - now)

    def process_response(
        self, request: Request, response: Response
    ) -> Request | Response:
        bucket = self._bucket(request)
        now = time.monotonic()
        header = response.headers.get(b"RateLimit")
        reading = _RATELIMIT.search(header.decode("latin-1")) if header else None
        if reading:
            bucket.update(now, int(reading.group(2)), int(reading.group(3)))
        policy = response.headers.get(b"RateLimit-Policy")
        terms = _POLICY.search(policy.decode("latin-1")) if policy else None
        if terms:
            bucket.quota, bucket.window = int(terms.group(2)), float(terms.group(3))
        if response.status != 429:
            return response
        return self._after_429(request, response, bucket, reading, now)

    def _after_429(
        self,
        request: Request,
        response: Response,
        bucket: Bucket,
        reading: re.Match[str] | None,
        now: float,
    ) -> Request | Response:
        assert self.stats is not None
        self.stats.inc_value("hfcrawl/ratelimit/429")
        tries = request.meta.get("hfcrawl_429_retries", 0) + 1
        retry_after = response.headers.get(b"Retry-After")
        if reading and int(reading.group(2)) == 0:
            wait = float(reading.group(3))  # the window is spent: wait for its end
        elif retry_after and retry_after.strip().isdigit():
            wait = float(retry_after)  # a per-action limit
        else:
            wait = backoff(tries, 1.0, 60.0)
        bucket.paused_until = max(bucket.paused_until, now + wait + self.margin)
        if tries > self.max_429:
            logger.warning("giving up on %s after %d 429s", request.url, tries - 1)
            return response
        logger.info("429 on %s: holding that bucket %.1f s", request.url, wait)
        retry = request.copy()
        retry.meta["hfcrawl_429_retries"] = tries
        retry.dont_filter = True
        return retry


class BackoffRetryMiddleware(RetryMiddleware):
    """Scrapy's retries (5xx, resets, timeouts, cut bodies), spaced out
    exponentially (``HFCRAWL_RETRY_BACKOFF_BASE``, ``..._MAX``) instead of at once."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler.settings)
        self.crawler = crawler
        self.base = crawler.settings.getfloat("HFCRAWL_RETRY_BACKOFF_BASE", 1.0)
        self.cap = crawler.settings.getfloat("HFCRAWL_RETRY_BACKOFF_MAX", 30.0)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def _retry(self, request: Request, reason: Any) -> Request | None:
        retry = super()._retry(request, reason)
        if retry is not None:
            delay_retry(retry, self.base, self.cap)
        return retry


def delay_retry(request: Request, base: float, cap: float) -> None:
    """Hold a retried request back by the backoff its attempt number calls for."""
    wait = backoff(request.meta.get("retry_times", 1), base, cap)
    request.meta[NOT_BEFORE] = time.monotonic() + wait
