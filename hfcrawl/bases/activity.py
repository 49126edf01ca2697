"""What the ``activity`` spider adds to a listing spider: each selected repo's
commits and discussions, read to their last page, and resume by history.

A repo is selected as its listing spider selects it (``models``, ``datasets``,
``spaces``: a listing query, whose rows land in this run's table of that repo
type, or ``ids`` / ``ids_file`` / ``from_run``). Each selected repo then gets two
streams, each paged to its end:

- ``commits``: ``/api/{type}s/{id}/commits/{revision}``, following the ``Link``
  header; the revision is the listed row's (or ``from_run`` row's) ``sha``, so the
  history is the one of the commit the row describes, else ``main``;
- ``discussions``: ``/api/{type}s/{id}/discussions?p=N`` from ``p=0`` while
  ``start + len(discussions) < count`` (hub-api.md §6).

Pages are asked one after the other, and the last page's batch ends with an
``ActivityDone`` row for that repo and stream. So a stream is done once its
marker, or a ``Missed`` row of its kind, is in the run folder; at start every
stream not done is asked for again from its first page (the rows already written
are dropped by dedup: commits by repo and sha, discussions by repo and number).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Final
from urllib.parse import quote, unquote, urlsplit

import msgspec
from scrapy import Request

from hfcrawl.args import ArgumentError, SelectionArguments, boolean
from hfcrawl.bases.listing import HubListingSpider
from hfcrawl.contributions import write_contributions
from hfcrawl.items import ActivityDone, ItemBatch, Missed
from hfcrawl.parsers.activity import parse_commits_page, parse_discussions_page
from hfcrawl.parsers.links import next_link
from hfcrawl.runfolder import read_columns

if TYPE_CHECKING:
    from scrapy.http import Response
    from twisted.python.failure import Failure

    from hfcrawl.runfolder import RunFolder

ACTIVITY: Final = "activity"
STREAMS: Final = ("commits", "discussions")
REPO_TYPES: Final = {
    "model": "model",
    "models": "model",
    "dataset": "dataset",
    "datasets": "dataset",
    "space": "space",
    "spaces": "space",
}


def repo_type_of(raw: Mapping[str, Any]) -> str:
    """The ``repo_type`` argument (``model`` when not given)."""
    value = str(raw.get("repo_type") or "model").strip().lower()
    if value not in REPO_TYPES:
        raise ArgumentError(
            f"repo_type: expected one of dataset, model, space, got {value!r}"
        )
    return REPO_TYPES[value]


@dataclass(frozen=True)
class ActivityArguments(SelectionArguments):
    """Mixed before a listing spider's arguments: its selection, plus these."""

    repo_type: str = "model"
    network: bool = False

    ACTIVITY_OWN: ClassVar[tuple[str, ...]] = ("repo_type", "network")

    @classmethod
    def parse_own(cls, args: Mapping[str, str]) -> dict[str, Any]:
        return {
            **super().parse_own(args),
            "repo_type": repo_type_of(args),
            "network": boolean("network", args.get("network", "false")),
        }


