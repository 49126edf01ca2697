"""Space records of the Hub API (``/api/spaces`` and ``/api/spaces/{id}``) to items.

A Space gives two kinds of row: the ``Space`` itself, and one ``SpaceDependency``
per model or dataset it uses (its ``models`` / ``datasets`` fields).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from hfcrawl.items import Missed, Space, SpaceDependency
from hfcrawl.parsers.models import NULL_RAW, file_names, raw_text, repo_fields


class SpaceRecord(msgspec.Struct, rename={"object_id": "_id"}):
    """One Space as the Hub API returns it (hub-api.md §5)."""

    id: Any = None
    object_id: Any = None
    author: Any = None
    sha: Any = None
    createdAt: Any = None
    lastModified: Any = None
    likes: Any = None
    trendingScore: Any = None
    private: Any = None
    gated: Any = None
    disabled: Any = None
    sdk: Any = None
    runtime: Any = None
    subdomain: Any = None
    region: Any = None
    usedStorage: Any = None
    tags: Any = None
    models: Any = None
    datasets: Any = None
    siblings: msgspec.Raw = NULL_RAW
    cardData: msgspec.Raw = NULL_RAW


_RECORD = msgspec.json.Decoder(SpaceRecord)
_RECORDS = msgspec.json.Decoder(list[msgspec.Raw])


def decode_space(body: bytes | str | msgspec.Raw) -> SpaceRecord:
    """A Space record; ``msgspec.DecodeError`` if the body is not a JSON object."""
    return _RECORD.decode(body)


def _ids(value: Any) -> list[Any]:
    # a list of ids; some clients have seen objects with an ``id`` instead
    if not isinstance(value, list):
        return []
    return [v.get("id") if isinstance(v, dict) else v for v in value]


def parse_space(
    record: SpaceRecord, crawled_at: datetime, requested_id: str | None = None
) -> list[Space | SpaceDependency]:
    """The Space's row, then one dependency row per model and dataset it uses."""
    r = record
    runtime = r.runtime if isinstance(r.runtime, dict) else {}
    hardware = runtime.get("hardware")
    hardware = hardware if isinstance(hardware, dict) else {}
    tags = r.tags if isinstance(r.tags, list) else []
    models, datasets = _ids(r.models), _ids(r.datasets)
    licence = next(
        (
            t[8:].lower()
            for t in tags
            if isinstance(t, str) and t.startswith("license:")
        ),
        None,
    )
    space = Space(
        id=r.id,
        **repo_fields(r, requested_id),
        sdk=r.sdk,
        runtime_stage=runtime.get("stage"),
        runtime_hardware=hardware.get("current") or hardware.get("requested"),
        subdomain=r.subdomain,
        region=r.region,
        used_storage=r.usedStorage,
        tags=tags,
        siblings=file_names(r.siblings) if r.siblings is not NULL_RAW else [],
        models=models,
        datasets=datasets,
        card_data=raw_text(r.cardData),
        license=licence,
        crawled_at=crawled_at,
    )
    rows: list[Space | SpaceDependency] = [space]
    if isinstance(r.id, str):
        for kind, ids in (("model", models), ("dataset", datasets)):
            rows += [
                SpaceDependency(
                    space=r.id, repo_type=kind, repo_id=i, crawled_at=crawled_at
                )
                for i in ids
                if isinstance(i, str) and i
            ]
    return rows


def parse_spaces_page(body: bytes, url: str, crawled_at: datetime) -> list[Any]:
    """A ``/api/spaces`` page as rows; an entry that is not an object is Missed."""
    rows: list[Any] = []
    for raw in _RECORDS.decode(body):
        try:
            rows += parse_space(_RECORD.decode(raw), crawled_at)
        except msgspec.ValidationError:
            text = bytes(raw).decode(errors="replace")
            rows.append(
                Missed(
                    kind="space",
                    url=url,
                    reason="invalid",
                    detail=f"listing entry is not an object: {text[:200]}",
                    crawled_at=crawled_at,
                )
            )
    return rows
