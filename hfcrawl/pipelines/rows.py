"""How pipelines see items: as rows, whether they came alone or in an ItemBatch."""

from __future__ import annotations

from typing import Any

from hfcrawl.items import ItemBatch


def rows_of(item: Any) -> list[Any]:
    return item.items if isinstance(item, ItemBatch) else [item]


def with_rows(item: Any, rows: list[Any]) -> Any:
    """The item carrying ``rows`` instead of what it carried (None when empty)."""
    if isinstance(item, ItemBatch):
        item.items = rows
        return item if rows else None
    return rows[0] if rows else None
