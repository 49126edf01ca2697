"""``hfcrawl merge <run folder>``: one manifest over every part, small parts compacted.

A run written by several processes (hfcrawl.scaleout) holds each worker's parts
(``part-w1-00000.parquet``, ...) and, most often, a small last part per worker
and table. Run after every worker has exited, this:

1. turns any write-ahead log left behind into its part (a worker killed and never
   started again; a shared run's live workers do this themselves);
2. rewrites each table's small parts, grouped in order up to ``--part-rows``
   rows, as one part ``part-m-NNNNN.parquet``, written
   under a dotted name, renamed, then the parts it replaces deleted; a journal
   (``.merge-journal.json``) makes a merge stopped at any point finish, not
   double rows, when run again;
3. rewrites ``manifest.json`` over all parts, keeping what the last writer said
   of the crawl (spider, arguments, times, stats) when there is one;
4. counts rows whose key appears twice (there should be none) and fails if any.

Exit status: 0 done, 1 duplicate keys found, 2 a bad argument.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from hfcrawl.items import row_class
from hfcrawl.runfolder import (
    INPROGRESS,
    JSONL_DIR,
    PART_RE,
    PartOptions,
    RunFolder,
    finished_parts,
    mirror_path,
    part_name,
    read_columns,
)
from hfcrawl.schema import table_spec

JOURNAL = ".merge-journal.json"
MERGED_TAG = "m"


def _finish_journal(folder: Path) -> None:
    """Complete (or undo) the compaction a stopped merge was in the middle of."""
    journal = folder / JOURNAL
    if not journal.exists():
        return
    step = json.loads(journal.read_text())
    table_dir = folder / step["table"]
    new = table_dir / step["new"]
    if new.exists():  # renamed: the sources go
        for name in step["sources"]:
            (table_dir / name).unlink(missing_ok=True)
            for mirror in ("jsonl", "jsonl.gz"):
                mirror_path(table_dir / name, mirror).unlink(missing_ok=True)
    else:  # not renamed yet: the sources stay, the half-written copy goes
        (table_dir / f".{step['new']}{INPROGRESS}").unlink(missing_ok=True)
    journal.unlink()


def _groups(parts: list[Path], part_rows: int) -> list[list[tuple[Path, int]]]:
    """Small parts, in order, grouped to fit in one part each (a run's parts
    have no order that means anything across workers: full ones stay put)."""
    groups: list[list[tuple[Path, int]]] = []
    current: list[tuple[Path, int]] = []
    total = 0
    for part in parts:
        rows = pq.read_metadata(part).num_rows
        if rows >= part_rows:
            continue
        if total + rows > part_rows:
            groups.append(current)
            current, total = [], 0
        current.append((part, rows))
        total += rows
    groups.append(current)
    return [g for g in groups if len(g) > 1]


def _next_merged_number(table_dir: Path) -> int:
    numbers = [
        int(m.group("n"))
        for p in finished_parts(table_dir)
        if (m := PART_RE.match(p.name)) and m.group("tag") == MERGED_TAG
    ]
    return max(numbers) + 1 if numbers else 0


def compact(folder: Path, table: str, options: PartOptions) -> tuple[int, int]:
    """Compact one table's small parts; (parts before, parts after)."""
    table_dir = folder / table
    spec = table_spec(row_class(table))
    before = len(finished_parts(table_dir))
    for group in _groups(finished_parts(table_dir), options.part_rows):
        new = part_name(_next_merged_number(table_dir), MERGED_TAG)
        tmp = table_dir / f".{new}{INPROGRESS}"
        data = pa.concat_tables(pq.read_table(p).cast(spec.schema) for p, _ in group)
        pq.write_table(
            data,
            tmp,
            row_group_size=options.row_group_size,
            compression=options.compression,
        )
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        _write_mirror(table_dir / new, [p for p, _ in group])
        sources = [p.name for p, _ in group]
        journal = folder / JOURNAL
        partial = folder / f"{JOURNAL}{INPROGRESS}"
        partial.write_text(json.dumps({"table": table, "new": new, "sources": sources}))
        os.replace(partial, journal)
        os.replace(tmp, table_dir / new)
        _finish_journal(folder)
    return before, len(finished_parts(table_dir))


def _write_mirror(new: Path, sources: list[Path]) -> None:
    """The compacted part's JSON Lines mirror, when every source had one of a
    kind (gzip members and plain lines both concatenate)."""
    for mirror in ("jsonl.gz", "jsonl"):
        paths = [mirror_path(p, mirror) for p in sources]
        if all(p.exists() for p in paths):
            target = mirror_path(new, mirror)
            partial = target.with_name(f".{target.name}{INPROGRESS}")
            with partial.open("wb") as out:
                for path in paths:
                    out.write(path.read_bytes())
            os.replace(partial, target)
            return


def duplicate_keys(folder: Path, table: str) -> int:
    spec = table_spec(row_class(table))
    counts = Counter(read_columns(folder / table, spec.key_fields))
    return sum(n - 1 for key, n in counts.items() if None not in key and n > 1)


def merge(folder: Path, options: PartOptions) -> dict[str, Any]:
    _finish_journal(folder)
    recovered = RunFolder(folder, options).open()
    report: dict[str, Any] = {"recovered": recovered, "tables": {}}
    tables = sorted(
        p.name
        for p in folder.iterdir()
        if p.is_dir() and p.name != JSONL_DIR and finished_parts(p)
    )
    for table in tables:
        before, after = compact(folder, table, options)
        report["tables"][table] = {
            "parts": [before, after],
            "duplicates": duplicate_keys(folder, table),
        }
    about: dict[str, Any] = {}
    with contextlib.suppress(FileNotFoundError, ValueError):
        about = json.loads((folder / "manifest.json").read_text())
    about.pop("tables", None)
    about["merged_at"] = datetime.now(UTC)
    manifest = RunFolder(folder, options).write_manifest(about)
    for table, entry in report["tables"].items():
        entry["rows"] = manifest["tables"][table]["rows"]
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="hfcrawl merge",
        description="Rewrite a run folder's manifest over all its parts and "
        "compact small parts (after every worker of the run has exited).",
    )
    parser.add_argument("folder", type=Path, help="exports/<spider>/<run id>")
    parser.add_argument(
        "--part-rows",
        type=int,
        default=100_000,
        help="rows per compacted part at most (HFCRAWL_PART_ROWS)",
    )
    parser.add_argument("--row-group-rows", type=int, default=10_000)
    parser.add_argument("--compression", default="zstd")
    args = parser.parse_args(argv)
    if not args.folder.is_dir():
        print(f"hfcrawl merge: {args.folder}: not a run folder", file=sys.stderr)
        return 2
    if args.part_rows < 1:
        print(
            "hfcrawl merge: --part-rows: expected a positive integer", file=sys.stderr
        )
        return 2
    options = PartOptions(
        part_rows=args.part_rows,
        row_group_size=args.row_group_rows,
        compression=args.compression,
    )
    report = merge(args.folder, options)
    duplicates = 0
    for table, entry in report["tables"].items():
        before, after = entry["parts"]
        duplicates += entry["duplicates"]
        print(
            f"{table}: {entry['rows']:,} rows, {before} parts -> {after}"
            + (
                f", {entry['duplicates']:,} duplicate keys"
                if entry["duplicates"]
                else ""
            )
        )
    for table, rows in report["recovered"].items():
        print(f"{table}: {rows:,} rows recovered from a write-ahead log")
    print(f"manifest: {args.folder / 'manifest.json'}")
    if duplicates:
        print(f"hfcrawl merge: {duplicates:,} rows share a key", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
