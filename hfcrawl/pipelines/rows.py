"""How pipelines see items: as rows, whether they came alone or in an ItemBatch."""

from __future__ import annotations

from typing import Any

from hfcrawl.items import ItemBatch


def rows_of(item: Any) -> list[Any]:
    return item.items if isinstance(item, ItemBatch) else [item]


def with_rows(item: Any, rows: list[Any]) -> Any:
    """The item carrying ``rows`` instead of what it carried.

    None when nothing is left to carry; a batch with a checkpoint travels on
    empty, so the checkpoint still reaches the export pipeline.
    """
    if isinstance(item, ItemBatch):
        item.items = rows
        return item if rows or item.checkpoint else None
    return rows[0] if rows else None