class ActivityBase(HubListingSpider):
    """Put before a listing spider (``class X(ActivityBase, ModelsSpider)``): its
    selection, then the commits and discussions of every repo selected."""

    options: ActivityArguments
    custom_settings = {
        # as for cards: a page gives one item and the pipelines are synchronous;
        # cookies, meta refresh, URL length and depth mean nothing here (the
        # referer middleware stays: the redirect middleware wants it for renames)
        "CONCURRENT_ITEMS": 2,
        "COOKIES_ENABLED": False,
        "METAREFRESH_ENABLED": False,
        "URLLENGTH_LIMIT": 0,
        "SPIDER_MIDDLEWARES": {"scrapy.spidermiddlewares.depth.DepthMiddleware": None},
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # every variant is the one ``activity`` spider (its run folder, its logs)
        self.name = ACTIVITY
        super().__init__(*args, **kwargs)
        self.done: dict[str, set[str]] = {s: set() for s in STREAMS}
        self.asked: set[tuple[str, str]] = set()  # (stream, repo) this session
        self._run_shas: dict[str, str] | None = None

    # --- start and resume -----------------------------------------------------------
    async def start(self) -> AsyncIterator[Any]:
        self.done = self.done_streams()
        async for item in super().start():
            yield item

    def done_streams(self) -> dict[str, set[str]]:
        """Per stream, the repos a run has finished: a marker, or a Missed row."""
        folder = self.run_folder
        done: dict[str, set[str]] = {s: set() for s in STREAMS}
        for repo_id, stream in read_columns(
            folder / ActivityDone.table, ("repo_id", "stream")
        ):
            if stream in done and repo_id:
                done[stream].add(repo_id)
        for kind, repo_id in read_columns(folder / Missed.table, ("kind", "id")):
            if kind in done and repo_id:
                done[kind].add(repo_id)
        return done

    def targeted_requests(self, done: set[str]) -> Iterator[Any]:
        # the base reads the ids and yields a record request per id not done;
        # activity asks for each id's unfinished streams instead
        finished = set.intersection(*self.done.values())
        for item in super().targeted_requests(done | finished):
            if isinstance(item, Request):
                repo_id = item.cb_kwargs["requested_id"]
                yield from self.activity_requests(repo_id, self._run_sha(repo_id))
            else:
                yield item

    def record_expand(self) -> tuple[str, ...]:
        return ()  # targeted ids never fetch their record (see targeted_requests)

    def follow_ups(self, rows: list[Any]) -> Iterable[Request]:
        for row in rows:
            if isinstance(row, self.row_class) and isinstance(row.id, str):  # type: ignore[attr-defined]
                yield from self.activity_requests(row.id, row.sha)  # type: ignore[attr-defined]

    def resumed_follow_ups(self) -> Iterable[Request]:
        listed = read_columns(self.run_folder / self.row_class.table, ("id", "sha"))
        for repo_id, sha in sorted(listed, key=lambda r: r[0] or ""):
            if repo_id:
                yield from self.activity_requests(repo_id, sha)

    def _run_sha(self, repo_id: str) -> str | None:
        folder = self.options.from_run
        if folder is None:
            return None
        if self._run_shas is None:
            rows = read_columns(folder / self.row_class.table, ("id", "sha"))
            self._run_shas = {i: s for i, s in rows if i and isinstance(s, str) and s}
        return self._run_shas.get(repo_id)

    # --- requests -------------------------------------------------------------------
    def activity_requests(self, repo_id: str, sha: Any) -> Iterator[Request]:
        """The first page of each stream of ``repo_id`` not done, once a session."""
        for stream in STREAMS:
            if repo_id in self.done[stream] or (stream, repo_id) in self.asked:
                continue
            self.asked.add((stream, repo_id))
            if stream == "commits":
                revision = sha if isinstance(sha, str) and sha else "main"
                yield self.commits_request(repo_id, revision)
            else:
                yield self.discussions_request(repo_id)

    def _repo_path(self, repo_id: str) -> str:
        return f"/api/{self.repo_type}s/{self.quote_id(repo_id)}"

    def commits_request(
        self,
        repo_id: str,
        revision: str,
        url: str | None = None,
        page: int = 1,
        count: int = 0,
    ) -> Request:
        if url is None:
            url = self.api_url(
                f"{self._repo_path(repo_id)}/commits/{quote(revision, safe='')}"
            )
        return self._stream_request(
            url, "commits", repo_id, page, count, revision=revision
        )

    def discussions_request(
        self, repo_id: str, page: int = 1, count: int = 0
    ) -> Request:
        # the Hub numbers discussion pages from 0
        url = self.api_url(f"{self._repo_path(repo_id)}/discussions", [("p", page - 1)])
        return self._stream_request(url, "discussions", repo_id, page, count)

    def _stream_request(
        self,
        url: str,
        stream: str,
        repo_id: str,
        page: int,
        count: int,
        **extra: Any,
    ) -> Request:
        callback = self.parse_commits if stream == "commits" else self.parse_discussions
        return Request(
            url,
            callback=callback,
            errback=self.stream_failed,
            cb_kwargs={"repo_id": repo_id, "page": page, "count": count, **extra},
            meta={"hfcrawl_stream": stream},
            dont_filter=True,  # see HubListingSpider.listing_request
        )

    # --- answers --------------------------------------------------------------------
    def parse_commits(
        self, response: Response, repo_id: str, page: int, count: int, revision: str
    ) -> Iterator[Any]:
        current = self._served_id(response.url, "/commits/") or repo_id
        try:
            rows = parse_commits_page(
                response.body, self.repo_type, current, response.url, self.now()
            )
        except msgspec.DecodeError as exc:
            yield self.retry_or_missed(response, "commits", repo_id, exc)
            return
        count += len(rows)
        nxt = next_link(response.headers.get(b"Link"))
        if nxt:
            # the next page downloads while this one goes through the pipelines
            yield self.commits_request(repo_id, revision, nxt, page + 1, count)
            yield ItemBatch(list(rows))
            return
        marker = self._marker(repo_id, current, "commits", page, count, revision)
        yield ItemBatch([*rows, marker])

    def parse_discussions(
        self, response: Response, repo_id: str, page: int, count: int
    ) -> Iterator[Any]:
        current = self._served_id(response.url, "/discussions") or repo_id
        try:
            found = parse_discussions_page(
                response.body, self.repo_type, current, response.url, self.now()
            )
        except msgspec.DecodeError as exc:
            yield self.retry_or_missed(response, "discussions", repo_id, exc)
            return
        count += len(found.rows)
        if found.more:
            yield self.discussions_request(repo_id, page + 1, count)
            yield ItemBatch(list(found.rows))
            return
        marker = self._marker(repo_id, current, "discussions", page, count, None)
        yield ItemBatch([*found.rows, marker])

    def _marker(
        self,
        repo_id: str,
        current: str,
        stream: str,
        pages: int,
        rows: int,
        revision: str | None,
    ) -> ActivityDone:
        return ActivityDone(
            repo_type=self.repo_type,
            repo_id=repo_id,
            stream=stream,
            current_id=current if current != repo_id else None,
            revision=revision,
            pages=pages,
            rows=rows,
            crawled_at=self.now(),
        )

    def _served_id(self, url: str, after: str) -> str | None:
        """The repo id in the URL that answered (a rename's new id)."""
        path = urlsplit(url).path
        prefix = f"{urlsplit(self.endpoint).path.rstrip('/')}/api/{self.repo_type}s/"
        if not path.startswith(prefix):
            return None
        repo, sep, _ = path[len(prefix) :].rpartition(after)
        return unquote(repo) if sep and repo else None

    def stream_failed(self, failure: Failure) -> Iterator[Missed]:
        request = failure.request  # type: ignore[attr-defined]
        stream = request.meta["hfcrawl_stream"]
        yield self.missed(failure, stream, request.cb_kwargs["repo_id"])

    # --- at the end -----------------------------------------------------------------
    def close_run(self, folder: RunFolder) -> None:
        """Called by the export pipeline once every part is complete, before the
        manifest: ``contributions`` (and ``collaborations``) from the commits on
        disk, so a resumed crawl derives the same as an uninterrupted one."""
        counts = write_contributions(
            folder.path,
            network=self.options.network,
            compression=folder.options.compression,
            row_group_size=folder.options.row_group_size,
        )
        for table, rows in counts.items():
            self.crawler.stats.set_value(f"hfcrawl/rows/{table}", rows)
