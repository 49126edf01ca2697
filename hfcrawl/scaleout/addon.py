"""``-s REDIS_URL=...`` turns a crawl into one worker of a shared run.

Without ``REDIS_URL`` this add-on changes nothing. With it: the scheduler is
scrapy-redis' with leases, the dedup is shared (in the export step), the quota
reading is shared, and a spider middleware runs ``start()`` in one process
only. ``HFCRAWL_RUN_ID`` is required: it is what makes N processes one run.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from hfcrawl.scaleout import enabled

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler
    from scrapy.settings import Settings

_COMPONENTS: dict[str, dict[str, int | None]] = {
    "EXTENSIONS": {"hfcrawl.scaleout.extension.ScaleOutExtension": 0},
    "SPIDER_MIDDLEWARES": {"hfcrawl.scaleout.feed.FeedMiddleware": 0},
    "ITEM_PIPELINES": {
        "hfcrawl.pipelines.dedup.DedupPipeline": None,
        "hfcrawl.pipelines.export.ExportPipeline": None,
        "hfcrawl.scaleout.export.SharedExportPipeline": 300,
    },
    "DOWNLOADER_MIDDLEWARES": {
        "hfcrawl.ratelimit.HubRateLimitMiddleware": None,
        "hfcrawl.scaleout.quota.SharedRateLimitMiddleware": 650,
    },
}


class ScaleOut:
    def __init__(self, crawler: Crawler | None = None) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def update_settings(self, settings: Settings) -> None:
        if not enabled(settings):
            return
        if not settings.get("HFCRAWL_RUN_ID"):
            # every process must name the same run; a generated id differs
            print(
                "hfcrawl: REDIS_URL needs -s HFCRAWL_RUN_ID=<id>, the same for"
                " every process of the run",
                file=sys.stderr,
            )
            sys.exit(2)
        settings.set(
            "SCHEDULER", "hfcrawl.scaleout.scheduler.LeasingScheduler", "addon"
        )
        for name, components in _COMPONENTS.items():
            merged = settings.getdict(name)
            merged.update(components)
            settings.set(name, merged, settings.getpriority(name) or 0)
