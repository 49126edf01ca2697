"""One row per primary key per table, for the whole run, resumes included."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.exceptions import DropItem

from hfcrawl.pipelines.rows import rows_of, with_rows
from hfcrawl.runfolder import read_columns
from hfcrawl.runs import run_dir
from hfcrawl.schema import table_spec

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)


class DedupPipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.stats = crawler.stats
        self._seen: dict[type, set[Any]] = {}
        crawler.signals.connect(self.spider_closed, signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def _seen_for(self, cls: type) -> set[Any]:
        seen = self._seen.get(cls)
        if seen is None:
            spec = table_spec(cls)
            # a resumed run already holds rows: they count as seen
            seen = set(
                read_columns(run_dir(self.crawler) / spec.table, spec.key_fields)
            )
            if seen:
                logger.info(
                    "%s: %d keys already in the run folder", spec.table, len(seen)
                )
            self._seen[cls] = seen
        return seen

    def process_item(self, item: Any) -> Any:
        rows = rows_of(item)
        kept = []
        cls: Any = None
        seen: set[Any] = set()
        key_of = None
        for row in rows:
            if type(row) is not cls:
                cls = type(row)
                seen = self._seen_for(cls)
                key_of = table_spec(cls).key_of
            key = key_of(row)  # type: ignore[misc]
            if None in key:  # an unkeyed row (a Missed record without id) is unique
                kept.append(row)
            elif key in seen:
                self.stats.inc_value(f"hfcrawl/duplicates/{table_spec(cls).table}")
            else:
                seen.add(key)
                kept.append(row)
        out = with_rows(item, kept)
        if out is None:
            raise DropItem("every row is a duplicate")
        return out

    def spider_closed(self, reason: str) -> None:
        for cls, seen in self._seen.items():
            logger.info("%s: %d distinct keys", table_spec(cls).table, len(seen))
