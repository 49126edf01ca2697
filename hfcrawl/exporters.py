"""The ``parquet`` feed format: ``scrapy crawl models -O models.parquet``."""

from __future__ import annotations

import logging
from typing import IO, TYPE_CHECKING, Any

from scrapy.exporters import BaseItemExporter
from scrapy.utils.misc import load_object

from hfcrawl.parquet import ParquetTableWriter
from hfcrawl.schema import table_spec

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)


class ParquetItemExporter(BaseItemExporter):
    """Typed Parquet, streamed in row groups, through the same writer as run folders.

    One file holds one item class: ``item_class`` (feed option
    ``item_export_kwargs``), else the class of the first row. Rows of other
    classes are skipped and counted; route them with ``item_classes``.
    """

    def __init__(
        self,
        file: IO[bytes],
        *,
        item_class: type | str | None = None,
        row_group_size: int = 10_000,
        compression: str = "zstd",
        **kwargs: Any,
    ) -> None:
        # FeedSlot passes encoding/indent/fields_to_export; Parquet has no use for them
        super().__init__(dont_fail=True, **kwargs)
        self.file = file
        self.item_class = (
            load_object(item_class) if isinstance(item_class, str) else item_class
        )
        self.row_group_size = int(row_group_size)
        self.compression = compression
        self.skipped: dict[str, int] = {}
        self._writer: ParquetTableWriter | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler, file: IO[bytes], **kwargs: Any) -> Self:
        kwargs.setdefault(
            "row_group_size", crawler.settings.getint("HFCRAWL_ROW_GROUP_ROWS", 10_000)
        )
        kwargs.setdefault(
            "compression", crawler.settings.get("HFCRAWL_PARQUET_COMPRESSION", "zstd")
        )
        return cls(file, **kwargs)

    def start_exporting(self) -> None:
        if self.file.tell() != 0:
            raise ValueError(
                "a Parquet feed cannot be appended to: use -O, or 'overwrite': True in FEEDS"
            )

    def export_item(self, item: Any) -> None:
        if self._writer is None:
            self.item_class = self.item_class or type(item)
            self._writer = ParquetTableWriter(
                self.file,
                table_spec(self.item_class),
                row_group_size=self.row_group_size,
                compression=self.compression,
            )
        assert self.item_class is not None
        if type(item) is not self.item_class:
            name = type(item).__name__
            if name not in self.skipped:
                logger.warning(
                    "Parquet feed of %s rows: skipping %s rows (route them with item_classes)",
                    self.item_class.__name__,
                    name,
                )
            self.skipped[name] = self.skipped.get(name, 0) + 1
            return
        self._writer.add(item)

    def finish_exporting(self) -> None:
        if self._writer is None:  # no rows: still a valid (empty) file
            if self.item_class is None:
                return
            self._writer = ParquetTableWriter(self.file, table_spec(self.item_class))
        self._writer.close()
