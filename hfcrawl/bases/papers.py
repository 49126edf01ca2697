"""The Hub's paper pages, ``/api/papers/{arxiv_id}``: a base for spiders that ask for them.

One request per paper on the Hub's ``api`` bucket; a paper without a Hub page
answers 404: a ``missed`` row ``not_found`` (kind ``hub_paper``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import msgspec
from scrapy import Request

from hfcrawl.bases.hub import HubSpider
from hfcrawl.items import Missed
from hfcrawl.parsers.papers import decode_paper, parse_hub_paper

if TYPE_CHECKING:
    from scrapy.http import Response
    from twisted.python.failure import Failure

KIND = "hub_paper"


class HubPaperRequests(HubSpider):
    """A ``HubSpider`` that asks for the Hub's paper pages (``paper_request``)."""

    def paper_request(self, arxiv_id: str) -> Request:
        # the Hub's page is per paper, not per version
        return Request(
            self.api_url(f"/api/papers/{self.quote_id(arxiv_id)}"),
            callback=self.parse_paper,
            errback=self.paper_failed,
            cb_kwargs={"arxiv_id": arxiv_id},
            dont_filter=True,
        )

    def parse_paper(self, response: Response, arxiv_id: str) -> Iterator[Any]:
        try:
            record = decode_paper(response.body)
        except msgspec.DecodeError as exc:
            yield self.retry_or_missed(response, KIND, arxiv_id, exc)
            return
        yield parse_hub_paper(record, self.now(), arxiv_id)

    def paper_failed(self, failure: Failure) -> Iterator[Missed]:
        arxiv_id = failure.request.cb_kwargs["arxiv_id"]  # type: ignore[attr-defined]
        yield self.missed(failure, KIND, arxiv_id)
