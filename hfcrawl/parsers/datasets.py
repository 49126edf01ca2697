"""Dataset records of the Hub API (``/api/datasets`` and ``/api/datasets/{id}``) to items.

Decoded like model records (``hfcrawl.parsers.models``): every field ``Any`` or
``msgspec.Raw``, so no value can fail a record; validation coerces types.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from hfcrawl.items import Dataset, Missed
from hfcrawl.parsers.models import NULL_RAW, file_names, raw_text, repo_fields


class DatasetRecord(msgspec.Struct, rename={"object_id": "_id"}):
    """One dataset as the Hub API returns it (hub-api.md §4)."""

    id: Any = None
    object_id: Any = None
    author: Any = None
    sha: Any = None
    createdAt: Any = None
    lastModified: Any = None
    downloads: Any = None
    downloadsAllTime: Any = None
    likes: Any = None
    trendingScore: Any = None
    private: Any = None
    gated: Any = None
    disabled: Any = None
    description: Any = None
    citation: Any = None
    paperswithcode_id: Any = None
    mainSize: Any = None
    usedStorage: Any = None
    tags: Any = None
    siblings: msgspec.Raw = NULL_RAW
    cardData: msgspec.Raw = NULL_RAW


_RECORD = msgspec.json.Decoder(DatasetRecord)
_RECORDS = msgspec.json.Decoder(list[msgspec.Raw])
# tag prefix -> the Dataset field that collects its values
_TAG_LISTS = {
    "language": "languages",
    "task_categories": "task_categories",
    "size_categories": "size_categories",
    "arxiv": "arxiv_ids",
}


def decode_dataset(body: bytes | str | msgspec.Raw) -> DatasetRecord:
    """A dataset record; ``msgspec.DecodeError`` if the body is not a JSON object."""
    return _RECORD.decode(body)


def parse_dataset(
    record: DatasetRecord, crawled_at: datetime, requested_id: str | None = None
) -> Dataset:
    r = record
    tags = r.tags if isinstance(r.tags, list) else []
    derived: dict[str, Any] = {name: [] for name in _TAG_LISTS.values()}
    licence = None
    for tag in tags:
        prefix, sep, value = (
            tag.partition(":") if isinstance(tag, str) else ("", "", "")
        )
        if sep and prefix in _TAG_LISTS:
            derived[_TAG_LISTS[prefix]].append(value)
        elif sep and prefix == "license" and licence is None:
            licence = value.strip().lower()
    return Dataset(
        id=r.id,
        **repo_fields(r, requested_id),
        downloads=r.downloads,
        downloads_all_time=r.downloadsAllTime,
        description=r.description,
        citation=r.citation,
        paperswithcode_id=r.paperswithcode_id,
        main_size=r.mainSize,
        used_storage=r.usedStorage,
        tags=tags,
        siblings=file_names(r.siblings) if r.siblings is not NULL_RAW else [],
        card_data=raw_text(r.cardData),
        license=licence,
        crawled_at=crawled_at,
        **derived,
    )


def parse_datasets_page(
    body: bytes, url: str, crawled_at: datetime
) -> list[Dataset | Missed]:
    """A ``/api/datasets`` page as rows; an entry that is not an object is Missed.

    Raises ``msgspec.DecodeError`` when the page is not a JSON list."""
    rows: list[Dataset | Missed] = []
    for raw in _RECORDS.decode(body):
        try:
            rows.append(parse_dataset(_RECORD.decode(raw), crawled_at))
        except msgspec.ValidationError:
            text = bytes(raw).decode(errors="replace")
            rows.append(
                Missed(
                    kind="dataset",
                    url=url,
                    reason="invalid",
                    detail=f"listing entry is not an object: {text[:200]}",
                    crawled_at=crawled_at,
                )
            )
    return rows
