"""Pacing on the Hub's own quota, and retries that back off.

The Hub counts requests per bucket (``api`` for ``/api/``, ``resolvers`` for
``/resolve/``, ``pages`` for the rest) over fixed windows, and says where each
bucket stands on every response (hub-api.md §8)::

    RateLimit: "api";r=489;t=189
    RateLimit-Policy: "fixed window";"api";q=500;w=300

``HubRateLimitMiddleware`` lets requests go while a bucket has more than
``HFCRAWL_RATELIMIT_RESERVE`` left in its window (counting every request in
flight, whatever the concurrency), so the count never reaches zero, then holds
them until the window ends; after a 429 it holds the bucket for what
``RateLimit`` ``t`` or ``Retry-After`` says (plus ``HFCRAWL_RATELIMIT_MARGIN``)
and sends the request again. AutoThrottle keeps adjusting for latency.
"""

from __future__ import annotations

import asyncio
import contextlib
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
    from collections.abc import Iterator
    from typing import Self

    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)

NOT_BEFORE = "hfcrawl_not_before"  # request meta: monotonic time to wait for
_SENT_IN = "hfcrawl_bucket"  # request meta: the bucket that counted it as sent
_PARAM = re.compile(r"^\s*([A-Za-z][\w.*-]*)\s*=\s*\"?(\d+)\"?\s*$")


