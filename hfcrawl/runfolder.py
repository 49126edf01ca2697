"""A run folder on disk: one crawl's tables as Parquet parts, and how they survive a kill.

``<run>/<table>/part-NNNNN.parquet``, a ``manifest.json``, and while a part is
being written, its write-ahead log ``<run>/jsonl/<table>/.part-NNNNN.jsonl.inprogress``.

A part is written under a dotted ``.inprogress`` name and renamed when complete,
so a reader listing ``part-*.parquet`` never sees a half-written file. Parts roll
every ``part_rows`` rows; rows reach disk in row groups, so memory stays flat
however long the crawl. Every row goes to the part's log first, flushed to the OS
after each write, so a killed crawl leaves every row it wrote readable there; the
next session turns the log into the part the killed one did not finish. A
committed part's log is deleted, or kept as the JSON Lines mirror
(``<run>/jsonl/<table>/part-NNNNN.jsonl[.gz]``) when asked for.
"""

from __future__ import annotations

import gzip
import json
import logging
import os
import re
import shutil
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import jsonlines
import msgspec
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from hfcrawl.items import check_row_class, row_class
from hfcrawl.parquet import ParquetTableWriter
from hfcrawl.schema import TableSpec, table_spec

logger = logging.getLogger(__name__)

INPROGRESS = ".inprogress"
JSONL_DIR = "jsonl"
# ``part-00012.parquet``. A run written by several processes (hfcrawl.scaleout)
# names each process's parts with its worker tag, ``part-w3-00012.parquet``, so no
# two processes ever write one file; groups ``tag`` (None: untagged) and ``n``.
PART_RE = re.compile(r"^part-(?:(?P<tag>[a-z][a-z0-9]*)-)?(?P<n>\d{5,})\.parquet$")
LOG_RE = re.compile(
    r"^\.part-(?:(?P<tag>[a-z][a-z0-9]*)-)?(?P<n>\d{5,})\.jsonl\.inprogress$"
)
_ENCODER = msgspec.json.Encoder()


class RunFolderError(RuntimeError):
    """The run folder holds something this version cannot take over."""


@dataclass(frozen=True)
class PartOptions:
    part_rows: int = 100_000
    row_group_size: int = 10_000
    compression: str = "zstd"
    mirror: str | None = None  # None (no mirror), "jsonl" or "jsonl.gz"


def finished_parts(table_dir: Path) -> list[Path]:
    """Complete parts, in order; files still being written have other names."""
    if not table_dir.is_dir():
        return []
    numbered = [(m, p) for p in table_dir.iterdir() if (m := PART_RE.match(p.name))]
    return [p for m, p in sorted(numbered, key=lambda mp: _part_order(mp[0]))]


def _part_order(match: re.Match[str]) -> tuple[str, int]:
    # untagged parts first, then each worker's in its own order
    return (match.group("tag") or "", int(match.group("n")))


def part_name(number: int, tag: str | None, suffix: str = ".parquet") -> str:
    """``part-00012.parquet``, or ``part-w3-00012.parquet`` for worker ``w3``."""
    return f"part-{tag}-{number:05d}{suffix}" if tag else f"part-{number:05d}{suffix}"


def read_columns(table_dir: Path, names: Iterable[str]) -> list[tuple[Any, ...]]:
    """Rows of the named columns over a table's complete parts (for resumes)."""
    names = list(names)
    parts = finished_parts(table_dir)
    if not parts:
        return []
    present = set(pq.read_schema(parts[0]).names)
    data = pa.concat_tables(
        pq.read_table(p, columns=[n for n in names if n in present]) for p in parts
    )
    columns = [
        data.column(n).to_pylist() if n in present else [None] * data.num_rows
        for n in names
    ]
    return list(zip(*columns, strict=True))


def mirror_path(part: Path, mirror: str) -> Path:
    """Where a part's JSON Lines mirror lives: ``<run>/jsonl/<table>/part-N.jsonl``.

    Beside the run's tables, not inside them: a table folder holds only Parquet,
    so pyarrow, pandas or DuckDB read it as one dataset.
    """
    table_dir = part.parent
    return table_dir.parent / JSONL_DIR / table_dir.name / f"{part.stem}.{mirror}"


