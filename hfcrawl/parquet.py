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
            self.flush()

    def add_many(self, rows: list[Any]) -> None:
        values = self.spec.row_values
        self._pending.extend([values(r) for r in rows])
        if len(self._pending) >= self.row_group_size:
            self.flush()

    @property
    def pending(self) -> int:
        return len(self._pending)

    def flush(self) -> None:
        """Write what is buffered as one row group."""
        if self._pending:
            batch = self.spec.record_batch(self._pending)
            self._writer.write_table(pa.Table.from_batches([batch]))
            self.rows_written += len(self._pending)
            self._pending = []

    def close(self) -> None:
        """Flush and write the footer; a file sink is left open for its owner."""
        self.flush()
        self._writer.close()