def header_params(value: bytes | None, *names: str) -> tuple[int, ...] | None:
    """The integer parameters ``names`` of the first list member that has all of
    them, in a structured header such as ``"api";r=489;t=189`` or
    ``"fixed window";"api";q=500;w=300`` (any order, other parameters and
    members ignored); None when no member has them all."""
    if not value:
        return None
    for member in value.decode("latin-1").split(","):
        params: dict[str, int] = {}
        for part in member.split(";"):
            found = _PARAM.match(part)
            if found:
                params[found.group(1).lower()] = int(found.group(2))
        if all(n in params for n in names):
            return tuple(params[n] for n in names)
    return None


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
    """What is known of one quota bucket: what is left of its window, and when
    it ends.

    ``left`` is the lowest ``r`` read in the current window, minus every request
    sent and not yet answered with a reading (``in_flight``), minus those answered
    without one (``lost``: resets, cut bodies, timeouts, which the Hub counted
    all the same). A reading says where the bucket stood when the Hub counted that
    request; requests still in flight may or may not be in it, so they are
    assumed not to be. Answers overtaking each other cannot raise the estimate:
    within a window only the lowest reading counts, and a reading whose window
    has ended is ignored.

    Requests go while more than ``reserve`` is left. When it is not, a request
    waits for an answer to come back (an answer can only make the estimate more
    exact) or for the window to end, whichever is first. The Hub counts fixed
    windows, not rates, so nothing is spread out evenly.
    """

    quota: int | None = None  # from RateLimit-Policy
    window: float | None = None
    reset_at: float = 0.0  # monotonic time the window ends (an upper bound); 0: unknown
    lowest: int | None = None  # the lowest reading of the current window
    in_flight: int = 0  # sent, no reading back yet
    lost: int = 0  # sent in this window, answered without a reading
    metered: bool | None = None  # None until the first answer says
    paused_until: float = 0.0  # after a 429

    @property
    def left(self) -> int | None:
        if self.lowest is None:
            return None
        return self.lowest - self.in_flight - self.lost

    def ask(self, now: float, reserve: int, margin: float) -> float:
        """0.0 if a request may go now (it is counted as sent); else how long to
        wait at most before asking again (an answer may come sooner)."""
        if now < self.paused_until:
            return self.paused_until - now
        self._roll(now, margin)
        if self.metered is False:
            return 0.0
        left = self.left
        if left is None:
            # nothing known yet, or a window ended without a known quota: one
            # request at a time until an answer says where the bucket stands
            if self.in_flight == 0:
                self.in_flight += 1
                return 0.0
            return _PROBE_WAIT
        if left > reserve:
            self.in_flight += 1
            return 0.0
        if self.reset_at:
            return max(self.reset_at + margin - now, _MIN_WAIT)
        return _PROBE_WAIT

    def _roll(self, now: float, margin: float) -> None:
        """Start the window running at ``now`` once the known one is over."""
        if not self.reset_at or now < self.reset_at + margin:
            return
        if self.window:
            ended = 1 + int((now - self.reset_at - margin) // self.window)
            self.reset_at += ended * self.window
            self.lowest = self.quota
        else:  # the next reading tells
            self.reset_at, self.lowest = 0.0, None
        self.lost = 0

    def answered(
        self,
        now: float,
        reading: tuple[int, int] | None,
        ok: bool,
        sent: bool = True,
    ) -> None:
        """An answer, with its ``(r, t)`` reading if any; ``sent``: to a request
        this bucket counted as sent.

        ``ok`` says the answer is a success (not a 4xx/5xx): a success without a
        reading means the host keeps no quota at all."""
        if sent:
            self.in_flight = max(self.in_flight - 1, 0)
        if reading is not None:
            self.metered = True
            self._read(now, *reading)
        elif not sent:
            return
        elif self.metered:
            self.lost += 1
        elif ok:
            self.metered = False

    def set_policy(self, quota: int, window: float) -> None:
        """The bucket's terms, from ``RateLimit-Policy``."""
        self.quota, self.window = quota, window

    def pause(self, until: float) -> None:
        """Hold every request of this bucket until ``until`` (after a 429)."""
        self.paused_until = max(self.paused_until, until)

    def failed(self) -> None:
        """A request this bucket sent got no answer (reset, timeout, cut body)."""
        self.in_flight = max(self.in_flight - 1, 0)
        if self.metered:
            self.lost += 1

    def _read(self, now: float, remaining: int, reset_in: int) -> None:
        # t is whole seconds rounded up, and the answer took time to arrive, so
        # now + t is never before the real end: the earliest seen is the closest
        end = now + reset_in
        half = self.window / 2 if self.window else 1.0
        if self.lowest is None or not self.reset_at or end > self.reset_at + half:
            # the first reading, or one from a window later than the one known
            self.reset_at, self.lowest, self.lost = end, remaining, 0
        elif end >= self.reset_at - half:  # this window
            self.reset_at = min(self.reset_at, end)
            self.lowest = min(self.lowest, remaining)
        # else: a late answer from the window before; only in_flight changes


class HeldClock:
    """Adds to a stat the wall-clock time during which at least one request is
    held back: many requests waiting for one window count its length once."""

    def __init__(self, stats: StatsCollector | None, key: str) -> None:
        self.stats, self.key = stats, key
        self._holding = 0
        self._since = 0.0

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        if self._holding == 0:
            self._since = time.monotonic()
        self._holding += 1
        try:
            yield
        finally:
            self._holding -= 1
            if self._holding == 0 and self.stats is not None:
                # Scrapy's stats add floats too; its hint says int
                seconds: Any = time.monotonic() - self._since
                self.stats.inc_value(self.key, seconds)


_PROBE_WAIT = 1.0  # seconds between looks while an answer is awaited
_MIN_WAIT = 0.01


class HubRateLimitMiddleware:
    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        self.host = urlsplit(hub_endpoint(settings)).netloc
        self.reserve = settings.getint("HFCRAWL_RATELIMIT_RESERVE", 1)
        self.margin = settings.getfloat("HFCRAWL_RATELIMIT_MARGIN", 0.5)
        self.max_429 = settings.getint("HFCRAWL_MAX_429_RETRIES", 10)
        self.stats = crawler.stats
        self.buckets: dict[str, Bucket] = {}
        # set (and replaced) whenever a bucket gets an answer: waiters look again
        self._answers: dict[str, asyncio.Event] = {}
        self._quota_wait = HeldClock(crawler.stats, "hfcrawl/ratelimit/waited_seconds")
        self._backoff = HeldClock(crawler.stats, "hfcrawl/backoff/waited_seconds")

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def _name(self, request: Request) -> str:
        parts = urlsplit(request.url)
        # the Hub's buckets by path; any other host is one bucket of its own
        return bucket_of(parts.path) if parts.netloc == self.host else parts.netloc

    def _bucket(self, name: str) -> Bucket:
        bucket = self.buckets.get(name)
        if bucket is None:
            bucket = self.buckets[name] = self.new_bucket(name)
        return bucket

    def new_bucket(self, name: str) -> Bucket:
        """Where one bucket's state lives: here, in this process (several
        processes sharing a token share it in Redis: hfcrawl.scaleout.quota)."""
        return Bucket()

    async def process_request(self, request: Request) -> None:
        not_before = request.meta.get(NOT_BEFORE, 0.0) - time.monotonic()
        if not_before > 0:  # a retry's backoff
            with self._backoff.held():
                await asyncio.sleep(not_before)
        name = self._name(request)
        bucket = self._bucket(name)
        if (wait := bucket.ask(time.monotonic(), self.reserve, self.margin)) > 0:
            with self._quota_wait.held():
                while wait > 0:
                    answer = self._answers.setdefault(name, asyncio.Event())
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(answer.wait(), timeout=wait)
                    wait = bucket.ask(time.monotonic(), self.reserve, self.margin)
        request.meta[_SENT_IN] = name

    def _answered(self, request: Request) -> tuple[Bucket, bool]:
        """The request's bucket, and whether that bucket counted it as sent."""
        name = request.meta.pop(_SENT_IN, None)
        if name is None:  # not sent through this middleware (a test, a cache)
            return self._bucket(self._name(request)), False
        answer = self._answers.pop(name, None)
        if answer is not None:
            answer.set()
        return self._bucket(name), True

    def process_response(
        self, request: Request, response: Response
    ) -> Request | Response:
        bucket, sent = self._answered(request)
        now = time.monotonic()
        terms = header_params(response.headers.get(b"RateLimit-Policy"), "q", "w")
        if terms:
            bucket.set_policy(terms[0], float(terms[1]))
        found = header_params(response.headers.get(b"RateLimit"), "r", "t")
        reading = (found[0], found[1]) if found else None
        bucket.answered(now, reading, ok=response.status < 400, sent=sent)
        if response.status != 429:
            return response
        return self._after_429(request, response, bucket, reading, now)

    def process_exception(self, request: Request, exception: Exception) -> None:
        bucket, sent = self._answered(request)
        if sent:
            bucket.failed()

    def _after_429(
        self,
        request: Request,
        response: Response,
        bucket: Bucket,
        reading: tuple[int, int] | None,
        now: float,
    ) -> Request | Response:
        assert self.stats is not None
        self.stats.inc_value("hfcrawl/ratelimit/429")
        tries = request.meta.get("hfcrawl_429_retries", 0) + 1
        retry_after = response.headers.get(b"Retry-After")
        if reading and reading[0] == 0:
            wait = float(reading[1])  # the window is spent: wait for its end
        elif retry_after and retry_after.strip().isdigit():
            wait = float(retry_after)  # a per-action limit
        else:
            wait = backoff(tries, 1.0, 60.0)
        bucket.pause(now + wait + self.margin)
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
