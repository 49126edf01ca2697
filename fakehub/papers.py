"""``/api/papers/{arxiv_id}``: the Hub's paper pages (hub-api.md §11).

No single-paper body was recorded, so the records are the ``paper`` objects of
the two recorded search results (``data/papers_search_q_*.json``: ids, authors
with their Hub users, dates, summaries, upvotes, AI keywords, a GitHub repo),
with the search result's ``numComments`` and its ``publishedAt`` as
``submittedOnDailyAt``, plus the fields only this endpoint has, built from the
fake Hub itself: ``linkedModels`` / ``linkedDatasets`` (the repos whose
``arxiv:`` tags cite the paper, ten at most, as ``{"id": ...}`` objects) and
``numTotalModels`` / ``numTotalDatasets`` / ``numTotalSpaces`` (all of them).

Papers the fake Hub's repos cite get a page too (a real record's fields under
the cited id), except every third of them in id order: those answer 404, as a
paper without a Hub page does.
"""

from __future__ import annotations

import copy
import itertools
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import unquote

import orjson

from fakehub.exchange import HubRequest, HubResponse, json_error

if TYPE_CHECKING:
    from fakehub.server import FakeHub

DATA: Final = Path(__file__).with_name("data")
SEARCH_FILES: Final = (
    "papers_search_q_llama-3-herd.json",
    "papers_search_q_kazakh.json",
)
LINKED_SHOWN: Final = 10


def real_papers() -> dict[str, dict[str, Any]]:
    papers: dict[str, dict[str, Any]] = {}
    for name in SEARCH_FILES:
        for result in orjson.loads((DATA / name).read_bytes()):
            paper = dict(result["paper"])
            paper["numComments"] = result.get("numComments", 0)
            paper["submittedOnDailyAt"] = result.get("publishedAt")
            papers.setdefault(paper["id"], paper)
    return papers


def _citations(records: list[dict[str, Any]]) -> dict[str, list[str]]:
    cited: dict[str, list[str]] = defaultdict(list)
    for record in records:
        tags = record.get("tags")
        if not isinstance(tags, list) or not isinstance(record.get("id"), str):
            continue
        for tag in tags:
            if isinstance(tag, str) and tag.startswith("arxiv:"):
                cited[tag[len("arxiv:") :]].append(record["id"])
    return cited


class Papers:
    """The paper pages of one fake Hub."""

    def __init__(self, hub: FakeHub) -> None:
        public = [r for r in hub.records if r.get("private") is not True]
        models = _citations(public)
        datasets = _citations([r for r in hub.datasets.records if not r["private"]])
        self.records = real_papers()
        templates = itertools.cycle(list(self.records.values()))
        cited = sorted((set(models) | set(datasets)) - set(self.records))
        self.without_page = set(cited[::3])
        for arxiv_id in cited:
            if arxiv_id not in self.without_page:
                self.records[arxiv_id] = {
                    **copy.deepcopy(next(templates)),
                    "id": arxiv_id,
                }
        for arxiv_id, paper in self.records.items():
            paper["linkedModels"] = [{"id": i} for i in models[arxiv_id][:LINKED_SHOWN]]
            paper["numTotalModels"] = len(models[arxiv_id])
            paper["linkedDatasets"] = [
                {"id": i} for i in datasets[arxiv_id][:LINKED_SHOWN]
            ]
            paper["numTotalDatasets"] = len(datasets[arxiv_id])
            paper["linkedSpaces"] = []
            paper["numTotalSpaces"] = 0

    def answer(self, request: HubRequest) -> HubResponse:
        arxiv_id = unquote(request.path[len("/api/papers/") :])
        paper = self.records.get(arxiv_id)
        if paper is None:
            return json_error(404, "Paper not found")
        return HubResponse(200, orjson.dumps(paper))
