"""``scrapy crawl datasets``: the Hub's dataset listing, or a list of dataset ids."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import msgspec
from scrapy import Request

from hfcrawl.args import SelectionArguments, boolean
from hfcrawl.bases.croissant import CroissantRequests
from hfcrawl.bases.listing import HubListingSpider
from hfcrawl.hub import DATASET_EXPAND, MODEL_SORTS
from hfcrawl.items import Dataset
from hfcrawl.parsers.datasets import decode_dataset, parse_dataset, parse_datasets_page
from hfcrawl.runs import table_ids

if TYPE_CHECKING:
    from scrapy.http import Response


@dataclass(frozen=True)
class DatasetsArguments(SelectionArguments):
    croissant: bool = False

    SORTS: ClassVar[Mapping[str, str]] = MODEL_SORTS  # the same sort keys
    OWN: ClassVar[tuple[str, ...]] = ("croissant",)

    @classmethod
    def parse_own(cls, args: Mapping[str, str]) -> dict[str, Any]:
        return {"croissant": boolean("croissant", args.get("croissant", "false"))}


class DatasetsSpider(CroissantRequests, HubListingSpider):
    """Arguments: search, author, filter, sort, limit, since, croissant; or ids /
    ids_file / from_run (with limit and croissant). Tables: datasets, croissant
    (croissant=true), missed."""

    name = "datasets"
    api_path = "/api/datasets"
    repo_type = "dataset"
    row_class = Dataset
    list_expand = DATASET_EXPAND
    decode_errors = (msgspec.DecodeError,)
    Arguments = DatasetsArguments
    options: DatasetsArguments

    def parse_page(self, response: Response) -> list[Any]:
        return parse_datasets_page(response.body, response.url, self.now())

    def parse_record(self, response: Response, requested_id: str) -> list[Any]:
        dataset = parse_dataset(decode_dataset(response.body), self.now(), requested_id)
        # by the id the Hub answered with: a renamed dataset's Croissant is its
        # new id's
        return [dataset, *self.follow_ups([dataset])]

    # --- croissant=true: /api/datasets/{id}/croissant per dataset row -----------
    def follow_ups(self, rows: list[Any]) -> Iterable[Request]:
        if not self.options.croissant:
            return ()
        return [
            self.croissant_request(row.id)
            for row in rows
            if isinstance(row, Dataset) and isinstance(row.id, str)
        ]

    def resumed_follow_ups(self) -> Iterable[Request]:
        if not self.options.croissant:
            return ()
        folder = self.run_folder
        return self.croissant_requests_left(folder, table_ids(folder, Dataset.table))

    def targeted_requests(self, done: set[str]) -> Iterator[Any]:
        # the base resumes follow-ups for the listing only; an id answered by an
        # earlier session may still lack its Croissant. First, while the run
        # folder holds only earlier sessions' rows.
        yield from self.resumed_follow_ups()
        yield from super().targeted_requests(done)
