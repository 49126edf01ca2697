"""The connected graph of a selection of models, in one run folder: the base of ``hub``.

Seeds are selected as for ``models`` (the latest ``limit`` by lastModified by
default; ``ids``/``ids_file``/``from_run``, and ``latest=N`` beside them, merged
without duplicates). Everything else is a follow-up declared on the run
folder's tables (``bases.following``): each seed's card, its ancestors to
``depth``, the datasets its metadata names, the papers that models, cards and
datasets name (arXiv's own record and the Hub's page), and at the end the
reference tables. Each entity is fetched once however many rows name it, and a
crawl killed at any moment resumes to the rows of an uninterrupted one.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, ClassVar

import msgspec

from hfcrawl.args import ArgumentError, boolean, positive_int
from hfcrawl.bases.arxiv import KIND as ARXIV_KIND
from hfcrawl.bases.arxiv import ArxivRequests
from hfcrawl.bases.cards import KIND as CARD_KIND
from hfcrawl.bases.cards import CardRequests
from hfcrawl.bases.croissant import CroissantRequests
from hfcrawl.bases.lineage import LineageArguments, LineageBase
from hfcrawl.bases.papers import KIND as PAPER_KIND
from hfcrawl.bases.papers import HubPaperRequests
from hfcrawl.bases.reference import KIND as TASKS_KIND
from hfcrawl.bases.reference import ReferenceRequests
from hfcrawl.frontier import Column, Follow
from hfcrawl.hub import DATASET_EXPAND
from hfcrawl.items import (
    Croissant,
    Dataset,
    HubPaper,
    ItemBatch,
    LineageSeed,
    Missed,
    Model,
    ModelCard,
    Paper,
    Task,
)
from hfcrawl.parsers.arxiv import canonical_arxiv_id, parse_arxiv_id
from hfcrawl.parsers.datasets import decode_dataset, parse_dataset
from hfcrawl.pipelines.rows import rows_of
from hfcrawl.reference import ReferenceCounts
from hfcrawl.refresh import EarlierRun, carried_rows
from hfcrawl.runfolder import read_columns
from hfcrawl.scaleout import enabled
from hfcrawl.spiders.models import ModelsArguments

if TYPE_CHECKING:
    from pathlib import Path
    from typing import Self

    from scrapy import Request
    from scrapy.http import Response

DATASET_KIND = "dataset"
SWITCHES = (
    "cards",
    "lineage",
    "datasets",
    "croissant",
    "arxiv",
    "papers",
    "reference",
)


@dataclass(frozen=True)
class HubArguments(LineageArguments):
    latest: int | None = None  # beside targeted ids: the latest N as well
    cards: bool = True
    lineage: bool = True
    datasets: bool = True
    croissant: bool = True
    arxiv: bool = True
    papers: bool = True
    reference: bool = True
    refresh_from: EarlierRun | None = None

    OWN: ClassVar[tuple[str, ...]] = (
        *ModelsArguments.OWN,
        "depth",
        "latest",
        "refresh_from",
        *SWITCHES,
    )

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> Self:
        opts = super().parse(raw)
        earlier = opts.refresh_from
        if earlier is None:
            return opts
        if opts.targeted:
            raise ArgumentError(
                "refresh_from: refreshes a listing selection (search, author,"
                " filter...); ids are simply crawled again"
            )
        # the models changed since the earlier run started, all of them
        return replace(opts, since=earlier.started_at, sort="lastModified", limit=None)

    @classmethod
    def parse_own(cls, args: Mapping[str, str]) -> dict[str, Any]:
        own = ModelsArguments.parse_own(args)
        switches = {name: boolean(name, args.get(name, "true")) for name in SWITCHES}
        if args.get("latest") and not any(
            args.get(n) for n in ("ids", "ids_file", "from_run")
        ):
            raise ArgumentError("latest: goes with ids/ids_file/from_run; else: limit")
        return {
            **own,
            **switches,
            "depth": positive_int("depth", args["depth"])
            if args.get("depth")
            else None,
            "latest": positive_int("latest", args["latest"])
            if args.get("latest")
            else None,
            "refresh_from": EarlierRun.read("refresh_from", args["refresh_from"], "hub")
            if args.get("refresh_from")
            else None,
        }

    @property
    def up(self) -> bool:
        return self.lineage

    @property
    def down(self) -> bool:
        return False


def _answers(kind: str, *rows: Column) -> tuple[Column, ...]:
    """``rows``, or a ``Missed`` row of ``kind``."""
    return (*rows, Column(Missed.table, "id", (("kind", kind),)))


class GraphBase(
    CardRequests,
    CroissantRequests,
    HubPaperRequests,
    ArxivRequests,
    ReferenceRequests,
    LineageBase,
):
    """Arguments: those of ``models`` (sort defaults to lastModified), latest,
    depth, and switches cards, lineage, datasets, croissant, arxiv, papers,
    reference (all true). Tables: models, lineage_seeds, cards, eval_results,
    lineage, datasets, croissant, arxiv_papers, hub_papers, licenses, languages,
    tasks, missed."""

    Arguments = HubArguments
    options: HubArguments

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.shas: dict[str, str] = {}
        self.counts = ReferenceCounts()
        self.reference_done = False
        self.listed: set[str] = set()  # refresh: the models changed, as listed

    @classmethod
    def shared_run_refusal(cls, options: HubArguments) -> str | None:
        """Why these arguments cannot run on a shared run (REDIS_URL), if so."""
        if options.refresh_from is not None:
            # what it carries over is decided by the worker that lists the
            # last page, from the pages it listed itself
            return "refresh_from: not on a shared run (REDIS_URL); refresh with one process"
        return None

    # --- what the graph follows -------------------------------------------------
    def follows(self) -> list[Follow]:
        opts = self.options
        follows = super().follows()  # "up": ancestors
        if opts.cards:
            follows.append(
                Follow(
                    "card",
                    references=(Column(LineageSeed.table, "id"),),
                    answers=_answers(
                        CARD_KIND, Column(ModelCard.table, "requested_id")
                    ),
                )
            )
        if opts.datasets:
            follows.append(
                Follow(
                    "dataset",
                    references=(Column(Model.table, "datasets"),),
                    answers=_answers(
                        DATASET_KIND,
                        Column(Dataset.table, "id"),
                        Column(Dataset.table, "requested_id"),
                    ),
                )
            )
        if opts.datasets and opts.croissant:
            follows.append(
                Follow(
                    "croissant",
                    references=(Column(Dataset.table, "id"),),
                    answers=_answers(
                        self.croissant_kind, Column(Croissant.table, "id")
                    ),
                )
            )
        papers = tuple(
            Column(table, "arxiv_ids", key=canonical_arxiv_id)
            for table in (Model.table, ModelCard.table, Dataset.table)
        )
        if opts.arxiv:
            follows.append(
                Follow(
                    "arxiv",
                    references=papers,
                    answers=_answers(ARXIV_KIND, Column(Paper.table, "id")),
                )
            )
        if opts.papers:
            follows.append(
                Follow(
                    "paper",
                    references=papers,
                    answers=_answers(PAPER_KIND, Column(HubPaper.table, "id")),
                )
            )
        return follows

    def follow_requests(
        self, follow: str, level: int, refs: list[str]
    ) -> Iterable[Request]:
        if follow == "card":
            return (self.card_request(ref, self.shas.get(ref)) for ref in refs)
        if follow == "dataset":
            return (self.dataset_request(ref) for ref in refs)
        if follow == "croissant":
            return (self.croissant_request(ref) for ref in refs)
        if follow == "arxiv":
            return self.arxiv_requests(parse_arxiv_id(ref) for ref in refs)
        if follow == "paper":
            return (self.paper_request(ref) for ref in refs)
        return super().follow_requests(follow, level, refs)

    def last_requests(self) -> Iterable[Request]:
        if self.options.reference and not self.reference_done:
            # the graph is complete: count what it met, once
            self.reference_done = True
            yield self.tasks_request()

    # --- start and the rows as they pass --------------------------------------------
    def load_state(self, folder: Path) -> None:
        super().load_state(folder)
        self.shas = {
            i: s
            for i, s in read_columns(folder / Model.table, ("id", "sha"))
            if isinstance(i, str) and isinstance(s, str)
        }
        self.counts = ReferenceCounts()
        self.counts.add_run(folder)
        self.reference_done = any(read_columns(folder / Task.table, ("id",))) or any(
            kind == TASKS_KIND
            for (kind,) in read_columns(folder / Missed.table, ("kind",))
        )

    async def start(self) -> AsyncIterator[Any]:
        folder = self.run_folder
        earlier = self.options.refresh_from
        if earlier is not None:
            # rows carried from the earlier run are older than its end
            self.listed = {
                i
                for i, at in read_columns(folder / Model.table, ("id", "crawled_at"))
                if isinstance(i, str) and at is not None and at > earlier.finished_at
            }
        async for item in super().start():
            yield item
        if self.options.targeted and self.options.latest:
            yield self.listing_request(self.listing_url(), page=1)

    @property
    def listing_limit(self) -> int | None:
        return self.options.latest if self.options.targeted else self.options.limit

    def listing_params(self) -> list[tuple[str, str | int]]:
        params = super().listing_params()
        if not self.options.sort:
            params.append(("sort", "lastModified"))
        return params

    def parse_listing(self, response: Response) -> Iterator[Any]:
        earlier = self.options.refresh_from
        carried = None
        for item in super().parse_listing(response):
            if earlier is not None and isinstance(item, ItemBatch):
                self.listed.update(r.id for r in item.items if isinstance(r, Model))
                if item.checkpoint and item.checkpoint["listing"]["next"] is None:
                    # the last page: the listing is done once what is carried
                    # is written too, so a kill in between carries again
                    carried = ItemBatch([], checkpoint=item.checkpoint)
                    item.checkpoint = None
            yield item
        if carried is not None and earlier is not None:
            carried.items = list(carried_rows(earlier.folder, self.listed))
            self.crawler.stats.set_value("hfcrawl/refresh/carried", len(carried.items))
            self.crawler.stats.set_value("hfcrawl/refresh/changed", len(self.listed))
            yield carried

    def rows_written(self, item: Any) -> None:
        rows = rows_of(item)
        self.frontier.observe(rows)
        self.counts.observe(rows)
        for row in rows:
            if isinstance(row, Model) and isinstance(row.sha, str):
                self.shas[row.id] = row.sha

    def reference_counts(self) -> ReferenceCounts:
        if enabled(self.settings):
            # on a shared run the rows are every worker's: the tasks level
            # comes alone, after each worker has put its rows in complete parts
            counts = ReferenceCounts()
            counts.add_run(self.run_folder)
            return counts
        return self.counts

    # --- datasets ---------------------------------------------------------------
    def dataset_request(self, repo_id: str) -> Request:
        return self.record_request(
            repo_id,
            DATASET_EXPAND,
            self.parse_dataset,
            kind=DATASET_KIND,
            api_path="/api/datasets",
        )

    def parse_dataset(self, response: Response, requested_id: str) -> Iterator[Any]:
        try:
            record = decode_dataset(response.body)
        except msgspec.DecodeError as exc:
            yield self.retry_or_missed(response, DATASET_KIND, requested_id, exc)
            return
        yield parse_dataset(record, self.now(), requested_id)
