"""Commits and discussions of the fake Hub's repos (hub-api.md §6, §7).

- ``GET /api/{models,datasets,spaces}/{id}/commits/{rev}``: a JSON list of
  ``{id, title, message, authors: [{user, avatar}], date}``, newest first,
  ``COMMITS_PAGE`` a page, the next page in an absolute ``Link`` header (the
  listing's rules). ``rev`` is ``main``, a ``refs/...`` name, or a commit of the
  history (the history from it); anything else answers 404 ``RevisionNotFound``.
- ``GET /api/{type}s/{id}/discussions?p=N``: ``{"discussions": [...], "count":
  total, "start": offset, "numClosedDiscussions": k}``, ``DISCUSSIONS_PAGE`` a
  page, newest first; items ``num, title, author{name}, createdAt, status,
  repo{name, type}, isPullRequest, numComments, numReactionUsers``. A deleted
  user's discussion has no ``author`` (huggingface_hub reads that as "deleted").

Histories are made from each repo's id and the hub's seed, the same on every
call: most repos have a few commits and discussions, every 50th has several
pages of commits, every 40th (from the 10th) several pages of discussions, every 97th is empty
(no ``main``: commits answer 404 ``RevisionNotFound``). The newest commit is the
repo record's ``sha``. Commit authors come from a pool of 40 users, so authors
share repos. Missing and private repos answer as ``/api/{type}s/{id}`` does
(401 anonymous, 404 with a token), disabled ones 403; gated ones answer: their
metadata is public, as ``/tree`` and ``/discussions`` are (§7).
"""

from __future__ import annotations

import hashlib
import random
import re
import threading
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import quote, unquote, urlencode

import orjson

from fakehub.exchange import TEXT_TYPE, HubRequest, HubResponse, json_error

if TYPE_CHECKING:
    from fakehub.server import FakeHub

COMMITS_PAGE: Final = 50
DISCUSSIONS_PAGE: Final = 50
USERS: Final = tuple(f"dev-{i:02d}" for i in range(40))
KINDS: Final = {"models": "model", "datasets": "dataset", "spaces": "space"}

_PATH = re.compile(
    r"^/api/(models|datasets|spaces)/(.+?)/(?:commits/(.+)|(discussions))$"
)
_TITLES = (
    "Upload folder using huggingface_hub",
    "Update README.md",
    "Upload model.safetensors",
    "Add config",
    "initial commit",
)
_EPOCH = datetime(2023, 1, 2, 8, 0, tzinfo=UTC)
_LOCK = threading.Lock()


def serves(path: str) -> bool:
    return _PATH.match(path) is not None


def answer(hub: FakeHub, request: HubRequest) -> HubResponse:
    return Activity.of(hub).answer(request)


