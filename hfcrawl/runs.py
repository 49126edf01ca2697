"""Which run folder a crawl writes, and what an earlier session of it holds.

``exports/<spider>/<run id>/`` (``hfcrawl.runfolder`` writes it). The run id
is ``HFCRAWL_RUN_ID`` if set, else the one a JOBDIR remembers, else scrapyd's job
id, else the UTC start time plus a short random suffix.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from hfcrawl.items import Missed
from hfcrawl.runfolder import read_columns

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

RUN_ID_STAT = "hfcrawl/run_id"
_JOBDIR_FILE = "hfcrawl-run-id"


def run_id(crawler: Crawler) -> str:
    """This crawl's run id; every component asking gets the same answer."""
    assert crawler.stats is not None
    known = crawler.stats.get_value(RUN_ID_STAT)
    if known:
        return str(known)
    jobdir = crawler.settings.get("JOBDIR")
    remembered = Path(jobdir, _JOBDIR_FILE) if jobdir else None
    value = crawler.settings.get("HFCRAWL_RUN_ID")
    if not value and remembered and remembered.exists():
        value = remembered.read_text().strip()
    if not value:
        value = getattr(crawler.spider, "_job", None)
    if not value:
        # the suffix keeps two crawls started in the same second apart
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        value = f"{stamp}-{secrets.token_hex(2)}"
    if remembered:
        remembered.parent.mkdir(parents=True, exist_ok=True)
        remembered.write_text(str(value))
    crawler.stats.set_value(RUN_ID_STAT, str(value))
    return str(value)


def run_dir(crawler: Crawler) -> Path:
    assert crawler.spider is not None
    root = Path(crawler.settings.get("HFCRAWL_EXPORT_DIR") or "exports")
    return root / crawler.spider.name / run_id(crawler)


def done_ids(folder: Path, table: str, kind: str) -> set[str]:
    """Ids a run already has an answer for: a row in ``table`` (by the id asked
    for, where the row keeps it), or a ``Missed`` row of ``kind``."""
    rows = read_columns(folder / table, ("id", "requested_id"))
    missed = read_columns(folder / Missed.table, ("kind", "id"))
    return {r or i for i, r in rows} | {i for k, i in missed if k == kind and i}


def table_ids(folder: Path, table: str) -> set[str]:
    """The ids of a table's rows in a run folder."""
    return {i for (i,) in read_columns(folder / table, ("id",)) if i}
