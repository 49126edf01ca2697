"""``scrapy crawl papers``: the Hub's page of each paper, ``/api/papers/{arxiv_id}``.

The ids are the arxiv spider's (``ids``, ``ids_file``, ``from_run``); one request
each on the Hub's ``api`` bucket, paced by the Hub's quota like every Hub
request. A paper without a Hub page answers 404: a ``missed`` row ``not_found``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any, ClassVar

import msgspec
from scrapy import Request

from hfcrawl.bases.hub import HubSpider
from hfcrawl.items import HubPaper, Missed
from hfcrawl.paperids import PaperIdArguments, answered, requested_papers
from hfcrawl.parsers.papers import decode_paper, parse_hub_paper
from hfcrawl.runs import run_dir

if TYPE_CHECKING:
    from pathlib import Path

    from scrapy.http import Response
    from twisted.python.failure import Failure

KIND = "hub_paper"


class PapersSpider(HubSpider):
    """Arguments: ids, ids_file, from_run (they add up), limit, retry_missed.
    Tables: hub_papers, missed."""

    name = "papers"
    Arguments: ClassVar[type[PaperIdArguments]] = PaperIdArguments
    options: PaperIdArguments

    @property
    def retry_missed(self) -> bool:
        """Read by the export pipeline, which drops the run's ``error`` rows."""
        return self.options.retry_missed

    @property
    def run_folder(self) -> Path:
        return run_dir(self.crawler)

    async def start(self) -> AsyncIterator[Any]:
        done = answered(self.run_folder, HubPaper.table, KIND)
        for asked in requested_papers(self.options):
            if asked.text in done or (asked.arxiv_id and asked.arxiv_id.id in done):
                continue
            if asked.arxiv_id is None:
                yield Missed(
                    kind=KIND,
                    id=asked.text,
                    reason="invalid",
                    detail=asked.problem,
                    crawled_at=self.now(),
                )
            else:
                yield self.paper_request(asked.arxiv_id.id)

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
