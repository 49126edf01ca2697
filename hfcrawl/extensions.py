"""Crawl-wide extensions."""

from __future__ import annotations

import gc
import logging
import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING

from scrapy import signals
from scrapy.exceptions import NotConfigured
from twisted.internet.task import LoopingCall

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)


class GcTuningExtension:
    """Fewer, cheaper garbage collections for an allocation-heavy crawl.

    Parsing a 1,000-model page allocates ~10^6 acyclic containers; with CPython's
    default gen-0 threshold (700) that triggers ~1,500 collections a page, and
    each older-generation pass rescans every live page and row. Freezing what
    startup allocated and raising the gen-0 threshold (``HFCRAWL_GC_THRESHOLD``;
    0 leaves the interpreter's defaults) keeps cycles collected while the parse
    path stops paying for them.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.threshold = crawler.settings.getint("HFCRAWL_GC_THRESHOLD", 0)
        self._saved = gc.get_threshold()
        crawler.signals.connect(self.engine_started, signals.engine_started)
        crawler.signals.connect(self.engine_stopped, signals.engine_stopped)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def engine_started(self) -> None:
        if self.threshold > 0:
            gc.freeze()
            gc.set_threshold(self.threshold, *self._saved[1:])
            logger.debug(
                "gc threshold %d, %d objects frozen",
                self.threshold,
                gc.get_freeze_count(),
            )

    def engine_stopped(self) -> None:
        if self.threshold > 0:
            gc.set_threshold(*self._saved)
            gc.unfreeze()


class JobdirQueueReset:
    """Starts every session of a JOBDIR crawl with Scrapy's request queue empty.

    After a hard kill Scrapy's disk queue is unreadable (its positions are saved
    only on a clean close: the next push fails with ``struct.error``) and its
    dupefilter has marked requests that never completed as seen. hfcrawl resumes
    from its own checkpoint and from what the run folder holds
    (``hfcrawl.checkpoint``), so Scrapy's queue and seen-set are dropped instead
    of half-trusted, after a clean stop as after a kill.
    """

    def __init__(self, crawler: Crawler) -> None:
        jobdir = crawler.settings.get("JOBDIR")
        if not jobdir:
            return
        queue, seen = Path(jobdir, "requests.queue"), Path(jobdir, "requests.seen")
        if queue.exists() or seen.exists():
            logger.info("resuming from hfcrawl's checkpoint in %s", jobdir)
        shutil.rmtree(queue, ignore_errors=True)
        seen.unlink(missing_ok=True)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)


class ProgressExtension:
    """A progress line every ``HFCRAWL_PROGRESS_INTERVAL`` seconds (0: off).

    Rows per table and rows/s, requests, 429s and the time waited for quota,
    missed rows, and an estimate of what is left when the spider can know its
    total (``spider.expected_rows()``: a limit, a list of ids, a total count).
    """

    def __init__(self, crawler: Crawler, interval: float) -> None:
        self.crawler = crawler
        self.interval = interval
        self.task: LoopingCall | None = None
        self.started = 0.0
        crawler.signals.connect(self.spider_opened, signals.spider_opened)
        crawler.signals.connect(self.spider_closed, signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        interval = crawler.settings.getfloat("HFCRAWL_PROGRESS_INTERVAL", 30.0)
        if interval <= 0:
            raise NotConfigured
        return cls(crawler, interval)

    def spider_opened(self) -> None:
        self.started = time.monotonic()
        self.task = LoopingCall(self.log)
        self.task.start(self.interval, now=False)

    def spider_closed(self, reason: str) -> None:
        if self.task is not None and self.task.running:
            self.task.stop()
        self.log()

    def log(self) -> None:
        logger.info("progress: %s", self.line())

    def line(self) -> str:
        assert self.crawler.stats is not None
        stats = self.crawler.stats.get_stats()
        prefix = "hfcrawl/rows/"
        tables = {k[len(prefix) :]: v for k, v in stats.items() if k.startswith(prefix)}
        rows = sum(v for t, v in tables.items() if t != "missed")
        elapsed = max(time.monotonic() - self.started, 1e-9)
        rate = rows / elapsed
        per_table = ", ".join(f"{t} {n:,}" for t, n in sorted(tables.items()))
        text = (
            f"{rows:,} rows ({per_table or 'none yet'}) at {rate:,.0f} rows/s; "
            f"{stats.get('downloader/request_count', 0):,} requests, "
            f"{stats.get('hfcrawl/ratelimit/429', 0):,} 429s "
            f"(waited {stats.get('hfcrawl/ratelimit/waited_seconds', 0.0):,.1f} s), "
            f"{tables.get('missed', 0):,} missed"
        )
        expected = getattr(self.crawler.spider, "expected_rows", lambda: None)()
        if expected and rate > 0:
            done = rows + tables.get("missed", 0)
            left = max(expected - done, 0) / rate
            text += f"; ~{expected:,} in all, about {left / 60:,.1f} min left"
        return text
