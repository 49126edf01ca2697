"""``scrapy crawl papers``: the Hub's page of each paper, ``/api/papers/{arxiv_id}``.

The ids are the arxiv spider's (``ids``, ``ids_file``, ``from_run``); one request
each on the Hub's ``api`` bucket, paced by the Hub's quota like every Hub
request. A paper without a Hub page answers 404: a ``missed`` row ``not_found``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from hfcrawl.bases.paperlist import PaperListSpider
from hfcrawl.bases.papers import KIND, HubPaperRequests
from hfcrawl.items import HubPaper, Missed


class PapersSpider(PaperListSpider, HubPaperRequests):
    """Arguments: ids, ids_file, from_run (they add up), limit, retry_missed.
    Tables: hub_papers, missed."""

    name = "papers"

    async def start(self) -> AsyncIterator[Any]:
        for paper in self.papers_left(HubPaper.table, KIND):
            yield paper if isinstance(paper, Missed) else self.paper_request(paper.id)
