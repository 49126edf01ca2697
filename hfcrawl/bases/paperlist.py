"""A spider over a list of papers (``arxiv``, ``papers``): the ids asked for, less
those the run has answered, with a ``Missed`` row for each that is no arXiv id."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, ClassVar

from hfcrawl.bases.hub import HubSpider
from hfcrawl.items import Missed
from hfcrawl.paperids import PaperIdArguments, answered, requested_papers
from hfcrawl.runs import run_dir

if TYPE_CHECKING:
    from pathlib import Path

    from hfcrawl.parsers.arxiv import ArxivId


class PaperListSpider(HubSpider):
    """Arguments: ids, ids_file, from_run (they add up), limit, retry_missed."""

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

    def papers_left(self, table: str, kind: str) -> Iterator[ArxivId | Missed]:
        """Each paper asked for and not yet answered by a row of ``table`` or a
        ``Missed`` row of ``kind`` (so a resumed run asks only for the rest); a
        ``Missed`` row ``invalid`` for what is no arXiv id."""
        done = answered(self.run_folder, table, kind)
        for asked in requested_papers(self.options):
            if asked.text in done or (asked.arxiv_id and asked.arxiv_id.id in done):
                self.crawler.stats.inc_value(f"hfcrawl/{kind}/already_answered")
                continue
            if asked.arxiv_id is None:
                yield Missed(
                    kind=kind,
                    id=asked.text,
                    reason="invalid",
                    detail=asked.problem,
                    crawled_at=self.now(),
                )
            else:
                yield asked.arxiv_id
