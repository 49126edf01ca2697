"""``scrapy crawl datasets``: the Hub's dataset listing, or a list of dataset ids."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import msgspec

from hfcrawl.args import SelectionArguments
from hfcrawl.bases.listing import HubListingSpider
from hfcrawl.hub import DATASET_EXPAND, MODEL_SORTS
from hfcrawl.items import Dataset
from hfcrawl.parsers.datasets import decode_dataset, parse_dataset, parse_datasets_page

if TYPE_CHECKING:
    from scrapy.http import Response


@dataclass(frozen=True)
class DatasetsArguments(SelectionArguments):
    SORTS: ClassVar[Mapping[str, str]] = MODEL_SORTS  # the same sort keys


class DatasetsSpider(HubListingSpider):
    """Arguments: search, author, filter, sort, limit, since; or ids / ids_file /
    from_run (with limit). Tables: datasets, missed."""

    name = "datasets"
    api_path = "/api/datasets"
    repo_type = "dataset"
    row_class = Dataset
    list_expand = DATASET_EXPAND
    decode_errors = (msgspec.DecodeError,)
    Arguments = DatasetsArguments

    def parse_page(self, response: Response) -> list[Any]:
        return parse_datasets_page(response.body, response.url, self.now())

    def parse_record(self, response: Response, requested_id: str) -> list[Any]:
        return [parse_dataset(decode_dataset(response.body), self.now(), requested_id)]
