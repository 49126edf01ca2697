"""``scrapy crawl papers``: the Hub's page of each paper, ``/api/papers/{arxiv_id}``.

The ids are the arxiv spider's (``ids``, ``ids_file``, ``from_run``); one request
each on the Hub's ``api`` bucket, paced by the Hub's quota like every Hub
request. A paper without a Hub page answers 404: a ``missed`` row ``not_found``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any, ClassVar

from hfcrawl.bases.papers import KIND, HubPaperRequests
from hfcrawl.items import HubPaper, Missed
from hfcrawl.paperids import PaperIdArguments, answered, requested_papers
from hfcrawl.runs import run_dir

if TYPE_CHECKING:
    from pathlib import Path


class PapersSpider(HubPaperRequests):
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
