"""Ranking quality on a labelled query set: hit rate at 1 and at k, and the
mean reciprocal rank of the first right answer."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from hfcrawl.report.run import Run
from hfcrawl.search.query import Filters, Ranker, search


@dataclass
class Evaluation:
    k: int
    queries: int = 0
    hits_at_1: int = 0
    hits_at_k: int = 0
    reciprocal_ranks: float = 0.0
    misses: list[str] = field(default_factory=list)  # queries with no right answer in k

    @property
    def hit_rate_at_1(self) -> float:
        return self.hits_at_1 / self.queries if self.queries else 0.0

    @property
    def hit_rate_at_k(self) -> float:
        return self.hits_at_k / self.queries if self.queries else 0.0

    @property
    def mrr(self) -> float:
        return self.reciprocal_ranks / self.queries if self.queries else 0.0


def evaluate(
    run: Run,
    index: Ranker,
    labelled: Sequence[dict[str, Any]],
    relevant: Callable[[dict[str, Any], str], bool],
    k: int = 5,
) -> Evaluation:
    """``labelled``: ``{"query": ...}`` entries; ``relevant(entry, model_id)``
    says whether a result is a right answer for that entry."""
    ev = Evaluation(k=k)
    for entry in labelled:
        results = search(run, index, entry["query"], Filters(), k)
        ev.queries += 1
        rank = next((r.rank for r in results if relevant(entry, r.id)), None)
        if rank is None:
            ev.misses.append(entry["query"])
            continue
        ev.hits_at_k += 1
        ev.hits_at_1 += rank == 1
        ev.reciprocal_ranks += 1 / rank
    return ev