class TablePart:
    """The part of one table being written: Parquet plus its write-ahead log."""

    def __init__(
        self,
        table_dir: Path,
        number: int,
        spec: TableSpec,
        options: PartOptions,
        tag: str | None = None,
    ) -> None:
        self.final = table_dir / part_name(number, tag)
        self.tmp = table_dir / f".{self.final.name}{INPROGRESS}"
        self.options = options
        self.parquet = ParquetTableWriter(
            str(self.tmp),
            spec,
            row_group_size=options.row_group_size,
            compression=options.compression,
        )
        log_dir = table_dir.parent / JSONL_DIR / table_dir.name
        self.log_tmp = log_dir / f".{part_name(number, tag, '.jsonl')}{INPROGRESS}"
        log_dir.mkdir(parents=True, exist_ok=True)
        self._log: IO[bytes] = open(self.log_tmp, "ab")  # noqa: SIM115
        self.rows = 0

    def add_many(self, rows: list[Any]) -> None:
        self._log.write(_ENCODER.encode_lines(rows))
        self._log.flush()  # in the OS's hands: survives the process being killed
        self.parquet.add_many(rows)
        self.rows += len(rows)

    def commit(self) -> None:
        """Close the Parquet file and give it its final name; then the log
        becomes the mirror, or goes."""
        self.parquet.close()
        self._log.close()
        with open(self.tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(self.tmp, self.final)
        mirror = self.options.mirror
        if mirror is None:
            self.log_tmp.unlink()
            return
        target = mirror_path(self.final, mirror)
        if mirror.endswith(".gz"):
            partial = target.with_name(f".{target.name}{INPROGRESS}")
            with self.log_tmp.open("rb") as src, gzip.open(partial, "wb", 6) as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
            os.replace(partial, target)
            self.log_tmp.unlink()
        else:
            os.replace(self.log_tmp, target)

    @classmethod
    def recover(
        cls, log_tmp: Path, table_dir: Path, spec: TableSpec, options: PartOptions
    ) -> int:
        """Finish the part a killed crawl left behind, from its log.

        Returns the rows recovered. A last line cut short by the kill is dropped:
        its item was never acknowledged, so the resumed crawl fetches it again.
        """
        found = LOG_RE.match(log_tmp.name)
        assert found is not None
        number, tag = int(found.group("n")), found.group("tag")
        with jsonlines.open(log_tmp) as reader:
            rows: list[Any] = [
                msgspec.convert(line, spec.item_class, strict=False)
                for line in reader.iter(skip_invalid=True)
            ]
        stale = table_dir / f".{part_name(number, tag)}{INPROGRESS}"
        stale.unlink(missing_ok=True)
        log_tmp.unlink()
        if rows:
            part = cls(table_dir, number, spec, options, tag)
            part.add_many(rows)
            part.commit()
        return len(rows)


class RunFolder:
    """Writes one run's tables, and takes over what a killed session left.

    ``tag``: this process's worker tag when several write the run at once
    (hfcrawl.scaleout): it names its parts, and only its own logs and unfinished
    parts are its to recover; None (one process) takes over every one."""

    def __init__(
        self, path: Path, options: PartOptions, tag: str | None = None
    ) -> None:
        self.path = path
        self.options = options
        self.tag = tag
        self._parts: dict[type, TablePart] = {}
        self._next_number: dict[str, int] = {}

    def open(self) -> dict[str, int]:
        """Create the folder, finish what a killed session left; the rows
        recovered per table."""
        self.path.mkdir(parents=True, exist_ok=True)
        recovered: dict[str, int] = defaultdict(int)
        for log in sorted(self.path.glob(f"{JSONL_DIR}/*/.part-*{INPROGRESS}")):
            found = LOG_RE.match(log.name)
            if not found or not self._mine(found.group("tag")):
                continue
            try:
                spec = table_spec(row_class(log.parent.name))
            except KeyError:
                raise RunFolderError(
                    f"{log}: no row class writes a table {log.parent.name!r};"
                    " this run folder was written by another version of hfcrawl"
                ) from None
            rows = TablePart.recover(log, self.path / spec.table, spec, self.options)
            recovered[spec.table] += rows
            logger.warning("recovered %d %s rows from %s", rows, spec.table, log)
        # a Parquet part without its log holds nothing the log does not
        for stale in self.path.glob(f"*/.*{INPROGRESS}"):
            if not self._mine(PART_RE.match(stale.name[1 : -len(INPROGRESS)])):
                continue
            logger.warning("removing unfinished part %s", stale)
            stale.unlink()
        return dict(recovered)

    def _mine(self, found: Any) -> bool:
        """Whether a part or log of this tag (a match, or the tag) is this
        folder's to take over: all of them without a tag of its own."""
        if self.tag is None:
            return True
        tag = found.group("tag") if isinstance(found, re.Match) else found
        return bool(tag == self.tag)

    def write(self, cls: type, rows: list[Any]) -> None:
        """Append rows of one row class to its table."""
        part_rows = self.options.part_rows
        while rows:
            part = self._parts.get(cls) or self._open_part(cls)
            room = part_rows - part.rows
            part.add_many(rows[:room])
            rows = rows[room:]
            if part.rows >= part_rows:
                part.commit()
                del self._parts[cls]

    def _open_part(self, cls: type) -> TablePart:
        spec = table_spec(check_row_class(cls))
        table_dir = self.path / spec.table
        table_dir.mkdir(exist_ok=True)
        number = self._next_number.get(spec.table)
        if number is None:  # continue after the parts of an earlier (resumed) session
            numbers = [
                int(m.group("n"))
                for p in finished_parts(table_dir)
                if (m := PART_RE.match(p.name)) and m.group("tag") == self.tag
            ]
            number = max(numbers) + 1 if numbers else 0
        self._next_number[spec.table] = number + 1
        part = TablePart(table_dir, number, spec, self.options, self.tag)
        self._parts[cls] = part
        return part

    def commit(self) -> None:
        """Complete every part being written."""
        for part in self._parts.values():
            part.commit()
        self._parts.clear()

    def drop_rows(self, table: str, column: str, value: Any) -> int:
        """Rewrite a table's complete parts without the rows whose ``column`` is
        ``value``. The rows dropped."""
        dropped = 0

        def drop(data: pa.Table) -> pa.Table:
            nonlocal dropped
            keep = pc.not_equal(data.column(column), value)
            kept = data.filter(pc.fill_null(keep, True))
            dropped += data.num_rows - kept.num_rows
            return kept

        self.rewrite(table, drop)
        return dropped

    def rewrite(self, table: str, change: Callable[[pa.Table], pa.Table]) -> int:
        """Replace each complete part of ``table`` by ``change(part)`` where that
        differs, atomically (a kill leaves the old part or the new one). The parts
        rewritten; their JSON Lines mirrors are deleted, as they no longer say
        what the parts do."""
        rewritten = 0
        schema = table_spec(row_class(table)).schema
        for part in finished_parts(self.path / table):
            data = pq.read_table(part).cast(schema)
            changed = change(data).cast(schema)
            if changed.equals(data):
                continue
            rewritten += 1
            tmp = part.with_name(f".{part.name}{INPROGRESS}")
            pq.write_table(changed, tmp, compression=self.options.compression)
            os.replace(tmp, part)
            for mirror in ("jsonl", "jsonl.gz"):
                mirror_path(part, mirror).unlink(missing_ok=True)
        return rewritten

    def tables(self) -> dict[str, Any]:
        """Rows, parts and columns of every table with a complete part."""
        tables: dict[str, Any] = {}
        for table_dir in sorted(self.path.iterdir()):
            if not table_dir.is_dir() or table_dir.name == JSONL_DIR:
                continue
            parts = [
                {
                    "file": f"{table_dir.name}/{p.name}",
                    "rows": pq.read_metadata(p).num_rows,
                }
                for p in finished_parts(table_dir)
            ]
            if parts:
                schema = pq.read_schema(self.path / parts[0]["file"])
                tables[table_dir.name] = {
                    "rows": sum(p["rows"] for p in parts),
                    "parts": parts,
                    "columns": {f.name: str(f.type) for f in schema},
                }
        return tables

    def write_manifest(self, about: dict[str, Any]) -> dict[str, Any]:
        """``manifest.json``: ``about`` (spider, arguments, times, stats) and the
        tables; written whole, then renamed over the old one."""
        manifest = {**about, "tables": self.tables()}
        tmp = self.path / f".manifest.json{INPROGRESS}"
        tmp.write_text(json.dumps(manifest, indent=2, default=_json_default) + "\n")
        os.replace(tmp, self.path / "manifest.json")
        return manifest


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    raise TypeError(f"not JSON: {value!r}")
