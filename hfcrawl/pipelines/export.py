"""Rows into the run folder (``hfcrawl.runfolder``), and its manifest at the end."""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from scrapy import signals

from hfcrawl import __version__
from hfcrawl.items import Missed
from hfcrawl.pipelines.rows import rows_of
from hfcrawl.runfolder import PartOptions, RunFolder
from hfcrawl.runs import run_dir, run_id
from hfcrawl.schema import table_spec

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

_MIRRORS = {"none": "jsonl", "": "jsonl", "gzip": "jsonl.gz", "gz": "jsonl.gz"}


def part_options(crawler: Crawler) -> PartOptions:
    settings = crawler.settings
    mirror = None
    if settings.getbool("HFCRAWL_JSONL", False):
        compression = str(
            settings.get("HFCRAWL_JSONL_COMPRESSION", "gzip") or ""
        ).lower()
        if compression not in _MIRRORS:
            raise ValueError(
                f"HFCRAWL_JSONL_COMPRESSION: expected gzip or none, got {compression!r}"
            )
        mirror = _MIRRORS[compression]
    return PartOptions(
        part_rows=settings.getint("HFCRAWL_PART_ROWS", 100_000),
        row_group_size=settings.getint("HFCRAWL_ROW_GROUP_ROWS", 10_000),
        compression=settings.get("HFCRAWL_PARQUET_COMPRESSION", "zstd"),
        mirror=mirror,
    )


class ExportPipeline:
    """Writes every row to its table; ``HFCRAWL_EXPORT_ENABLED=False`` turns the
    run folder off (feeds still get the rows)."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.enabled = crawler.settings.getbool("HFCRAWL_EXPORT_ENABLED", True)
        self.folder: RunFolder | None = None
        self.started_at = datetime.now(UTC)
        crawler.signals.connect(self.spider_closed, signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def open_spider(self) -> None:
        if not self.enabled:
            return
        self.folder = self.new_folder()
        assert self.crawler.stats is not None
        for table, rows in self.folder.open().items():
            self.crawler.stats.inc_value(f"hfcrawl/recovered_rows/{table}", rows)
        if getattr(self.crawler.spider, "retry_missed", False):
            # their ids then count as not yet answered, so the spider asks again
            dropped = self.folder.drop_rows(Missed.table, "reason", "error")
            self.crawler.stats.set_value("hfcrawl/retried_missed", dropped)
            logger.info("retry_missed: %d error rows of this run to retry", dropped)
        logger.info("exporting to %s", self.folder.path)

    def new_folder(self) -> RunFolder:
        """The run folder this process writes (hfcrawl.scaleout: its own parts)."""
        return RunFolder(run_dir(self.crawler), part_options(self.crawler))

    def process_item(self, item: Any) -> Any:
        groups: dict[type, list[Any]] = defaultdict(list)
        for row in rows_of(item):
            groups[type(row)].append(row)
        assert self.crawler.stats is not None
        for cls, rows in groups.items():
            self.crawler.stats.inc_value(
                f"hfcrawl/rows/{table_spec(cls).table}", len(rows)
            )
            if self.folder is not None:
                self.folder.write(cls, rows)
        return item

    def close_spider(self) -> None:
        if self.folder is None:
            return
        self.folder.commit()
        # what a spider derives from the whole run (renames resolved, tables
        # computed from others, such as activity's contributions): on disk,
        # after every row is, before the manifest lists the tables
        close_run = getattr(self.crawler.spider, "close_run", None)
        if close_run is not None:
            close_run(self.folder)

    def spider_closed(self, reason: str) -> None:
        if self.folder is None:
            return
        manifest = self.folder.write_manifest(self.about(reason))
        counts = {name: t["rows"] for name, t in manifest["tables"].items()}
        logger.info("run folder %s: %s", self.folder.path, counts)

    def about(self, reason: str) -> dict[str, Any]:
        """The manifest's description of this crawl, beside its tables."""
        spider = self.crawler.spider
        integrity = getattr(spider, "integrity", None)
        folder = self.folder
        return {
            "spider": spider.name if spider else None,
            "run_id": run_id(self.crawler),
            "hfcrawl_version": __version__,
            "arguments": getattr(spider, "arguments", {}),
            "started_at": self.started_at,
            "finished_at": datetime.now(UTC),
            "finish_reason": reason,
            "stats": _plain_stats(self.crawler),
            # a follow-up crawl's references that nothing answers (0: complete)
            **({"integrity": integrity(folder.path)} if integrity and folder else {}),
        }


def _plain_stats(crawler: Crawler) -> dict[str, Any]:
    """The crawl's counters (requests, statuses, retries, rows), JSON-ready."""
    assert crawler.stats is not None
    return {
        key: value.isoformat() if isinstance(value, datetime) else value
        for key, value in sorted(crawler.stats.get_stats().items())
        if isinstance(value, int | float | str | datetime)
    }
