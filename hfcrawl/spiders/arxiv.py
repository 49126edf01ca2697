"""``scrapy crawl arxiv``: arXiv's own metadata for a list of papers.

Ids come from ``-a ids=``, ``-a ids_file=`` or ``-a from_run=<run folder>`` (the
``arxiv_ids`` of its models, datasets and cards). They are asked for in batches of
``HFCRAWL_ARXIV_BATCH`` (100) through the export API's ``id_list``, paced by
arXiv's terms: one request at a time, three seconds apart (the ``arxiv`` download
slot). A batch that arXiv refuses (400: an id it finds malformed) is split, so
one bad id costs only itself.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any, ClassVar

from hfcrawl.bases.arxiv import KIND, ArxivRequests
from hfcrawl.items import Missed, Paper
from hfcrawl.paperids import PaperIdArguments, answered, requested_papers
from hfcrawl.parsers.arxiv import ArxivId
from hfcrawl.runs import run_dir

if TYPE_CHECKING:
    from pathlib import Path


class ArxivSpider(ArxivRequests):
    """Arguments: ids, ids_file, from_run (they add up), limit, retry_missed.
    Tables: arxiv_papers, missed."""

    name = "arxiv"
    Arguments: ClassVar[type[PaperIdArguments]] = PaperIdArguments
    options: PaperIdArguments

    @property
    def retry_missed(self) -> bool:
        """Read by the export pipeline, which drops the run's ``error`` rows."""
        return self.options.retry_missed

    @property
    def run_folder(self) -> Path:
        return run_dir(self.crawler)

    def expected_rows(self) -> int | None:
        return None  # counted as the ids are read; not known up front

    async def start(self) -> AsyncIterator[Any]:
        for item in self.pending():
            yield item

    def pending(self) -> Iterator[Any]:
        """Invalid ids answered at once, the rest in batches; a paper whose row
        is written is done, so resume asks only for the rest."""
        done = answered(self.run_folder, Paper.table, KIND)
        valid: list[ArxivId] = []
        for asked in requested_papers(self.options):
            if asked.text in done or (asked.arxiv_id and asked.arxiv_id.id in done):
                self.crawler.stats.inc_value("hfcrawl/arxiv/already_answered")
                continue
            if asked.arxiv_id is None:
                yield Missed(
                    kind=KIND,
                    id=asked.text,
                    reason="invalid",
                    detail=asked.problem,
                    crawled_at=self.now(),
                )
                continue
            valid.append(asked.arxiv_id)
        yield from self.arxiv_requests(valid)
