"""The base of every spider that lists a Hub collection (``/api/models``,
``/api/datasets``, ...) or fetches its records by id.

A spider declares what is particular to it, as AllThePlaces spiders sit on their
storefinders: ``api_path``, ``repo_type``, ``row_class``, ``list_expand``, its
``Arguments`` (on ``SelectionArguments``), and the parsing hooks ``parse_page``
and ``parse_record``. Everything else lives here once: cursor paging through the
``Link`` header, trimming to ``limit`` and ``since``, targeted ids (from
arguments, a file or an earlier run folder; renames followed), failures as
``Missed`` rows, and resume (the listing's checkpoint, the ids a run already
answered).
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Iterable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from scrapy import Request

from hfcrawl.args import SelectionArguments
from hfcrawl.bases.hub import HubSpider
from hfcrawl.checkpoint import load_checkpoint
from hfcrawl.coerce import to_datetime
from hfcrawl.hub import MAX_PAGE_SIZE
from hfcrawl.items import ItemBatch, Missed, Row
from hfcrawl.parsers.ids import IdLine, count_ids, read_ids
from hfcrawl.parsers.links import next_link
from hfcrawl.runs import done_ids, run_dir, table_ids
from hfcrawl.scaleout import LEASE

if TYPE_CHECKING:
    from scrapy.http import Response
    from twisted.python.failure import Failure


class HubListingSpider(HubSpider):
    """Lists ``api_path`` page by page, or fetches ``api_path/{id}`` per id."""

    api_path: ClassVar[str]  # "/api/models"
    repo_type: ClassVar[str]  # "model": the Missed kind, and the id rules
    row_class: ClassVar[type[Row]]  # the rows listed (they carry ``id``)
    list_expand: ClassVar[tuple[str, ...]] = ()
    Arguments: ClassVar[type[SelectionArguments]] = SelectionArguments
    options: SelectionArguments
    # what parse_page / parse_record raise for a body that is not JSON
    decode_errors: ClassVar[tuple[type[Exception], ...]] = (ValueError,)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rows_emitted = 0
        self.pages_done = 0
        self.listing_total: int | None = None  # X-Total-Count, when the Hub sends it
        self._id_count: int | None = None

    # --- hooks ------------------------------------------------------------------
    def listing_params(self) -> list[tuple[str, str | int]]:
        """Query parameters of the first listing page, beside limit and expand."""
        opts = self.options
        params: list[tuple[str, str | int]] = [
            (name, value)
            for name in ("search", "author", "sort")
            if (value := getattr(opts, name))
        ]
        return params + [("filter", f) for f in opts.filters]

    def parse_page(self, response: Response) -> list[Any]:
        """A listing page's rows (``row_class`` rows, or ``Missed`` rows)."""
        raise NotImplementedError

    def parse_record(self, response: Response, requested_id: str) -> list[Any]:
        """The rows of one record fetched by id."""
        raise NotImplementedError

    def record_expand(self) -> tuple[str, ...]:
        """``expand[]`` of a record fetched by id."""
        return self.list_expand

    def follow_ups(self, rows: list[Any]) -> Iterable[Request]:
        """Requests to make for a listing page's rows (details, say)."""
        return ()

    def resumed_follow_ups(self) -> Iterable[Request]:
        """The follow-ups an earlier session of this run left undone."""
        return ()

    # --- start and resume -----------------------------------------------------
    @property
    def retry_missed(self) -> bool:
        """Read by the export pipeline, which drops the run's ``error`` rows."""
        return self.options.retry_missed

    @property
    def run_folder(self) -> Any:
        return run_dir(self.crawler)

    async def start(self) -> AsyncIterator[Any]:
        if self.options.targeted:
            done = done_ids(self.run_folder, self.row_class.table, self.repo_type)
            for item in self.targeted_requests(done):
                yield item
            return
        listing = load_checkpoint(self.settings).get("listing")
        if listing is None:
            yield self.listing_request(self.listing_url(), page=1)
        elif listing["next"]:
            # resume after the last page whose rows were written
            self.pages_done = listing["page"]
            self.rows_emitted = listing["rows"]
            yield self.listing_request(listing["next"], page=listing["page"] + 1)
        for request in self.resumed_follow_ups():
            yield request

    def expected_rows(self) -> int | None:
        """How many rows the crawl will end with, where it can know (progress)."""
        opts = self.options
        if opts.targeted:
            if self._id_count is None:
                self._id_count = (
                    len(opts.ids) + count_ids(opts.ids_file) + len(self._from_run_ids())
                )
            total = self._id_count
            return min(total, opts.limit) if opts.limit else total
        return opts.limit or self.listing_total

    # --- the listing ------------------------------------------------------------
    @property
    def listing_limit(self) -> int | None:
        """How many rows the listing gives at most."""
        return self.options.limit

    def listing_url(self) -> str:
        size = self.settings.getint("HFCRAWL_PAGE_SIZE", MAX_PAGE_SIZE)
        limit = self.listing_limit
        params: list[tuple[str, str | int]] = [
            ("limit", min(size, limit) if limit else size),
            *self.listing_params(),
            *(("expand[]", f) for f in self.list_expand),
        ]
        return self.api_url(self.api_path, params)

    def listing_request(self, url: str, page: int, rows: int | None = None) -> Request:
        # dont_filter: after a hard kill, Scrapy's dupefilter has seen URLs whose
        # answers never reached the run folder. ``rows``: listed before this page;
        # the count travels with the page, for the process that gets it may not
        # be the one that got the page before (hfcrawl.scaleout)
        meta: dict[str, Any] = {"hfcrawl_page": page}
        if rows is not None:
            meta["hfcrawl_rows"] = rows
        return Request(
            url,
            callback=self.parse_listing,
            errback=self.listing_failed,
            meta=meta,
            dont_filter=True,
        )

    def parse_listing(self, response: Response) -> Iterator[Any]:
        page = response.meta.get("hfcrawl_page", self.pages_done + 1)
        if page <= self.pages_done and LEASE not in response.meta:
            # a request Scrapy's JOBDIR queue kept, for a page already written
            # (a shared frontier hands out a page again only when its rows may
            # not all be written: see hfcrawl.scaleout)
            self.crawler.stats.inc_value("hfcrawl/pages_already_done")
            return
        try:
            rows = self.parse_page(response)
        except self.decode_errors as exc:
            yield self.retry_or_missed(response, "listing", None, exc)
            return
        self.pages_done = page
        self.rows_emitted = response.meta.get("hfcrawl_rows", self.rows_emitted)
        total = response.headers.get(b"X-Total-Count")
        if total and total.isdigit():
            self.listing_total = int(total)
        done = self._cut(rows)
        nxt = None if done else next_link(response.headers.get(b"Link"))
        # the next page downloads while this one goes through the pipelines
        if nxt:
            yield self.listing_request(nxt, page=page + 1, rows=self.rows_emitted)
        checkpoint = {"listing": {"page": page, "next": nxt, "rows": self.rows_emitted}}
        yield ItemBatch(rows, checkpoint=checkpoint)
        yield from self.follow_ups(rows)

    def _cut(self, rows: list[Any]) -> bool:
        """Trim rows to ``since`` and ``limit``; True when the listing is done.

        Both count ``row_class`` rows; the rows that come with one (a Space's
        dependencies, say) follow it and go or stay with it."""
        since, limit = self.options.since, self.listing_limit
        room = None if limit is None else limit - self.rows_emitted
        kept = 0
        for i, row in enumerate(rows):
            if not isinstance(row, self.row_class):
                continue
            if room is not None and kept == room:
                del rows[i:]
                self.rows_emitted += kept
                return True
            if since is not None and not _newer(
                getattr(row, "last_modified", None), since
            ):
                # sorted by lastModified, newest first: the rest is older
                del rows[i:]
                self.rows_emitted += kept
                return True
            kept += 1
        self.rows_emitted += kept
        return room is not None and kept == room

    def listing_failed(self, failure: Failure) -> Iterator[Missed]:
        yield self.missed(failure, "listing", None)

    # --- targeted ids -----------------------------------------------------------
    def _from_run_ids(self) -> list[str]:
        folder = self.options.from_run
        return sorted(table_ids(folder, self.row_class.table)) if folder else []

    def targeted_requests(self, done: set[str]) -> Iterator[Any]:
        """A request per id, skipping the ids a resumed run already holds."""
        opts = self.options
        sources: list[Iterable[IdLine]] = [
            read_ids(opts.ids, self.endpoint, self.repo_type),
            read_ids(self._from_run_ids(), self.endpoint, self.repo_type),
        ]
        handle = None
        if opts.ids_file is not None:
            handle = opts.ids_file.open(encoding="utf-8")
            sources.insert(1, read_ids(handle, self.endpoint, self.repo_type))
        count = 0
        try:
            for line in itertools.chain.from_iterable(sources):
                if opts.limit is not None and count >= opts.limit:
                    return
                count += 1
                if (line.repo_id or line.text) in done:
                    continue
                if line.repo_id is None:
                    yield Missed(
                        kind=self.repo_type,
                        id=line.text,
                        reason="invalid",
                        detail=line.problem,
                        crawled_at=self.now(),
                    )
                else:
                    yield self.record_request(line.repo_id)
        finally:
            if handle is not None:
                handle.close()

    def record_request(
        self,
        repo_id: str,
        expand: tuple[str, ...] | None = None,
        callback: Any = None,
        kind: str | None = None,
        api_path: str | None = None,
    ) -> Request:
        """``api_path/{id}``; by default its rows go through ``parse_record``."""
        url = self.api_url(
            f"{api_path or self.api_path}/{self.quote_id(repo_id)}",
            [("expand[]", f) for f in (expand or self.record_expand())],
        )
        return Request(
            url,
            callback=callback or self.parse_record_response,
            errback=self.record_failed,
            cb_kwargs={"requested_id": repo_id},
            meta={"hfcrawl_kind": kind or self.repo_type},
            dont_filter=True,  # see listing_request; dedup keeps rows unique
        )

    def parse_record_response(
        self, response: Response, requested_id: str
    ) -> Iterator[Any]:
        try:
            rows = self.parse_record(response, requested_id)
        except self.decode_errors as exc:
            yield self.retry_or_missed(
                response, response.meta["hfcrawl_kind"], requested_id, exc
            )
            return
        yield from rows

    def record_failed(self, failure: Failure) -> Iterator[Missed]:
        request = failure.request  # type: ignore[attr-defined]
        yield self.missed(
            failure, request.meta["hfcrawl_kind"], request.cb_kwargs["requested_id"]
        )


def _newer(value: Any, since: datetime) -> bool:
    try:
        return to_datetime(value) > since
    except (ValueError, TypeError):
        return True  # an unreadable date is kept (and flagged by validation)
