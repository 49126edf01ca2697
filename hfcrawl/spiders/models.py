"""``scrapy crawl models``: the Hub's model listing, or a list of model ids."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import msgspec
from scrapy import Request

from hfcrawl.args import SelectionArguments, boolean
from hfcrawl.bases.listing import HubListingSpider
from hfcrawl.hub import MODEL_DETAIL_EXPAND, MODEL_LIST_EXPAND, MODEL_SORTS
from hfcrawl.items import Model, ModelDetail
from hfcrawl.parsers.models import (
    decode_model,
    parse_model,
    parse_model_detail,
    parse_models_page,
)
from hfcrawl.runs import done_ids, table_ids

if TYPE_CHECKING:
    from scrapy.http import Response


@dataclass(frozen=True)
class ModelsArguments(SelectionArguments):
    pipeline_tag: str | None = None
    detail: bool = False

    SORTS: ClassVar[Mapping[str, str]] = MODEL_SORTS
    OWN: ClassVar[tuple[str, ...]] = ("pipeline_tag", "detail")
    OWN_LISTING_ONLY: ClassVar[tuple[str, ...]] = ("pipeline_tag",)

    @classmethod
    def parse_own(cls, args: Mapping[str, str]) -> dict[str, Any]:
        return {
            "pipeline_tag": args.get("pipeline_tag") or None,
            "detail": boolean("detail", args.get("detail", "false")),
        }


class ModelsSpider(HubListingSpider):
    """Arguments: search, author, filter, pipeline_tag, sort, limit, since, detail;
    or ids / ids_file / from_run (with limit and detail). Tables: models,
    model_details (detail=true), missed."""

    name = "models"
    api_path = "/api/models"
    repo_type = "model"
    row_class = Model
    list_expand = MODEL_LIST_EXPAND
    decode_errors = (msgspec.DecodeError,)
    Arguments = ModelsArguments
    options: ModelsArguments

    def listing_params(self) -> list[tuple[str, str | int]]:
        tag = self.options.pipeline_tag
        return super().listing_params() + ([("pipeline_tag", tag)] if tag else [])

    def parse_page(self, response: Response) -> list[Any]:
        return parse_models_page(response.body, response.url, self.now())

    def parse_record(self, response: Response, requested_id: str) -> list[Any]:
        record = decode_model(response.body)
        now = self.now()
        detail = parse_model_detail(record, now)
        model = parse_model(record, now, requested_id)
        return [model] if detail is None else [model, detail]

    def record_expand(self) -> tuple[str, ...]:
        detail = MODEL_DETAIL_EXPAND if self.options.detail else ()
        return self.list_expand + detail

    # --- detail=true: /api/models/{id} for the detail-only fields ---------------
    def detail_request(self, repo_id: str) -> Request:
        return self.record_request(
            repo_id, MODEL_DETAIL_EXPAND, self.parse_detail, kind="model_detail"
        )

    def follow_ups(self, rows: list[Any]) -> Iterable[Request]:
        if not self.options.detail:
            return ()
        return (
            self.detail_request(row.id)
            for row in rows
            if isinstance(row, Model) and isinstance(row.id, str)
        )

    def resumed_follow_ups(self) -> Iterable[Request]:
        if not self.options.detail:
            return ()
        listed = table_ids(self.run_folder, Model.table)
        detailed = done_ids(self.run_folder, ModelDetail.table, "model_detail")
        return (self.detail_request(i) for i in sorted(listed - detailed))

    def parse_detail(self, response: Response, requested_id: str) -> Iterator[Any]:
        try:
            detail = parse_model_detail(decode_model(response.body), self.now())
        except msgspec.DecodeError as exc:
            yield self.retry_or_missed(response, "model_detail", requested_id, exc)
            return
        if detail is not None:
            yield detail
