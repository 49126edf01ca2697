"""Crawl-wide extensions."""

from __future__ import annotations

import gc
import logging
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from scrapy import signals

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
