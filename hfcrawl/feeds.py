"""Scrapy feed exports, row by row: FEEDS see rows, never ItemBatch containers.

Replaces Scrapy's FeedExporter extension so every feed option (``item_classes``,
``batch_item_count``, any format) applies to the rows a batch carries.
"""

from __future__ import annotations

from typing import Any

from scrapy import Spider
from scrapy.extensions.feedexport import FeedExporter

from hfcrawl.items import ItemBatch


class RowFeedExporter(FeedExporter):
    def item_scraped(self, item: Any, spider: Spider) -> None:
        if isinstance(item, ItemBatch):
            for row in item.items:
                super().item_scraped(row, spider)
        else:
            super().item_scraped(item, spider)