def _iso(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.000Z")


class Activity:
    """The commits and discussions of one fake Hub's repos."""

    def __init__(self, hub: FakeHub) -> None:
        self.hub = hub
        self._cache: dict[tuple[str, str], tuple[list[Any], list[Any]]] = {}
        self._lock = threading.Lock()
        self._index = {
            "model": {
                r["id"]: i
                for i, r in enumerate(hub.records)
                if isinstance(r.get("id"), str)
            },
            "dataset": {r["id"]: i for i, r in enumerate(hub.datasets.records)},
            "space": {r["id"]: i for i, r in enumerate(hub.spaces.records)},
        }

    @classmethod
    def of(cls, hub: FakeHub) -> Activity:
        """The hub's one ``Activity``, made on first use."""
        with _LOCK:
            found = hub.__dict__.get("activity")
            if found is None:
                found = hub.__dict__["activity"] = cls(hub)
        return found

    # --- what a repo holds -------------------------------------------------------
    def record(self, kind: str, repo_id: str) -> dict[str, Any] | None:
        index = self._index[kind].get(repo_id)
        if index is None:
            return None
        collection = {
            "model": self.hub.records,
            "dataset": self.hub.datasets.records,
            "space": self.hub.spaces.records,
        }[kind]
        return collection[index]

    def commits(self, kind: str, repo_id: str) -> list[dict[str, Any]]:
        """The repo's whole history on ``main``, newest first ([] when empty)."""
        return self._history(kind, repo_id)[0]

    def discussions(self, kind: str, repo_id: str) -> list[dict[str, Any]]:
        """The repo's discussions and pull requests, newest first."""
        return self._history(kind, repo_id)[1]

    def empty(self, kind: str, repo_id: str) -> bool:
        return self._index[kind].get(repo_id, 0) % 97 == 11

    def _history(self, kind: str, repo_id: str) -> tuple[list[Any], list[Any]]:
        key = (kind, repo_id)
        with self._lock:
            found = self._cache.get(key)
        if found is None:
            found = self._make(kind, repo_id)
            with self._lock:
                self._cache[key] = found
        return found

    def _make(self, kind: str, repo_id: str) -> tuple[list[Any], list[Any]]:
        index = self._index[kind].get(repo_id, 0)
        rng = random.Random(f"{self.hub.seed}:{kind}:{repo_id}")
        team = rng.sample(USERS, k=rng.randint(1, 4))
        commits: list[dict[str, Any]] = []
        if not self.empty(kind, repo_id):
            n = rng.randint(120, 260) if index % 50 == 3 else rng.randint(1, 12)
            for i in range(n):
                authors = [rng.choice(team)]
                if rng.random() < 0.1:  # co-authored
                    authors.append(rng.choice(USERS))
                sha = hashlib.sha1(f"{kind}:{repo_id}:{i}".encode()).hexdigest()
                commits.append(
                    {
                        "id": sha,
                        "title": "initial commit" if i == 0 else rng.choice(_TITLES),
                        "message": "",
                        "authors": [
                            {"user": u, "avatar": f"/avatars/{u}.svg"}
                            for u in dict.fromkeys(authors)
                        ],
                        "date": _iso(_EPOCH + timedelta(hours=7 * i + index)),
                    }
                )
            commits.reverse()
            sha = (self.record(kind, repo_id) or {}).get("sha")
            if isinstance(sha, str) and sha:
                commits[0]["id"] = sha  # the record describes the newest commit
        count = rng.randint(60, 130) if index % 40 == 9 else rng.randint(0, 4)
        discussions = []
        for num in range(count, 0, -1):
            pr = rng.random() < 0.3
            item: dict[str, Any] = {
                "num": num,
                "title": f"{'PR' if pr else 'Question'} #{num} about {repo_id}",
                "status": rng.choice(
                    ("open", "closed", "merged") if pr else ("open", "closed")
                ),
                "createdAt": _iso(_EPOCH + timedelta(days=num, hours=index % 24)),
                "repo": {"name": repo_id, "type": kind},
                "isPullRequest": pr,
                "numComments": rng.randint(0, 30),
                "numReactionUsers": rng.randint(0, 5),
                "pinned": False,
            }
            if num % 17 != 5:  # every so often the author's account is gone
                user = rng.choice(USERS)
                item["author"] = {
                    "name": user,
                    "fullname": user,
                    "type": "user",
                    "isPro": False,
                }
            discussions.append(item)
        return commits, discussions

    # --- HTTP --------------------------------------------------------------------
    def answer(self, request: HubRequest) -> HubResponse:
        match = _PATH.match(request.path)
        assert match is not None
        plural, raw_id, raw_rev, _ = match.groups()
        kind = KINDS[plural]
        repo_id = unquote(raw_id)
        renamed = self.hub._renames.get(repo_id) if kind == "model" else None
        if renamed is not None:
            location = request.target.replace(raw_id, quote(renamed, safe="/"), 1)
            return HubResponse(
                307,
                f"Temporary Redirect. Redirecting to {location}".encode(),
                TEXT_TYPE,
                [("Location", location)],
            )
        rec = self.record(kind, repo_id)
        if rec is None or (
            rec.get("private") is True
            and self.hub._token(request) != self.hub.owner_token
        ):
            return self.hub.not_found(request)
        if rec.get("disabled") is True:
            return json_error(403, "Access to this resource is disabled.", header=True)
        if raw_rev is None:
            return self._discussions(request, kind, repo_id)
        return self._commits(request, kind, repo_id, unquote(raw_rev))

    def _page_number(self, request: HubRequest) -> int:
        try:
            return max(0, int(request.last("p") or 0))
        except ValueError:
            return 0

    def _commits(
        self, request: HubRequest, kind: str, repo_id: str, revision: str
    ) -> HubResponse:
        history = self.commits(kind, repo_id)
        if revision != "main" and not revision.startswith("refs/"):
            ids = [c["id"] for c in history]
            history = history[ids.index(revision) :] if revision in ids else []
        if not history:
            return json_error(
                404, f"Invalid rev id: {revision}", code="RevisionNotFound", header=True
            )
        page = self._page_number(request)
        start = page * COMMITS_PAGE
        headers = []
        if start + COMMITS_PAGE < len(history):
            pairs = [(k, v) for k, v in request.query if k != "p"] + [
                ("p", str(page + 1))
            ]
            url = f"{self.hub.url}{request.path}?{urlencode(pairs)}"
            headers.append(("Link", f'<{url}>; rel="next"'))
        return HubResponse(
            200, orjson.dumps(history[start : start + COMMITS_PAGE]), headers=headers
        )

    def _discussions(self, request: HubRequest, kind: str, repo_id: str) -> HubResponse:
        found = self.discussions(kind, repo_id)
        start = self._page_number(request) * DISCUSSIONS_PAGE
        body = {
            "discussions": found[start : start + DISCUSSIONS_PAGE],
            "count": len(found),
            "start": start,
            "numClosedDiscussions": sum(d["status"] != "open" for d in found),
        }
        return HubResponse(200, orjson.dumps(body))
