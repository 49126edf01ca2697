"""The run folder's writer for a shared run: this worker's own parts, the dedup
shared by every worker, and what is derived from the whole run (the spider's
``close_run``, then the manifest) written by the last one out.

Dedup and write are one step here (the per-process ``DedupPipeline`` is off):
a row's key is claimed in Redis (``keys:<table>``, SADD: the first claim wins)
and the row goes to this worker's write-ahead log right after, with nothing in
between that could let another item in. A worker killed between the two has
its claim in ``claims:<tag>``, which whoever takes it over checks against its
parts (``run.py``).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from scrapy.exceptions import DropItem

from hfcrawl.pipelines.export import ExportPipeline, part_options
from hfcrawl.pipelines.rows import rows_of, with_rows
from hfcrawl.runfolder import RunFolder
from hfcrawl.runs import run_dir
from hfcrawl.scaleout.extension import fatal, shared
from hfcrawl.scaleout.run import LostTag, key_text
from hfcrawl.schema import table_spec

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)


class SharedExportPipeline(ExportPipeline):
    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.ext = shared(crawler, join=False)  # built before the spider opens

    def new_folder(self) -> RunFolder:
        self.ext.join()
        folder = RunFolder(
            run_dir(self.crawler), part_options(self.crawler), tag=self.ext.run.tag
        )
        if self.ext.levels is not None:
            self.ext.levels.folder = folder  # completed at each level's barrier
        return folder

    def open_spider(self) -> None:
        if getattr(self.crawler.spider, "retry_missed", False):
            # dropping error rows rewrites other workers' parts and keys
            logger.warning("retry_missed is not supported with REDIS_URL: ignored")
            self.crawler.spider.options = _without_retry(self.crawler.spider.options)  # type: ignore[union-attr]
        super().open_spider()

    def process_item(self, item: Any) -> Any:
        rows = rows_of(item)
        keyed: list[tuple[str, str]] = []
        where: list[int] = []
        for i, row in enumerate(rows):
            cls: Any = type(row)
            spec = table_spec(cls)
            key = spec.key_of(row)
            if None not in key:  # an unkeyed row (a Missed without id) is unique
                keyed.append((spec.table, key_text(key)))
                where.append(i)
        try:
            flags = self.ext.run.claim(keyed) if keyed else []
        except LostTag as exc:
            fatal(exc)
        assert self.crawler.stats is not None
        dropped = set()
        for i, new, (table, _) in zip(where, flags, keyed, strict=True):
            if not new:
                dropped.add(i)
                self.crawler.stats.inc_value(f"hfcrawl/duplicates/{table}")
        kept = [r for i, r in enumerate(rows) if i not in dropped]
        out = with_rows(item, kept)
        if out is None:
            raise DropItem("every row is a duplicate")
        result = super().process_item(out)
        self.ext.run.claimed_written(
            [k for i, k in zip(where, keyed, strict=True) if i not in dropped]
        )
        return result

    def close_spider(self) -> None:
        """This worker's parts complete; nothing derived yet (``spider_closed``)."""
        if self.folder is not None:
            self.folder.commit()

    def spider_closed(self, reason: str) -> None:
        if self.folder is None:
            return
        left = self.ext.leave(self.about(reason)["stats"])
        if left:
            logger.info(
                "left the shared run; %d worker(s) still in it: the last derives"
                " the run's tables and writes the manifest",
                left,
            )
            return
        # every other worker committed its parts before it left (a dead one's
        # were committed by its take-over before the run could finish), so
        # what close_run derives (activity's contributions, say) is over the
        # whole run, as one process would derive it
        close_run = getattr(self.crawler.spider, "close_run", None)
        if close_run is not None:
            close_run(self.folder)
            logger.info("last worker out: derived the run's tables (close_run)")
        about = self.about(reason)  # after close_run: its counters, integrity
        self.ext.run.record_stats(about["stats"])
        workers = self.ext.run.worker_stats()
        about["workers"] = workers
        about["stats"] = _summed(workers.values())
        about["finished_at"] = datetime.now(UTC)
        manifest = self.folder.write_manifest(about)
        counts = {name: t["rows"] for name, t in manifest["tables"].items()}
        logger.info("last worker out: run folder %s: %s", self.folder.path, counts)


def _summed(each: Any) -> dict[str, Any]:
    """Counters added up over the workers (the others, as each one's last)."""
    total: dict[str, Any] = {}
    for stats in each:
        for key, value in stats.items():
            if key.endswith("exit_code"):  # the worst of them
                total[key] = max(total.get(key, 0), value)
            elif isinstance(value, int | float) and not isinstance(value, bool):
                total[key] = total.get(key, 0) + value
            else:
                total.setdefault(key, value)
    return total


def _without_retry(options: Any) -> Any:
    import dataclasses

    return dataclasses.replace(options, retry_missed=False)
