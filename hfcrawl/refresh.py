"""Incremental refresh of a ``hub`` run: which rows of the earlier run still hold.

``scrapy crawl hub -a refresh_from=<earlier run>`` lists the models changed
since the earlier run started (lastModified, newest first, down to that start).
Those are fetched afresh, as seeds, with everything that hangs off them. Every
other row of the earlier run is carried into the new run folder as it was
(``carried_rows``). The rows describe models that have not changed since: their
edges, cards, eval results and notes, and the entities they point at (datasets,
Croissant, papers). The frontier (``bases.following``) then treats carried rows
as answers, so only what the changed and new models bring is fetched. The
reference tables are counted again over the new run.

What a refresh cannot see, and a full crawl would:
- models deleted since;
- ancestors outside the selection's filters that changed;
- datasets and paper pages that changed without a model changing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from hfcrawl.args import ArgumentError, run_folder
from hfcrawl.coerce import to_datetime
from hfcrawl.items import row_class
from hfcrawl.runfolder import finished_parts

# table -> the columns naming the model a row is about: a changed model's rows
# are fetched afresh, not carried. () : carried whatever changed.
CARRIED: dict[str, tuple[str, ...]] = {
    "models": ("id", "requested_id"),
    "model_details": ("id",),
    "lineage_seeds": ("id",),
    "lineage": ("child",),
    "cards": ("id", "requested_id"),
    "eval_results": ("model_id",),
    "datasets": (),
    "croissant": (),
    "arxiv_papers": (),
    "hub_papers": (),
    "missed": ("id",),
}


@dataclass(frozen=True)
class EarlierRun:
    """The run a refresh starts from: its folder, and when it ran."""

    folder: Path
    started_at: datetime
    finished_at: datetime

    @classmethod
    def read(cls, name: str, value: str, spider: str) -> EarlierRun:
        folder = run_folder(name, value)
        try:
            manifest = json.loads((folder / "manifest.json").read_text())
            started = to_datetime(manifest["started_at"])
            finished = to_datetime(manifest["finished_at"])
        except (OSError, ValueError, KeyError, TypeError):
            raise ArgumentError(
                f"{name}: no readable manifest.json with started_at and "
                f"finished_at in {value}"
            ) from None
        if manifest.get("spider") != spider:
            raise ArgumentError(
                f"{name}: a {manifest.get('spider')!r} run, not a {spider!r} one: {value}"
            )
        return cls(folder, started, finished)


def carried_rows(earlier: Path, changed: set[str]) -> Iterator[Any]:
    """The earlier run's rows that still hold: not about a model in ``changed``,
    and no ``error`` notes (those are asked again)."""
    import pyarrow.parquet as pq

    for table, about in CARRIED.items():
        cls = row_class(table)
        for part in finished_parts(earlier / table):
            for values in pq.read_table(part).to_pylist():
                if any(values.get(c) in changed for c in about):
                    continue
                if table == "missed" and (
                    values.get("reason") == "error" or values.get("kind") == "listing"
                ):
                    continue
                yield cls(**{k: v for k, v in values.items() if k in _fields(cls)})


def _fields(cls: type) -> frozenset[str]:
    return frozenset(getattr(cls, "__dataclass_fields__", {}))
