"""The run folder: where one crawl's tables live, kept across JOBDIR resumes.

``exports/<spider>/<run id>/<table>/part-NNNNN.parquet`` (+ ``.jsonl``). The run id
is ``HFCRAWL_RUN_ID`` if set, else the one a JOBDIR remembers, else scrapyd's job
id, else the UTC start time plus a short random suffix.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

RUN_ID_STAT = "hfcrawl/run_id"
_JOBDIR_FILE = "hfcrawl-run-id"
PART_RE = re.compile(r"^part-(\d{5,})\.parquet$")


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


def finished_parts(table_dir: Path) -> list[Path]:
    """Complete parts, in order; files still being written have other names."""
    if not table_dir.is_dir():
        return []
    parts = [p for p in table_dir.iterdir() if PART_RE.match(p.name)]
    return sorted(parts, key=lambda p: int(PART_RE.match(p.name).group(1)))  # type: ignore[union-attr]


def existing_keys(table_dir: Path, key_fields: tuple[str, ...]) -> set[Any]:
    """The primary keys already written to a table of this run (for resumes)."""
    keys: set[Any] = set()
    for part in finished_parts(table_dir):
        table = pq.read_table(part, columns=list(key_fields))
        columns = [table.column(name).to_pylist() for name in key_fields]
        keys.update(zip(*columns, strict=True))
    return keys


@dataclass(frozen=True)
class ResumedKeys:
    """What an earlier session of this run already wrote."""

    requested: set[str]  # ids asked for that ended as a model or a missed row
    listed: set[str]  # model ids in the models table
    detailed: set[str]  # ids with a model_details row, or missed as model_detail


def resumed_keys(crawler: Crawler) -> ResumedKeys:
    folder = run_dir(crawler)

    def column(table: str, *names: str) -> list[tuple[Any, ...]]:
        parts = finished_parts(folder / table)
        if not parts:
            return []
        data = pa.concat_tables(pq.read_table(p, columns=list(names)) for p in parts)
        return list(zip(*(data.column(n).to_pylist() for n in names), strict=True))

    models = column("models", "id", "requested_id")
    missed = column("missed", "kind", "id")
    return ResumedKeys(
        requested={r or i for i, r in models}
        | {i for k, i in missed if k == "model" and i},
        listed={i for i, _ in models},
        detailed={i for (i,) in column("model_details", "id")}
        | {i for k, i in missed if k == "model_detail" and i},
    )
