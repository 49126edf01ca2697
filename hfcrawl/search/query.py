"""Ranking a query against a run's index: cosine similarity of TF-IDF vectors,
filters applied before ranking, and the card line that matched best."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from hfcrawl.cli import UsageError
from hfcrawl.report.run import Run
from hfcrawl.search.corpus import card_texts
from hfcrawl.search.index import Index

LINE_CHARS = 160
_SIZE = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:e[0-9]+)?)\s*([kmbt]?)\s*$", re.IGNORECASE)
_SCALE = {"": 1, "k": 1e3, "m": 1e6, "b": 1e9, "t": 1e12}


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


def _mask(index: Index, f: Filters) -> np.ndarray:
    m = index.meta
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


def best_line(index: Index, query: str, text: str, fallback: str) -> str | None:
    """The line of ``text`` holding the most of the query's weight (idf of the
    query's words in it); else ``fallback`` (name and tags) if it holds any."""
    analyse = index.vectorizer.build_analyzer()
    vocabulary = index.vectorizer.vocabulary_
    idf = index.vectorizer.idf_
    terms = {t: idf[vocabulary[t]] for t in analyse(query) if t in vocabulary}
    if not terms:
        return None
    best, best_weight = None, 0.0
    for line in [*text.splitlines(), fallback]:
        stripped = line.strip()
        if not stripped:
            continue
        present = set(analyse(stripped)) & terms.keys()
        weight = sum(terms[t] for t in present)
        if weight > best_weight:
            best, best_weight = stripped, weight
    if best is None:
        return None
    return best if len(best) <= LINE_CHARS else best[: LINE_CHARS - 1] + "…"


def search(
    run: Run, index: Index, query: str, filters: Filters, top: int = 10
) -> list[Result]:
    if not query.strip():
        raise UsageError("the query is empty")
    vector = index.vectorizer.transform([query])
    scores = np.asarray((index.matrix @ vector.T).todense()).ravel()
    scores[~_mask(index, filters)] = 0.0
    hits = np.flatnonzero(scores > 0)
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
                line=best_line(index, query, texts.get(repo, ""), repo),
            )
        )
    return results
