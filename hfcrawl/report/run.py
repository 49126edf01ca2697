"""A finished run folder, read with DuckDB straight from its Parquet parts.

Every table with a complete part is a DuckDB view over exactly those parts
(``finished_parts``: a part still being written has a dotted name and is never
read), so aggregates scan Parquet column by column and never hold a whole
table in Python. Used by ``report``, ``search`` and ``diff`` alike.
"""

from __future__ import annotations

import json
from functools import cached_property
from pathlib import Path
from typing import Any

import duckdb

from hfcrawl.cli import UsageError
from hfcrawl.runfolder import JSONL_DIR, finished_parts


def _sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


class Run:
    """``Run(path)``: a run folder, or ``UsageError`` naming what is wrong."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if not self.path.exists():
            raise UsageError(f"{self.path}: no such run folder")
        if not self.path.is_dir():
            raise UsageError(f"{self.path}: not a folder")
        if not self.parts and not (self.path / "manifest.json").is_file():
            raise UsageError(
                f"{self.path}: not a run folder (no manifest.json and no table parts)"
            )

    @property
    def name(self) -> str:
        return self.path.name

    @cached_property
    def parts(self) -> dict[str, list[Path]]:
        """Complete Parquet parts by table, for every table that has one."""
        found: dict[str, list[Path]] = {}
        for table_dir in sorted(self.path.iterdir()):
            if not table_dir.is_dir() or table_dir.name in (JSONL_DIR,):
                continue
            if table_dir.name.startswith("."):
                continue
            parts = finished_parts(table_dir)
            if parts:
                found[table_dir.name] = parts
        return found

    @cached_property
    def manifest(self) -> dict[str, Any]:
        """``manifest.json`` (empty when the crawl never closed to write it)."""
        path = self.path / "manifest.json"
        if not path.is_file():
            return {}
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise UsageError(f"{path}: unreadable manifest: {exc}") from None
        return data if isinstance(data, dict) else {}

    def has(self, table: str) -> bool:
        return table in self.parts

    def columns(self, table: str) -> set[str]:
        if not self.has(table):
            return set()
        rows = self.db.execute(f"DESCRIBE {table}").fetchall()
        return {r[0] for r in rows}

    def scan(self, table: str) -> str:
        """A ``read_parquet`` over the table's complete parts."""
        files = ", ".join(_sql_string(str(p)) for p in self.parts[table])
        return f"read_parquet([{files}], union_by_name = true)"

    @cached_property
    def db(self) -> duckdb.DuckDBPyConnection:
        """An in-memory DuckDB with one view per table."""
        con = duckdb.connect(":memory:")
        for table in self.parts:
            con.execute(f'CREATE VIEW "{table}" AS SELECT * FROM {self.scan(table)}')
        return con

    def query(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        return self.db.execute(sql, params or []).fetchall()

    def fingerprint_items(self, tables: tuple[str, ...]) -> list[tuple[str, int, int]]:
        """(relative path, size, mtime in ns) of the named tables' parts and the
        manifest: what changes whenever the run does."""
        items = []
        paths = [p for t in tables for p in self.parts.get(t, [])]
        manifest = self.path / "manifest.json"
        if manifest.is_file():
            paths.append(manifest)
        for p in paths:
            st = p.stat()
            items.append((str(p.relative_to(self.path)), st.st_size, st.st_mtime_ns))
        return items
