"""Running real crawls in tests, in-process, and reading what they wrote."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from scrapy import signals
from scrapy.utils.test import get_crawler

from hfcrawl.pipelines.rows import rows_of


@dataclass
class CrawlResult:
    crawler: Any
    rows: list[Any] = field(default_factory=list)

    @property
    def stats(self) -> dict[str, Any]:
        return self.crawler.stats.get_stats()

    @property
    def run_dir(self) -> Path:
        root = Path(self.crawler.settings.get("HFCRAWL_EXPORT_DIR"))
        return root / self.crawler.spider.name / self.stats["hfcrawl/run_id"]

    def table(self, name: str) -> pa.Table:
        parts = sorted((self.run_dir / name).glob("part-*.parquet"))
        return pa.concat_tables([pq.read_table(p) for p in parts]) if parts else None

    def manifest(self) -> dict[str, Any]:
        return json.loads((self.run_dir / "manifest.json").read_text())

    def of(self, cls: type) -> list[Any]:
        return [r for r in self.rows if isinstance(r, cls)]


async def crawl(
    spidercls: type, settings: dict[str, Any], **arguments: Any
) -> CrawlResult:
    crawler = get_crawler(spidercls, settings)
    result = CrawlResult(crawler)

    def collect(item: Any) -> None:  # named: signal receivers are weak references
        result.rows.extend(rows_of(item))

    crawler.signals.connect(collect, signal=signals.item_scraped)
    result.collect = collect  # type: ignore[attr-defined]  # keep it alive
    await crawler.crawl_async(**arguments)
    return result
