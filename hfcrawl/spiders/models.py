"""``scrapy crawl models``: the Hub's model listing, or a list of model ids."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec
from scrapy import Request

from hfcrawl.args import (
    ArgumentError,
    boolean,
    choice,
    known_only,
    positive_int,
    str_list,
    timestamp,
)
from hfcrawl.checkpoint import load_checkpoint
from hfcrawl.coerce import to_datetime
from hfcrawl.hub import (
    MAX_PAGE_SIZE,
    MODEL_DETAIL_EXPAND,
    MODEL_LIST_EXPAND,
    MODEL_SORTS,
)
from hfcrawl.items import ItemBatch, Missed, Model
from hfcrawl.parsers.ids import IdLine, read_ids
from hfcrawl.parsers.links import next_link
from hfcrawl.parsers.models import (
    decode_model,
    parse_model,
    parse_model_detail,
    parse_models_page,
)
from hfcrawl.runs import resumed_keys
from hfcrawl.spiders.base import HubSpider

if TYPE_CHECKING:
    from typing import Self

    from scrapy.http import Response
    from twisted.python.failure import Failure

_LISTING_ONLY = ("search", "author", "filter", "pipeline_tag", "sort", "since")


@dataclass(frozen=True)
class ModelsArguments:
    search: str | None = None
    author: str | None = None
    filters: tuple[str, ...] = ()
    pipeline_tag: str | None = None
    sort: str | None = None
    limit: int | None = None
    ids: tuple[str, ...] = ()
    ids_file: Path | None = None
    since: datetime | None = None
    detail: bool = False

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> Self:
        args = known_only(raw, (*_LISTING_ONLY, "limit", "ids", "ids_file", "detail"))
        ids_file = Path(args["ids_file"]) if args.get("ids_file") else None
        if ids_file is not None and not ids_file.is_file():
            raise ArgumentError(f"ids_file: no such file: {ids_file}")
        targeted = bool(args.get("ids")) or ids_file is not None
        if targeted:
            for name in _LISTING_ONLY:
                if args.get(name):
                    raise ArgumentError(
                        f"{name}: only applies to the listing, not to ids/ids_file"
                    )
        sort = choice("sort", args["sort"], MODEL_SORTS) if args.get("sort") else None
        since = timestamp("since", args["since"]) if args.get("since") else None
        if since is not None:
            if sort not in (None, "lastModified"):
                raise ArgumentError("since: needs sort=lastModified (or no sort)")
            sort = "lastModified"
        return cls(
            search=args.get("search") or None,
            author=args.get("author") or None,
            filters=str_list(args.get("filter", "")),
            pipeline_tag=args.get("pipeline_tag") or None,
            sort=sort,
            limit=positive_int("limit", args["limit"]) if args.get("limit") else None,
            ids=str_list(args.get("ids", "")),
            ids_file=ids_file,
            since=since,
            detail=boolean("detail", args.get("detail", "false")),
        )

    @property
    def targeted(self) -> bool:
        return bool(self.ids) or self.ids_file is not None


class ModelsSpider(HubSpider):
    """Arguments: search, author, filter, pipeline_tag, sort, limit, since, detail;
    or ids / ids_file (with limit and detail). Tables: models, model_details
    (detail=true), missed."""

    name = "models"
    Arguments = ModelsArguments
    options: ModelsArguments

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rows_emitted = 0
        self.pages_done = 0
        self.listing_total: int | None = None  # X-Total-Count, when the Hub sends it
        self._id_count: int | None = None

    async def start(self) -> AsyncIterator[Any]:
        done = resumed_keys(self.crawler)
        if self.options.targeted:
            for item in self.targeted_requests(done.requested):
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
        if self.options.detail:
            for repo_id in sorted(done.listed - done.detailed):
                yield self.detail_request(
                    repo_id, MODEL_DETAIL_EXPAND, self.parse_detail
                )

    def expected_rows(self) -> int | None:
        """How many rows the crawl will end with, where it can know (progress)."""
        if self.options.targeted:
            if self._id_count is None:
                self._id_count = len(self.options.ids) + _count_ids(
                    self.options.ids_file
                )
            total = self._id_count
            return min(total, self.options.limit) if self.options.limit else total
        return self.options.limit or self.listing_total

    # --- the listing ------------------------------------------------------------
    def listing_url(self) -> str:
        opts = self.options
        size = self.settings.getint("HFCRAWL_PAGE_SIZE", MAX_PAGE_SIZE)
        page = min(size, opts.limit) if opts.limit else size
        params: list[tuple[str, str | int]] = [("limit", page)]
        for name in ("search", "author", "pipeline_tag", "sort"):
            value = getattr(opts, name)
            if value:
                params.append((name, value))
        params += [("filter", f) for f in opts.filters]
        params += [("expand[]", f) for f in MODEL_LIST_EXPAND]
        return self.api_url("/api/models", params)

    def listing_request(self, url: str, page: int) -> Request:
        # dont_filter: after a hard kill, Scrapy's dupefilter has seen URLs whose
        # answers never reached the run folder
        return Request(
            url,
            callback=self.parse_listing,
            errback=self.listing_failed,
            meta={"hfcrawl_page": page},
            dont_filter=True,
        )

    def parse_listing(self, response: Response) -> Iterator[Any]:
        page = response.meta.get("hfcrawl_page", self.pages_done + 1)
        if page <= self.pages_done:
            # a request Scrapy's JOBDIR queue kept, for a page already written
            self.crawler.stats.inc_value("hfcrawl/pages_already_done")
            return
        try:
            rows = parse_models_page(response.body, response.url, self.now())
        except msgspec.DecodeError as exc:
            yield self.retry_or_missed(response, "listing", None, exc)
            return
        self.pages_done = page
        total = response.headers.get(b"X-Total-Count")
        if total and total.isdigit():
            self.listing_total = int(total)
        done = self._cut(rows)
        nxt = None if done else next_link(response.headers.get(b"Link"))
        # the next page downloads while this one goes through the pipelines
        if nxt:
            yield self.listing_request(nxt, page=page + 1)
        checkpoint = {"listing": {"page": page, "next": nxt, "rows": self.rows_emitted}}
        yield ItemBatch(rows, checkpoint=checkpoint)
        if self.options.detail:
            for row in rows:
                if isinstance(row, Model) and isinstance(row.id, str):
                    yield self.detail_request(
                        row.id, MODEL_DETAIL_EXPAND, self.parse_detail
                    )

    def _cut(self, rows: list[Any]) -> bool:
        """Trim rows to ``since`` and ``limit``; True when the listing is done."""
        done = False
        since = self.options.since
        if since is not None:
            for i, row in enumerate(rows):
                if isinstance(row, Model) and not _newer(row.last_modified, since):
                    # sorted by lastModified, newest first: the rest is older
                    del rows[i:]
                    done = True
                    break
        limit = self.options.limit
        if limit is not None:
            room = limit - self.rows_emitted
            if len(rows) >= room:
                del rows[room:]
                done = True
        self.rows_emitted += len(rows)
        return done

    def listing_failed(self, failure: Failure) -> Iterator[ItemBatch]:
        yield ItemBatch([self.missed(failure, "listing", None)])

    # --- targeted ids -----------------------------------------------------------
    def targeted_requests(self, done: set[str]) -> Iterator[Any]:
        """A request per id, skipping the ids a resumed run already holds."""
        opts = self.options
        sources: list[Iterable[IdLine]] = [read_ids(opts.ids, self.endpoint)]
        handle = None
        if opts.ids_file is not None:
            handle = opts.ids_file.open(encoding="utf-8")
            sources.append(read_ids(handle, self.endpoint))
        expand = MODEL_LIST_EXPAND + (MODEL_DETAIL_EXPAND if opts.detail else ())
        count = 0
        try:
            for line in itertools.chain.from_iterable(sources):
                if opts.limit is not None and count >= opts.limit:
                    return
                count += 1
                if (line.repo_id or line.text) in done:
                    continue
                if line.repo_id is None:
                    missed = Missed(
                        kind="model",
                        id=line.text,
                        reason="invalid",
                        detail=line.problem,
                        crawled_at=self.now(),
                    )
                    yield ItemBatch([missed])
                else:
                    yield self.detail_request(line.repo_id, expand, self.parse_model)
        finally:
            if handle is not None:
                handle.close()

    def detail_request(
        self, repo_id: str, expand: tuple[str, ...], callback: Any
    ) -> Request:
        url = self.api_url(
            self.repo_path("models", repo_id), [("expand[]", f) for f in expand]
        )
        return Request(
            url,
            callback=callback,
            errback=self.model_failed,
            cb_kwargs={"requested_id": repo_id},
            dont_filter=True,  # see listing_request; dedup keeps rows unique
        )

    def parse_model(self, response: Response, requested_id: str) -> Iterator[Any]:
        try:
            record = decode_model(response.body)
        except msgspec.DecodeError as exc:
            yield self.retry_or_missed(response, "model", requested_id, exc)
            return
        now = self.now()
        rows: list[Any] = [parse_model(record, now, requested_id)]
        detail = parse_model_detail(record, now)
        if detail is not None:
            rows.append(detail)
        yield ItemBatch(rows)

    def parse_detail(self, response: Response, requested_id: str) -> Iterator[Any]:
        try:
            record = decode_model(response.body)
        except msgspec.DecodeError as exc:
            yield self.retry_or_missed(response, "model_detail", requested_id, exc)
            return
        detail = parse_model_detail(record, self.now())
        if detail is not None:
            yield ItemBatch([detail])

    def model_failed(self, failure: Failure) -> Iterator[ItemBatch]:
        request = failure.request  # type: ignore[attr-defined]
        kind = "model" if request.callback == self.parse_model else "model_detail"
        yield ItemBatch(
            [self.missed(failure, kind, request.cb_kwargs.get("requested_id"))]
        )


def _count_ids(path: Path | None) -> int:
    if path is None:
        return 0
    with path.open(encoding="utf-8") as lines:
        return sum(
            1 for line in lines if line.strip() and not line.lstrip().startswith("#")
        )


def _newer(value: Any, since: datetime) -> bool:
    try:
        return to_datetime(value) > since
    except (ValueError, TypeError):
        return True  # an unreadable date is kept (and flagged by validation)
