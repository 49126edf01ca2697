"""``scrapy crawl arxiv``: arXiv's own metadata for a list of papers.

Ids come from ``-a ids=``, ``-a ids_file=`` or ``-a from_run=<run folder>`` (the
``arxiv_ids`` of its models, datasets and cards). They are asked for in batches of
``HFCRAWL_ARXIV_BATCH`` (100) through the export API's ``id_list``, paced by
arXiv's terms: one request at a time, three seconds apart (the ``arxiv`` download
slot). A batch that arXiv refuses (400: an id it finds malformed) is split, so
one bad id costs only itself.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from hfcrawl.bases.arxiv import KIND, ArxivRequests
from hfcrawl.bases.paperlist import PaperListSpider
from hfcrawl.items import Missed, Paper


class ArxivSpider(PaperListSpider, ArxivRequests):
    """Arguments: ids, ids_file, from_run (they add up), limit, retry_missed.
    Tables: arxiv_papers, missed."""

    name = "arxiv"

    async def start(self) -> AsyncIterator[Any]:
        ids = []
        for paper in self.papers_left(Paper.table, KIND):
            if isinstance(paper, Missed):
                yield paper
            else:
                ids.append(paper)
        for request in self.arxiv_requests(ids):
            yield request
