"""Saves a batch's checkpoint once the pipelines before it are done with its rows.

The last pipeline: when it runs, the rows the checkpoint comes after are in the
run folder's write-ahead logs (or, with the run folder off, handed to the feeds),
so a resumed crawl may start past them (``hfcrawl.checkpoint``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hfcrawl.checkpoint import save_checkpoint
from hfcrawl.items import ItemBatch

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler


class CheckpointPipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def process_item(self, item: Any) -> Any:
        if isinstance(item, ItemBatch) and item.checkpoint:
            save_checkpoint(self.crawler.settings, item.checkpoint)
        return item
