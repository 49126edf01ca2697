"""Commit and discussion pages of the Hub API to rows (``scrapy crawl activity``).

``/api/{type}s/{id}/commits/{rev}`` answers a JSON list of commits, newest first,
paged by a ``Link`` header; ``/api/{type}s/{id}/discussions?p=N`` answers
``{"discussions": [...], "count": total, "start": offset}``, paged by number
(hub-api.md §6; huggingface_hub's ``list_repo_commits`` and
``get_repo_discussions`` read the same keys). Values are passed on as the Hub
sends them: the validation pipeline types them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import msgspec

from hfcrawl.items import Commit, Discussion, Missed


class CommitRecord(msgspec.Struct):
    id: Any = None
    title: Any = None
    date: Any = None
    authors: Any = None


class DiscussionRecord(msgspec.Struct):
    num: Any = None
    title: Any = None
    status: Any = None
    author: Any = None
    isPullRequest: Any = None
    createdAt: Any = None
    numComments: Any = None
    numReactionUsers: Any = None


class DiscussionsBody(msgspec.Struct):
    discussions: list[msgspec.Raw] = []
    count: Any = None
    start: Any = None


_ENTRIES = msgspec.json.Decoder(list[msgspec.Raw])
_COMMIT = msgspec.json.Decoder(CommitRecord)
_DISCUSSIONS = msgspec.json.Decoder(DiscussionsBody)
_DISCUSSION = msgspec.json.Decoder(DiscussionRecord)


def _user_names(authors: Any) -> list[str]:
    # [{"user": "julien-c", "avatar": ...}, ...]
    if not isinstance(authors, list):
        return []
    names = (a.get("user") if isinstance(a, dict) else None for a in authors)
    return [n for n in names if isinstance(n, str) and n]


def _invalid(
    kind: str, repo_id: str, url: str, raw: msgspec.Raw, now: datetime
) -> Missed:
    text = bytes(raw).decode(errors="replace")
    return Missed(
        kind=kind,
        id=repo_id,
        url=url,
        reason="invalid",
        detail=f"entry without its key: {text[:200]}",
        crawled_at=now,
    )


def parse_commits_page(
    body: bytes, repo_type: str, repo_id: str, url: str, crawled_at: datetime
) -> list[Commit | Missed]:
    """A commits page as rows; ``msgspec.DecodeError`` when it is not a JSON
    list. An entry that is not an object with an ``id`` is a Missed row."""
    rows: list[Commit | Missed] = []
    for raw in _ENTRIES.decode(body):
        try:
            record = _COMMIT.decode(raw)
        except msgspec.ValidationError:
            record = None
        if record is None or not isinstance(record.id, str) or not record.id:
            rows.append(_invalid("commits", repo_id, url, raw, crawled_at))
            continue
        rows.append(
            Commit(
                repo_type=repo_type,
                repo_id=repo_id,
                commit_id=record.id,
                title=record.title,
                date=record.date,
                authors=_user_names(record.authors),
                crawled_at=crawled_at,
            )
        )
    return rows


@dataclass(slots=True)
class DiscussionsPage:
    rows: list[Discussion | Missed]
    more: bool  # another page follows (``start + len(discussions) < count``)


def parse_discussions_page(
    body: bytes, repo_type: str, repo_id: str, url: str, crawled_at: datetime
) -> DiscussionsPage:
    """A discussions page as rows, and whether another follows;
    ``msgspec.DecodeError`` when the body is not the Hub's object."""
    page = _DISCUSSIONS.decode(body)
    rows: list[Discussion | Missed] = []
    for raw in page.discussions:
        try:
            record = _DISCUSSION.decode(raw)
        except msgspec.ValidationError:
            record = None
        if record is None or record.num is None:
            rows.append(_invalid("discussions", repo_id, url, raw, crawled_at))
            continue
        author = record.author.get("name") if isinstance(record.author, dict) else None
        rows.append(
            Discussion(
                repo_type=repo_type,
                repo_id=repo_id,
                number=record.num,
                title=record.title,
                status=record.status,
                author=author if isinstance(author, str) and author else None,
                is_pull_request=record.isPullRequest,
                created_at=record.createdAt,
                num_comments=record.numComments,
                num_reaction_users=record.numReactionUsers,
                crawled_at=crawled_at,
            )
        )
    count, start = page.count, page.start
    numbers = all(
        isinstance(v, int) and not isinstance(v, bool) for v in (count, start)
    )
    # an empty page ends the paging whatever the counts say: no endless loop
    more = bool(page.discussions) and numbers and start + len(page.discussions) < count
    return DiscussionsPage(rows, more)
