"""The papers spider: the Hub's paper pages, ``/api/papers/{arxiv_id}``.

Parsed from the real paper objects of the recorded search results
(``fakehub/data/papers_search_q_*.json``), which the fake Hub serves as pages.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from scrapy.utils.defer import deferred_f_from_coro_f

from fakehub.papers import DATA, real_papers
from hfcrawl.parsers.papers import decode_paper, parse_hub_paper
from hfcrawl.spiders.models import ModelsSpider
from hfcrawl.spiders.papers import PapersSpider
from tests.crawl import crawl

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def paper_paths(hub: Any) -> list[str]:
    return [p for _, p, _ in hub.requests if p.startswith("/api/papers/")]


def test_a_real_paper_object_parses_to_every_field() -> None:
    record = next(
        r["paper"]
        for r in orjson.loads((DATA / "papers_search_q_llama-3-herd.json").read_bytes())
        if r["paper"]["id"] == "2407.21783"
    )
    paper = parse_hub_paper(record, NOW, "2407.21783")
    assert paper.id == "2407.21783"
    assert paper.title == "The Llama 3 Herd of Models"
    assert paper.published_at == datetime(2024, 7, 31, 17, 54, 27, tzinfo=UTC)
    assert paper.upvotes == record["upvotes"]
    assert paper.discussion_id == record["discussionId"]
    assert len(paper.authors) == len(record["authors"])
    assert paper.authors[:2] == ["Abhimanyu Dubey", "Abhinav Jauhri"]
    # only the authors who claimed the paper have a Hub user
    assert paper.author_users[:2] == ["dubeya", "abhiskk"]
    assert len(paper.author_users) == sum(1 for a in record["authors"] if "user" in a)
    assert paper.ai_keywords == record["ai_keywords"]
    assert paper.summary is not None
    assert "\n" not in paper.summary
    # fields this object does not have are empty, not invented
    assert paper.github_repo is None
    assert paper.linked_models == []
    assert paper.num_total_models is None


def test_a_real_paper_with_a_github_repo_and_none_without_keywords() -> None:
    papers = real_papers()
    with_repo = parse_hub_paper(papers["2503.05856"], NOW, "2503.05856")
    assert with_repo.github_repo == papers["2503.05856"]["githubRepo"]
    assert with_repo.github_repo.startswith("https://github.com/")
    bare = parse_hub_paper(papers["2411.09012"], NOW, "2411.09012")
    assert bare.ai_keywords == []
    assert bare.num_comments == papers["2411.09012"]["numComments"]


def test_a_body_that_is_not_an_object_is_a_decode_error() -> None:
    import msgspec
    import pytest

    for body in (b"[]", b"{", b'"x"'):
        with pytest.raises(msgspec.DecodeError):
            decode_paper(body)


@deferred_f_from_coro_f
async def test_pages_missing_pages_and_invalid_ids(
    fake_hub: Any, settings: dict[str, Any]
) -> None:
    no_page = min(fake_hub.papers.without_page)
    real = real_papers()
    cited = next(
        i
        for i, page in sorted(fake_hub.papers.records.items())
        if page["numTotalModels"] and i not in real
    )
    fake_hub.clear_log()
    result = await crawl(
        PapersSpider,
        settings,
        ids=f"arXiv:2407.21783v2,{cited},{no_page},not-an-id,2407.21783",
    )
    rows = {r["id"]: r for r in result.table("hub_papers").to_pylist()}
    assert set(rows) == {"2407.21783", cited}
    llama = rows["2407.21783"]
    assert llama["title"] == "The Llama 3 Herd of Models"
    assert llama["submitted_on_daily_at"] is not None
    page = fake_hub.papers.records[cited]
    assert rows[cited]["num_total_models"] == page["numTotalModels"] > 0
    assert rows[cited]["linked_models"] == [m["id"] for m in page["linkedModels"]]
    missed = {r["id"]: r["reason"] for r in result.table("missed").to_pylist()}
    assert missed == {no_page: "not_found", "not-an-id": "invalid"}
    # one request a paper, by its id without version
    assert sorted(paper_paths(fake_hub)) == sorted(
        f"/api/papers/{i}" for i in ("2407.21783", cited, no_page)
    )
    assert result.stats["hfcrawl/exit_code"] == 0


@deferred_f_from_coro_f
async def test_from_a_models_run_every_cited_paper_is_asked_for_once(
    fake_hub: Any, settings: dict[str, Any], tmp_path: Path
) -> None:
    models = await crawl(ModelsSpider, settings, limit="500")
    cited = {
        i for ids in models.table("models").column("arxiv_ids").to_pylist() for i in ids
    }
    fake_hub.clear_log()
    result = await crawl(PapersSpider, settings, from_run=str(models.run_dir))
    assert sorted(paper_paths(fake_hub)) == sorted(f"/api/papers/{i}" for i in cited)
    found = set(result.table("hub_papers").column("id").to_pylist())
    missing = {r["id"] for r in result.table("missed").to_pylist()}
    assert found | missing == cited
    assert not found & missing
    assert missing == cited & fake_hub.papers.without_page
