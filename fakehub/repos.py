"""A collection of repos (datasets, spaces) answered as the Hub answers them.

``/api/<kind>`` lists with the models listing's rules (a cursor in an absolute
``Link`` header, ``search``/``author``/``filter``/``sort``/``limit``, 400 for an
unknown ``expand`` value) and ``/api/<kind>/{id}`` answers one record (401/404
for a missing or private one, as ``FakeHub.not_found`` does, 403 for a disabled
one). ``filters`` adds a collection's own listing parameters.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import unquote, urlencode

import orjson

from fakehub.exchange import HubRequest, HubResponse, json_error

if TYPE_CHECKING:
    from fakehub.server import FakeHub

MAX_LIMIT: Final = 1000
SORTS: Final = ("lastModified", "createdAt", "downloads", "likes", "trendingScore")
Record = dict[str, Any]


class RepoCollection:
    def __init__(
        self,
        hub: FakeHub,
        kind: str,
        records: list[Record],
        expand: tuple[str, ...],
        default_keys: tuple[str, ...],
        filters: Mapping[str, Callable[[Record, str], bool]] | None = None,
    ) -> None:
        self.hub = hub
        self.path = f"/api/{kind}"
        self.records = records
        self.expand = expand
        self.default_keys = default_keys
        self.filters = dict(filters or {})
        self.by_id = {r["id"]: r for r in records}
        self.listed = [r for r in records if not r["private"]]

    def serves(self, path: str) -> bool:
        return path == self.path or path.startswith(f"{self.path}/")

    def answer(self, request: HubRequest) -> HubResponse:
        bad = next(
            (v for v in request.values("expand", "expand[]") if v not in self.expand),
            None,
        )
        if bad is not None:
            return json_error(
                400, f'"expand" must be one of {", ".join(self.expand)}; got {bad!r}'
            )
        if request.path == self.path:
            return self.listing(request)
        return self.info(request, unquote(request.path[len(self.path) + 1 :]))

    def _keys(self, request: HubRequest) -> tuple[str, ...] | None:
        expand = request.values("expand", "expand[]")
        if not expand:
            return None
        return ("_id", "id", *(k for k in self.expand if k in expand))

    def listing(self, request: HubRequest) -> HubResponse:
        try:
            limit = min(int(request.last("limit") or MAX_LIMIT), MAX_LIMIT)
            cursor = request.last("cursor")
            start = int(base64.urlsafe_b64decode(cursor)) if cursor else 0
        except ValueError:
            return json_error(400, "Invalid limit or cursor")
        rows = self._matching(request)
        keys = self._keys(request) or self.default_keys
        page = [_view(r, keys) for r in rows[start : start + limit]]
        headers = []
        if start + limit < len(rows):
            pairs = [(k, v) for k, v in request.query if k != "cursor"]
            nxt = base64.urlsafe_b64encode(str(start + limit).encode()).decode()
            pairs.append(("cursor", nxt))
            url = f"{self.hub.url}{request.path}?{urlencode(pairs)}"
            headers.append(("Link", f'<{url}>; rel="next"'))
        return HubResponse(200, orjson.dumps(page), headers=headers)

    def _matching(self, request: HubRequest) -> list[Record]:
        rows = self.listed
        search, author = request.last("search"), request.last("author")
        if search:
            rows = [r for r in rows if search.lower() in r["id"].lower()]
        if author:
            rows = [r for r in rows if r["author"] == author]
        for tag in request.values("filter"):
            rows = [r for r in rows if tag in r["tags"]]
        for name, keeps in self.filters.items():
            for value in request.values(name):
                rows = [r for r in rows if keeps(r, value)]
        sort = request.last("sort")
        if sort in SORTS:
            rows = sorted(rows, key=lambda r: r.get(sort) or 0, reverse=True)
        return rows

    def info(self, request: HubRequest, repo_id: str) -> HubResponse:
        record = self.by_id.get(repo_id)
        if record is None or record["private"]:
            return self.hub.not_found(request)
        if record["disabled"]:
            return json_error(403, "Access to this resource is disabled.", header=True)
        return HubResponse(200, orjson.dumps(_view(record, self._keys(request))))


def _view(record: Record, keys: tuple[str, ...] | None) -> Record:
    if keys is None:
        return dict(record)
    return {k: record[k] for k in keys if k in record}
