"""Write every table of a run as typed Parquet parts plus a JSON Lines mirror.

A part is written under a dotted ``.inprogress`` name and renamed when complete,
so a reader listing ``part-*.parquet`` never sees a half-written file. Parts roll
every ``HFCRAWL_PART_ROWS`` rows; rows reach disk in row groups of
``HFCRAWL_ROW_GROUP_ROWS``, so memory stays flat however long the crawl.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import jsonlines
import msgspec
import pyarrow.parquet as pq

from hfcrawl import __version__
from hfcrawl.checkpoint import save_checkpoint
from hfcrawl.items import ROW_CLASSES, ItemBatch
from hfcrawl.parquet import ParquetTableWriter
from hfcrawl.pipelines.rows import rows_of
from hfcrawl.runs import PART_RE, finished_parts, run_dir, run_id
from hfcrawl.schema import TableSpec, table_spec

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

INPROGRESS = ".inprogress"
JSONL_DIR = "jsonl"
LOG_RE = re.compile(r"^\.part-(\d{5,})\.jsonl\.inprogress$")


_ENCODER = msgspec.json.Encoder()


class TablePart:
    """The part of one table being written: Parquet plus a JSON Lines log.

    The JSONL file is written ahead of the Parquet rows and flushed to the OS
    after every item, so a killed crawl leaves every row it wrote readable there:
    ``recover`` turns it into the part the crawl did not get to finish. At commit
    it becomes the JSONL mirror (or is deleted when the mirror is off).
    """

    def __init__(
        self,
        table_dir: Path,
        number: int,
        spec: TableSpec,
        *,
        row_group_size: int,
        compression: str,
        jsonl: bool,
    ) -> None:
        self.final = table_dir / f"part-{number:05d}.parquet"
        self.tmp = table_dir / f".{self.final.name}{INPROGRESS}"
        self.keep_jsonl = jsonl
        self.parquet = ParquetTableWriter(
            str(self.tmp), spec, row_group_size=row_group_size, compression=compression
        )
        self.log_final = jsonl_path(self.final)
        self.log_tmp = self.log_final.parent / f".{self.log_final.name}{INPROGRESS}"
        self.log_final.parent.mkdir(parents=True, exist_ok=True)
        self._log: IO[bytes] = open(self.log_tmp, "ab")  # noqa: SIM115
        self.rows = 0

    def add_many(self, rows: list[Any]) -> None:
        self._log.write(_ENCODER.encode_lines(rows))
        self._log.flush()  # in the OS's hands: survives the process being killed
        self.parquet.add_many(rows)
        self.rows += len(rows)

    def commit(self) -> None:
        """Close both files and give them their final names, JSONL first."""
        self.parquet.close()
        self._log.flush()
        os.fsync(self._log.fileno())
        self._log.close()
        if self.keep_jsonl:
            os.replace(self.log_tmp, self.log_final)
        else:
            self.log_tmp.unlink()
        with open(self.tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(self.tmp, self.final)

    @classmethod
    def recover(
        cls,
        log_tmp: Path,
        table_dir: Path,
        spec: TableSpec,
        *,
        row_group_size: int,
        compression: str,
        jsonl: bool,
    ) -> int:
        """Finish the part a killed crawl left behind, from its JSONL log.

        Returns the rows recovered. A last line cut short by the kill is dropped:
        its item was never acknowledged, so the resumed crawl fetches it again.
        """
        number = int(LOG_RE.match(log_tmp.name).group(1))  # type: ignore[union-attr]
        with jsonlines.open(log_tmp) as reader:
            rows: list[Any] = [
                msgspec.convert(line, spec.item_class, strict=False)
                for line in reader.iter(skip_invalid=True)
            ]
        stale = table_dir / f".part-{number:05d}.parquet{INPROGRESS}"
        stale.unlink(missing_ok=True)
        log_tmp.unlink()
        if rows:
            part = cls(
                table_dir,
                number,
                spec,
                row_group_size=row_group_size,
                compression=compression,
                jsonl=jsonl,
            )
            part.add_many(rows)
            part.commit()
        return len(rows)


def jsonl_path(part: Path) -> Path:
    """Where a part's JSONL mirror lives: ``<run>/jsonl/<table>/part-N.jsonl``.

    Beside the run's tables, not inside them: a table folder holds only Parquet,
    so pyarrow, pandas or DuckDB read it as one dataset.
    """
    table_dir = part.parent
    return table_dir.parent / JSONL_DIR / table_dir.name / f"{part.stem}.jsonl"


class ExportPipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        settings = crawler.settings
        self.part_rows = settings.getint("HFCRAWL_PART_ROWS", 100_000)
        self.row_group_size = settings.getint("HFCRAWL_ROW_GROUP_ROWS", 10_000)
        self.compression = settings.get("HFCRAWL_PARQUET_COMPRESSION", "zstd")
        self.jsonl = settings.getbool("HFCRAWL_JSONL", True)
        self.enabled = settings.getbool("HFCRAWL_EXPORT_ENABLED", True)
        self._parts: dict[type, TablePart] = {}
        self._next_number: dict[str, int] = {}
        self.started_at = datetime.now(UTC)
        self.dir: Path | None = None
        from scrapy import signals

        crawler.signals.connect(self.spider_closed, signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def open_spider(self) -> None:
        if not self.enabled:
            return
        self.dir = run_dir(self.crawler)
        self.dir.mkdir(parents=True, exist_ok=True)
        self._recover()
        logger.info("exporting to %s", self.dir)

    def _recover(self) -> None:
        """Finish the parts a killed session left, from their JSONL logs."""
        assert self.dir is not None
        tables = {getattr(cls, "table", ""): cls for cls in ROW_CLASSES}
        assert self.crawler.stats is not None
        for log in sorted(self.dir.glob(f"{JSONL_DIR}/*/.part-*{INPROGRESS}")):
            cls = tables.get(log.parent.name)
            if cls is None or not LOG_RE.match(log.name):
                continue
            spec = table_spec(cls)
            rows = TablePart.recover(
                log,
                self.dir / spec.table,
                spec,
                row_group_size=self.row_group_size,
                compression=self.compression,
                jsonl=self.jsonl,
            )
            self.crawler.stats.inc_value(f"hfcrawl/recovered_rows/{spec.table}", rows)
            logger.warning("recovered %d %s rows from %s", rows, spec.table, log)
        # a Parquet part without its log holds nothing the log does not
        for stale in self.dir.glob(f"*/.*{INPROGRESS}"):
            logger.warning("removing unfinished part %s", stale)
            stale.unlink()

    def process_item(self, item: Any) -> Any:
        if not self.enabled:
            return item
        rows = rows_of(item)
        if not rows:
            pass
        elif len(rows) == 1 or all(type(r) is type(rows[0]) for r in rows):
            self._write(type(rows[0]), rows)
        else:
            groups: dict[type, list[Any]] = defaultdict(list)
            for row in rows:
                groups[type(row)].append(row)
            for cls, group in groups.items():
                self._write(cls, group)
        if isinstance(item, ItemBatch) and item.checkpoint:
            # the rows above are in their logs: the crawl may now resume past them
            save_checkpoint(self.crawler.settings, item.checkpoint)
        return item

    def _write(self, cls: type, rows: list[Any]) -> None:
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(f"hfcrawl/rows/{table_spec(cls).table}", len(rows))
        while rows:
            part = self._parts.get(cls) or self._open_part(cls)
            room = self.part_rows - part.rows
            part.add_many(rows[:room])
            rows = rows[room:]
            if part.rows >= self.part_rows:
                part.commit()
                del self._parts[cls]

    def _open_part(self, cls: type) -> TablePart:
        assert self.dir is not None
        spec = table_spec(cls)
        table_dir = self.dir / spec.table
        table_dir.mkdir(exist_ok=True)
        number = self._next_number.get(spec.table)
        if number is None:  # continue after the parts of an earlier (resumed) session
            done = finished_parts(table_dir)
            number = int(PART_RE.match(done[-1].name).group(1)) + 1 if done else 0  # type: ignore[union-attr]
        self._next_number[spec.table] = number + 1
        part = TablePart(
            table_dir,
            number,
            spec,
            row_group_size=self.row_group_size,
            compression=self.compression,
            jsonl=self.jsonl,
        )
        self._parts[cls] = part
        return part

    def close_spider(self) -> None:
        for part in self._parts.values():
            part.commit()
        self._parts.clear()

    def spider_closed(self, reason: str) -> None:
        if self.dir is not None:
            self.write_manifest(reason)

    def write_manifest(self, reason: str) -> None:
        assert self.dir is not None
        spider = self.crawler.spider
        tables: dict[str, Any] = {}
        for table_dir in sorted(self.dir.iterdir()):
            if not table_dir.is_dir() or table_dir.name == JSONL_DIR:
                continue
            parts = []
            for part in finished_parts(table_dir):
                meta = pq.read_metadata(part)
                parts.append(
                    {"file": f"{table_dir.name}/{part.name}", "rows": meta.num_rows}
                )
            if parts:
                schema = pq.read_schema(table_dir / parts[0]["file"].split("/")[1])
                tables[table_dir.name] = {
                    "rows": sum(p["rows"] for p in parts),
                    "parts": parts,
                    "columns": {f.name: str(f.type) for f in schema},
                }
        manifest = {
            "spider": spider.name if spider else None,
            "run_id": run_id(self.crawler),
            "hfcrawl_version": __version__,
            "arguments": getattr(spider, "arguments", {}),
            "started_at": self.started_at.isoformat(),
            "finished_at": datetime.now(UTC).isoformat(),
            "finish_reason": reason,
            "tables": tables,
            "stats": _plain_stats(self.crawler),
        }
        tmp = self.dir / f".manifest.json{INPROGRESS}"
        tmp.write_text(json.dumps(manifest, indent=2, sort_keys=False) + "\n")
        os.replace(tmp, self.dir / "manifest.json")
        counts = {name: t["rows"] for name, t in tables.items()}
        logger.info("run folder %s: %s", self.dir, counts)


def _plain_stats(crawler: Crawler) -> dict[str, Any]:
    """The crawl's counters (requests, statuses, retries, rows), JSON-ready."""
    assert crawler.stats is not None
    stats: dict[str, Any] = {}
    for key, value in sorted(crawler.stats.get_stats().items()):
        if isinstance(value, datetime):
            stats[key] = value.isoformat()
        elif isinstance(value, int | float | str):
            stats[key] = value
    return stats
