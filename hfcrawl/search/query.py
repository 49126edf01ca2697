"""Ranking a query against a run's index (TF-IDF, dense or both: anything
that scores every document and picks the card line that matched), filters
applied before ranking, and the results."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any, Protocol

import numpy as np

from hfcrawl.cli import UsageError
from hfcrawl.report.run import Run
from hfcrawl.search.corpus import Meta, card_texts

_SIZE = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:e[0-9]+)?)\s*([kmbt]?)\s*$", re.IGNORECASE)
_SCALE = {"": 1, "k": 1e3, "m": 1e6, "b": 1e9, "t": 1e12}


class Ranker(Protocol):
    """An index: ``hfcrawl.search.index.Index`` (TF-IDF),
    ``hfcrawl.search.dense.DenseIndex``, ``hfcrawl.search.dense.Hybrid``."""

    @property
    def meta(self) -> Meta: ...

    def scores(self, query: str) -> np.ndarray:
        """One score per document, in index order; -inf: no match at all."""
        ...

    def line(self, query: str, text: str, fallback: str) -> str | None: ...


@dataclass
class Filters:
    task: str | None = None
    license: str | None = None
    max_params: int | None = None
    min_downloads: int | None = None


@dataclass
class Result:
    rank: int
    id: str
    score: float
    task: str | None
    license: str | None
    downloads: int | None
    parameters: int | None
    line: str | None  # the card line (or name/tags) that matched best

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def parse_size(text: str) -> int:
    """``7B``, ``350M``, ``1.5e9``, ``8000000000`` -> a count; UsageError else."""
    match = _SIZE.match(text)
    if not match:
        raise UsageError(
            f"--max-params: expected a count such as 7B, 350M or 1.5e9, got {text!r}"
        )
    return int(float(match.group(1)) * _SCALE[match.group(2).lower()])


def _mask(m: Meta, f: Filters) -> np.ndarray:
    keep = np.ones(len(m.ids), dtype=bool)
    if f.task is not None:
        keep &= np.array([t == f.task for t in m.tasks], dtype=bool)
    if f.license is not None:
        wanted = f.license.lower()
        keep &= np.array(
            [(lic or "").lower() == wanted for lic in m.licenses], dtype=bool
        )
    # a model whose size or downloads are unknown cannot be shown to pass
    if f.max_params is not None:
        limit = f.max_params
        keep &= np.array(
            [p is not None and p <= limit for p in m.parameters], dtype=bool
        )
    if f.min_downloads is not None:
        least = f.min_downloads
        keep &= np.array(
            [d is not None and d >= least for d in m.downloads], dtype=bool
        )
    return keep


def search(
    run: Run, index: Ranker, query: str, filters: Filters, top: int = 10
) -> list[Result]:
    if not query.strip():
        raise UsageError("the query is empty")
    scores = index.scores(query)
    # filtered out before ranking: a filter removes models and nothing else
    scores[~_mask(index.meta, filters)] = -np.inf
    hits = np.flatnonzero(np.isfinite(scores))
    if hits.size > top:
        hits = hits[np.argpartition(-scores[hits], top - 1)[:top]]
    m = index.meta
    # best score first; ties by id, so the order is the same on every run
    order = sorted(hits.tolist(), key=lambda i: (-scores[i], m.ids[i]))
    texts = card_texts(run, [m.ids[i] for i in order])
    results = []
    for rank, i in enumerate(order, 1):
        repo = m.ids[i]
        results.append(
            Result(
                rank=rank,
                id=repo,
                score=round(float(scores[i]), 4),
                task=m.tasks[i],
                license=m.licenses[i],
                downloads=m.downloads[i],
                parameters=m.parameters[i],
                line=index.line(query, texts.get(repo, ""), repo),
            )
        )
    return results
