"""``scrapy crawl spaces``: the Hub's Spaces, what each uses, or a list of ids."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import msgspec

from hfcrawl.args import SelectionArguments
from hfcrawl.bases.listing import HubListingSpider
from hfcrawl.hub import MODEL_SORTS, SPACE_EXPAND
from hfcrawl.items import Space
from hfcrawl.parsers.spaces import decode_space, parse_space, parse_spaces_page

if TYPE_CHECKING:
    from scrapy.http import Response


@dataclass(frozen=True)
class SpacesArguments(SelectionArguments):
    uses_model: str | None = None
    uses_dataset: str | None = None

    SORTS: ClassVar[Mapping[str, str]] = MODEL_SORTS
    OWN: ClassVar[tuple[str, ...]] = ("uses_model", "uses_dataset")
    OWN_LISTING_ONLY: ClassVar[tuple[str, ...]] = OWN

    @classmethod
    def parse_own(cls, args: Mapping[str, str]) -> dict[str, Any]:
        return {name: args.get(name) or None for name in cls.OWN}


class SpacesSpider(HubListingSpider):
    """Arguments: the shared ones, plus uses_model / uses_dataset (the Spaces
    that use one). Tables: spaces, space_dependencies, missed."""

    name = "spaces"
    api_path = "/api/spaces"
    repo_type = "space"
    row_class = Space
    list_expand = SPACE_EXPAND
    decode_errors = (msgspec.DecodeError,)
    Arguments = SpacesArguments
    options: SpacesArguments

    def listing_params(self) -> list[tuple[str, str | int]]:
        uses = [
            ("models", self.options.uses_model),
            ("datasets", self.options.uses_dataset),
        ]
        return super().listing_params() + [(k, v) for k, v in uses if v]

    def parse_page(self, response: Response) -> list[Any]:
        return parse_spaces_page(response.body, response.url, self.now())

    def parse_record(self, response: Response, requested_id: str) -> list[Any]:
        return list(parse_space(decode_space(response.body), self.now(), requested_id))
