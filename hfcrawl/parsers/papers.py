"""The Hub's paper pages, ``GET /api/papers/{arxiv_id}`` (hub-api.md §11)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from hfcrawl.coerce import to_datetime
from hfcrawl.items import HubPaper

_decoder = msgspec.json.Decoder()


def decode_paper(body: bytes) -> dict[str, Any]:
    """The paper object; ``msgspec.DecodeError`` when the body is not one."""
    record = _decoder.decode(body)
    if not isinstance(record, dict):
        raise msgspec.DecodeError(
            f"expected a JSON object, got {type(record).__name__}"
        )
    return record


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _date(value: Any) -> datetime | None:
    try:
        return to_datetime(value) if value else None
    except (TypeError, ValueError):
        return None


def _ids(items: Any) -> list[str]:
    """The repo ids of ``linkedModels`` and the like (objects with an ``id``)."""
    if not isinstance(items, list):
        return []
    return [
        i["id"] for i in items if isinstance(i, dict) and isinstance(i.get("id"), str)
    ]


def _name(value: Any, *keys: str) -> str | None:
    if isinstance(value, dict):
        return next((v for k in keys if isinstance(v := value.get(k), str)), None)
    return _str(value)


def _text(value: Any) -> str | None:
    return " ".join(value.split()) or None if isinstance(value, str) else None


def parse_hub_paper(
    record: dict[str, Any], crawled_at: datetime, requested_id: str
) -> HubPaper:
    """A paper page as a row; ``id`` is the Hub's, else the id asked for."""
    authors = record.get("authors")
    authors = authors if isinstance(authors, list) else []
    keywords = record.get("ai_keywords")
    return HubPaper(
        id=_str(record.get("id")) or requested_id,
        title=_text(record.get("title")),
        summary=_text(record.get("summary")),
        published_at=_date(record.get("publishedAt")),
        upvotes=_int(record.get("upvotes")),
        num_comments=_int(record.get("numComments")),
        discussion_id=_str(record.get("discussionId")),
        authors=[n for a in authors if (n := _name(a, "name"))],
        author_users=[
            n
            for a in authors
            if isinstance(a, dict) and (n := _name(a.get("user"), "user"))
        ],
        ai_summary=_text(record.get("ai_summary")),
        ai_keywords=[k for k in keywords if isinstance(k, str)]
        if isinstance(keywords, list)
        else [],
        github_repo=_str(record.get("githubRepo")),
        github_stars=_int(record.get("githubStars")),
        project_page=_str(record.get("projectPage")),
        organization=_name(record.get("organization"), "name"),
        submitted_on_daily_at=_date(record.get("submittedOnDailyAt")),
        submitted_on_daily_by=_name(record.get("submittedOnDailyBy"), "user", "name"),
        linked_models=_ids(record.get("linkedModels")),
        linked_datasets=_ids(record.get("linkedDatasets")),
        linked_spaces=_ids(record.get("linkedSpaces")),
        num_total_models=_int(record.get("numTotalModels")),
        num_total_datasets=_int(record.get("numTotalDatasets")),
        num_total_spaces=_int(record.get("numTotalSpaces")),
        crawled_at=crawled_at,
    )
