"""Streaming typed Parquet: rows in, row groups out, memory bounded by one group.

Shared by the run-folder export pipeline and the ``parquet`` feed exporter.
"""

from __future__ import annotations

from typing import IO, Any

import pyarrow as pa
import pyarrow.parquet as pq

from hfcrawl.schema import TableSpec


class ParquetTableWriter:
    def __init__(
        self,
        sink: str | IO[bytes],
        spec: TableSpec,
        *,
        row_group_size: int = 10_000,
        compression: str = "zstd",
    ) -> None:
        self.spec = spec
        self.row_group_size = row_group_size
        self.rows_written = 0
        self._pending: list[tuple[Any, ...]] = []
        self._writer = pq.ParquetWriter(sink, spec.schema, compression=compression)

    def add(self, row: Any) -> None:
        self._pending.append(self.spec.row_values(row))
        if len(self._pending) >= self.row_group_size:
            self._write_groups()

    def add_many(self, rows: list[Any]) -> None:
        values = self.spec.row_values
        self._pending.extend([values(r) for r in rows])
        if len(self._pending) >= self.row_group_size:
            self._write_groups()

    @property
    def pending(self) -> int:
        return len(self._pending)

    def _write_groups(self) -> None:
        """Write every full row group buffered; keep the rest."""
        size = self.row_group_size
        while len(self._pending) >= size:
            self._write(self._pending[:size])
            self._pending = self._pending[size:]

    def _write(self, rows: list[tuple[Any, ...]]) -> None:
        batch = self.spec.record_batch(rows)
        self._writer.write_table(pa.Table.from_batches([batch]))
        self.rows_written += len(rows)

    def close(self) -> None:
        """Write what is buffered and the footer; a file sink stays open for its owner."""
        self._write_groups()
        if self._pending:
            self._write(self._pending)
            self._pending = []
        self._writer.close()
