"""Croissant follow-ups (``/api/datasets/{id}/croissant``) for any Hub spider that
has dataset ids: a ``croissant`` row per dataset, or a ``Missed`` row saying why.

A mixin of spider methods, not a helper object, so that the requests it builds
name the spider's own callbacks and a JOBDIR queue can serialise them.

The Hub answers 400 ``{"error": "The croissant format is not available for this
dataset."}`` for a dataset it has no Croissant of (hub-api.md §4; one in six
datasets in a June 2025 crawl of the whole Hub): that is an answer, a ``Missed``
row of reason ``no_croissant``, not a failure. A gated dataset's Croissant
answers as a gated file does (401/403 ``GatedRepo``: reason ``gated``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import msgspec
from scrapy import Request
from scrapy.spidermiddlewares.httperror import HttpError

from hfcrawl.bases.hub import HubSpider
from hfcrawl.items import Croissant, Missed
from hfcrawl.parsers.croissant import parse_croissant
from hfcrawl.runs import done_ids

if TYPE_CHECKING:
    from scrapy.http import Response
    from twisted.python.failure import Failure

NO_CROISSANT = "no_croissant"


class CroissantRequests(HubSpider):
    """``croissant_request(dataset_id)`` and its callbacks; mixed into a Hub spider
    (``class DatasetsSpider(CroissantRequests, HubListingSpider)``)."""

    croissant_kind: ClassVar[str] = "croissant"  # the Missed rows' kind

    def croissant_request(self, dataset_id: str) -> Request:
        return Request(
            self.api_url(f"/api/datasets/{self.quote_id(dataset_id)}/croissant"),
            callback=self.parse_croissant,
            errback=self.croissant_failed,
            cb_kwargs={"dataset_id": dataset_id},
            # after a hard kill, Scrapy's dupefilter has seen requests whose
            # answers never reached the run folder; dedup keeps rows unique
            dont_filter=True,
        )

    def croissant_requests_left(
        self, folder: Path, dataset_ids: Iterable[str]
    ) -> Iterator[Request]:
        """The requests for the ids of ``dataset_ids`` that the run in ``folder``
        has no croissant row or croissant ``Missed`` row for (a resumed run).

        The ids are read at the call, the requests made as they are taken: rows
        this session writes later are not mistaken for an earlier session's."""
        done = done_ids(folder, Croissant.table, self.croissant_kind)
        return map(self.croissant_request, sorted(set(dataset_ids) - done))

    def parse_croissant(self, response: Response, dataset_id: str) -> Iterator[Any]:
        try:
            row = parse_croissant(response.body, dataset_id, self.now())
        except msgspec.DecodeError as exc:
            yield self.retry_or_missed(response, self.croissant_kind, dataset_id, exc)
            return
        yield row

    def croissant_failed(self, failure: Failure) -> Iterator[Missed]:
        request = failure.request  # type: ignore[attr-defined]
        dataset_id = request.cb_kwargs["dataset_id"]
        missed = self.missed(failure, self.croissant_kind, dataset_id)
        if failure.check(HttpError) and missed.status == 400:
            # the Hub's answer for a dataset without Croissant; the request
            # has no parameters that could be the bad part
            missed.reason = NO_CROISSANT
        yield missed
