"""The whole-graph ``hub`` crawl against the fake Hub (models with a lineage
forest, datasets, paper pages, tasks) and the fake arXiv.

What is checked against the fakes' own request logs and records: every seed's
card, every ancestor, every dataset and paper the rows name is fetched exactly
once; nothing is left dangling (integrity 0), and a run folder with a row taken
away counts it; a crawl killed with SIGKILL and rerun ends with the rows of an
uninterrupted one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pyarrow.parquet as pq
import pytest
from scrapy.utils.defer import deferred_f_from_coro_f
from scrapy.utils.test import get_crawler

from hfcrawl.args import ArgumentError
from hfcrawl.parsers.arxiv import canonical_arxiv_id
from hfcrawl.runfolder import PartOptions, RunFolder
from hfcrawl.spiders.hub import HubGraphSpider
from tests import crawlproc
from tests.conftest import project_settings
from tests.crawl import crawl
from tests.crawlproc import kill_when, rows_logged, rows_of, scrapy_crawl

ROOT = Path(__file__).resolve().parents[1]


def arxiv_for(hub: Any, n_papers: int) -> Iterator[Any]:
    """A fake arXiv knowing the papers ``hub``'s models name, and ``n_papers`` more."""
    from fakehub.arxiv import FakeArxiv, named_arxiv_ids

    with FakeArxiv(ids=named_arxiv_ids(hub.records), n_papers=n_papers) as server:
        yield server


@pytest.fixture(scope="module")
def graph_hub(start_module_hub: Any) -> Any:
    return start_module_hub(n_models=300, forest=1, n_datasets=120)


@pytest.fixture(scope="module")
def graph_arxiv(graph_hub: Any) -> Iterator[Any]:
    yield from arxiv_for(graph_hub, 50)


def hub_settings(hub: Any, arxiv: Any, tmp_path: Path) -> dict[str, Any]:
    values = project_settings(hub, tmp_path)
    values.update(
        ARXIV_ENDPOINT=arxiv.url,
        DOWNLOAD_SLOTS={"arxiv": {"concurrency": 1, "delay": 0.0, "jitter": 0.0}},
    )
    return values


def paths(hub: Any, prefix: str) -> Counter[str]:
    """Requests per id under ``prefix`` (``/api/datasets/`` ...), query left out."""
    return Counter(
        unquote(path.partition("?")[0][len(prefix) :])
        for _, path, _ in hub.requests
        if path.startswith(prefix)
    )


def latest_ids(hub: Any, n: int) -> list[str]:
    """The Hub's own answer: the ``n`` models last modified."""
    import json
    from urllib.request import urlopen

    url = f"{hub.url}/api/models?sort=lastModified&direction=-1&limit={n}"
    with urlopen(url) as answer:
        return [m["id"] for m in json.load(answer)]


def cards_asked(hub: Any) -> Counter[str]:
    return Counter(
        unquote(path.partition("/resolve/")[0].lstrip("/"))
        for _, path, _ in hub.requests
        if "/resolve/" in path
    )


def column(result: Any, table: str, name: str) -> list[Any]:
    data = result.table(table)
    return [] if data is None else data.column(name).to_pylist()


@deferred_f_from_coro_f
async def test_every_entity_the_graph_names_is_fetched_once(
    graph_hub: Any, graph_arxiv: Any, tmp_path: Path
) -> None:
    graph_hub.clear_log()
    graph_arxiv.clear_log()
    settings = hub_settings(graph_hub, graph_arxiv, tmp_path)
    result = await crawl(HubGraphSpider, settings, limit="150")
    assert result.stats["finish_reason"] == "finished"
    manifest = result.manifest()
    assert manifest["integrity"]["dangling"] == 0
    assert set(manifest["integrity"]["by_follow"]) == {
        "up", "card", "dataset", "croissant", "arxiv", "paper"
    }  # fmt: skip

    # seeds: the latest 150 by lastModified (as the Hub lists them), one card each
    seeds = set(latest_ids(graph_hub, 150))
    assert set(column(result, "lineage_seeds", "id")) == seeds
    assert set(cards_asked(graph_hub)) == seeds
    assert set(cards_asked(graph_hub).values()) == {1}

    # every dataset a model row names: asked once, answered by a row or a Missed row
    named = {d for ds in column(result, "models", "datasets") for d in ds}
    assert named
    datasets = Counter(
        {
            k: v
            for k, v in paths(graph_hub, "/api/datasets/").items()
            if not k.endswith("/croissant")
        }
    )
    assert set(datasets) == named
    assert set(datasets.values()) == {1}
    missed = result.table("missed").to_pylist()
    answered = set(column(result, "datasets", "requested_id")) | {
        m["id"] for m in missed if m["kind"] == "dataset"
    }
    assert answered == named
    # and every dataset row its Croissant, once
    rows = set(column(result, "datasets", "id"))
    assert rows
    croissants = Counter(
        p.removesuffix("/croissant")
        for p in paths(graph_hub, "/api/datasets/")
        if p.endswith("/croissant")
    )
    assert set(croissants) == rows
    assert set(croissants.values()) == {1}

    # every paper that models, cards and datasets name: one Hub page request, and
    # in exactly one arXiv batch
    papers = {
        canonical_arxiv_id(i)
        for table in ("models", "cards", "datasets")
        for ids in column(result, table, "arxiv_ids")
        for i in ids
    } - {None}
    assert papers
    hub_pages = paths(graph_hub, "/api/papers/")
    assert set(hub_pages) == papers
    assert set(hub_pages.values()) == {1}
    batches = [
        parse_qs(urlsplit(h.target).query)["id_list"][0].split(",")
        for h in graph_arxiv.hits
    ]
    in_batches = Counter(canonical_arxiv_id(i) for batch in batches for i in batch)
    assert set(in_batches) == papers
    assert set(in_batches.values()) == {1}
    assert all(len(b) <= 100 for b in batches)

    # ancestors: one /api/models/{id} each, none of them a seed the listing held
    ancestors = paths(graph_hub, "/api/models/")
    assert set(ancestors.values()) <= {1}
    assert not set(ancestors) & seeds
    parents = set(column(result, "lineage", "parent"))
    assert parents - seeds <= set(ancestors) | set(graph_hub.forest.redirects.values())

    # the reference tables count what the crawl met
    licences = set(column(result, "licenses", "license"))
    assert licences == {m for m in column(result, "models", "license") if m} | {
        d for d in column(result, "datasets", "license") if d
    }
    assert paths(graph_hub, "/api/tasks") == Counter({"": 1})


@deferred_f_from_coro_f
async def test_switches_turn_parts_off(
    graph_hub: Any, graph_arxiv: Any, tmp_path: Path
) -> None:
    graph_hub.clear_log()
    graph_arxiv.clear_log()
    settings = hub_settings(graph_hub, graph_arxiv, tmp_path)
    result = await crawl(
        HubGraphSpider,
        settings,
        limit="40",
        cards="false",
        lineage="false",
        arxiv="false",
        reference="false",
    )
    assert result.stats["finish_reason"] == "finished"
    assert result.table("cards") is None
    assert result.table("lineage") is None
    assert result.table("arxiv_papers") is None
    assert result.table("tasks") is None
    assert not graph_arxiv.hits
    assert not cards_asked(graph_hub)
    assert result.table("datasets") is not None
    assert set(result.manifest()["integrity"]["by_follow"]) == {
        "dataset",
        "croissant",
        "paper",
    }


@deferred_f_from_coro_f
async def test_ids_and_the_latest_n_are_merged_without_duplicates(
    graph_hub: Any, graph_arxiv: Any, tmp_path: Path
) -> None:
    latest = latest_ids(graph_hub, 5)
    older = [m for m in latest_ids(graph_hub, 40) if m not in latest][-3:]
    ids = [*older, latest[0]]  # one of them also among the latest
    off = dict.fromkeys(("cards", "lineage", "datasets", "arxiv", "papers"), "false")
    settings = hub_settings(graph_hub, graph_arxiv, tmp_path)
    result = await crawl(
        HubGraphSpider,
        settings,
        ids=",".join(ids),
        latest="5",
        reference="false",
        **off,
    )
    assert result.stats["finish_reason"] == "finished"
    seeds = column(result, "lineage_seeds", "id")
    assert sorted(seeds) == sorted({*ids, *latest})


@deferred_f_from_coro_f
async def test_faults_lose_and_double_nothing(
    graph_hub: Any, graph_arxiv: Any, tmp_path: Path
) -> None:
    """5xx, resets, cut and undecodable bodies on the listing, the ancestors, the
    datasets and their Croissant: the same tables as a run without them."""
    from fakehub import FaultRates

    settings = hub_settings(graph_hub, graph_arxiv, tmp_path)
    settings.update(HFCRAWL_RETRY_BACKOFF_BASE=0.01, HFCRAWL_RETRY_BACKOFF_MAX=0.05)
    settings["HFCRAWL_PAGE_SIZE"] = 40  # several listing pages to fault
    clean = await crawl(HubGraphSpider, settings, limit="120")
    rates = FaultRates(
        rate_5xx=0.1,
        rate_reset=0.05,
        rate_truncated=0.05,
        rate_bad_json=0.05,
        max_failures_per_request=2,
        seed=5,
    )
    graph_hub.set_faults(rates)
    try:
        faulty = await crawl(HubGraphSpider, settings, limit="120")
    finally:
        graph_hub.set_faults(None)
    assert graph_hub.stats["fault.5xx"] > 0
    assert graph_hub.stats["fault.truncated"] + graph_hub.stats["fault.bad_json"] > 0
    assert faulty.stats["finish_reason"] == "finished"
    assert tables_of(faulty.run_dir) == tables_of(clean.run_dir)
    assert faulty.manifest()["integrity"]["dangling"] == 0


def test_integrity_counts_what_no_row_answers(
    graph_hub: Any, graph_arxiv: Any, tmp_path: Path
) -> None:
    """A run folder with answers taken away: each is a dangling reference."""
    settings = hub_settings(graph_hub, graph_arxiv, tmp_path)
    folder = run_hub(graph_hub, graph_arxiv, tmp_path, ["-a", "limit=60"])
    crawler = get_crawler(HubGraphSpider, settings)
    spider = HubGraphSpider.from_crawler(crawler, limit="60")
    assert spider.integrity(folder)["dangling"] == 0
    run = RunFolder(folder, PartOptions())
    datasets = pq.read_table(next((folder / "datasets").glob("part-*")))
    gone = datasets.column("id").to_pylist()[:2]
    for repo_id in gone:
        run.drop_rows("datasets", "id", repo_id)
    report = spider.integrity(folder)
    assert report["dangling"] == len(gone)
    assert report["by_follow"]["dataset"] == len(gone)
    assert set(report["examples"]) == set(gone)


def test_bad_arguments_are_one_line_errors() -> None:
    from hfcrawl.spiders.hub import HubArguments

    with pytest.raises(ArgumentError, match="cards"):
        HubArguments.parse({"cards": "maybe"})
    with pytest.raises(ArgumentError, match="latest"):
        HubArguments.parse({"latest": "10"})


# --- kill -9 and resume: real `scrapy crawl hub` processes with a JOBDIR -----------
@pytest.fixture(scope="module")
def slow_hub(start_module_hub: Any) -> Any:
    from fakehub.faults import Latency

    return start_module_hub(
        n_models=400, forest=3, n_datasets=80, latency=Latency(0.002, 0.02)
    )


@pytest.fixture(scope="module")
def slow_arxiv(slow_hub: Any) -> Iterator[Any]:
    yield from arxiv_for(slow_hub, 20)


def hub_command(tmp_path: Path, arxiv: Any, extra: list[str]) -> list[str]:
    return scrapy_crawl(
        "hub", *extra,
        "-s", f"ARXIV_ENDPOINT={arxiv.url}",
        # the arXiv slot's delay: 0 on the fake (it is on loopback)
        "-s", 'DOWNLOAD_SLOTS={"arxiv": {"concurrency": 1, "delay": 0}}',
        "-s", "HFCRAWL_ARXIV_BATCH=5",  # several batches
        "-s", f"JOBDIR={tmp_path / 'job'}",
        "-s", f"HFCRAWL_EXPORT_DIR={tmp_path / 'exports'}",
        "-s", "HFCRAWL_PART_ROWS=50",
        "-s", "HFCRAWL_ROW_GROUP_ROWS=20",
        "-s", "HFCRAWL_PAGE_SIZE=50",
        "-s", "LOG_LEVEL=INFO",
    )  # fmt: skip


def start_hub_crawl(hub: Any, arxiv: Any, tmp_path: Path, extra: list[str]) -> Any:
    return crawlproc.start(hub_command(tmp_path, arxiv, extra), hub, tmp_path)


def run_hub(hub: Any, arxiv: Any, tmp_path: Path, extra: list[str]) -> Path:
    crawlproc.finish(start_hub_crawl(hub, arxiv, tmp_path, extra), tmp_path)
    (folder,) = (tmp_path / "exports" / "hub").iterdir()
    return folder


KEYS = {
    "models": ("id", "requested_id", "sha"),
    "lineage_seeds": ("id",),
    "lineage": ("child", "parent", "relation", "source", "depth", "parent_named"),
    "cards": ("id", "requested_id", "revision", "text_length"),
    "eval_results": ("model_id", "result_index", "metric_index", "metric_value"),
    "datasets": ("id", "requested_id", "sha"),
    "croissant": ("id", "conforms_to", "name"),
    "arxiv_papers": ("id", "version", "title"),
    "hub_papers": ("id", "upvotes"),
    "licenses": ("id", "models", "datasets"),
    "languages": ("code", "models", "datasets"),
    "tasks": ("id", "models", "datasets"),
    "missed": ("kind", "id", "reason"),
}


def tables_of(folder: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows as sorted tuples (crawl times left out); no row twice."""
    out = rows_of(folder, KEYS)
    for table, rows in out.items():
        assert len(rows) == len(set(rows)), f"{table}: a row written twice"
    return out


@pytest.fixture(scope="module")
def reference_run(
    slow_hub: Any, slow_arxiv: Any, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, list[tuple[Any, ...]]]:
    tmp = tmp_path_factory.mktemp("hub-reference")
    return tables_of(run_hub(slow_hub, slow_arxiv, tmp, ["-a", "limit=300"]))


@pytest.mark.slow
@pytest.mark.parametrize(
    "stops",
    [
        [("lineage_seeds", 100)],  # mid-listing
        [("cards", 40), ("lineage", 60)],  # cards and ancestors, twice
        [("hub_papers", 3)],  # papers: the last follow-ups
    ],
    ids=["listing", "cards-then-ancestors", "papers"],
)
def test_killed_and_resumed_hub_crawl_ends_with_the_reference_rows(
    slow_hub: Any,
    slow_arxiv: Any,
    reference_run: dict[str, list[tuple[Any, ...]]],
    tmp_path: Path,
    stops: list[tuple[str, int]],
) -> None:
    exports = tmp_path / "exports" / "hub"
    for table, rows in stops:
        proc = start_hub_crawl(slow_hub, slow_arxiv, tmp_path, ["-a", "limit=300"])
        kill_when(proc, lambda t=table, n=rows: rows_logged(exports, t) >= n)
    folder = run_hub(slow_hub, slow_arxiv, tmp_path, ["-a", "limit=300"])
    assert tables_of(folder) == reference_run


# --- incremental refresh -----------------------------------------------------------
@pytest.fixture(scope="module")
def changing_hub(start_module_hub: Any) -> Any:
    """A hub of its own: the refresh test changes its models."""
    return start_module_hub(n_models=300, forest=2, n_datasets=60)


@pytest.fixture(scope="module")
def changing_arxiv(changing_hub: Any) -> Iterator[Any]:
    yield from arxiv_for(changing_hub, 10)


def requests_made(hub: Any, arxiv: Any) -> int:
    return len(hub.requests) + len(arxiv.hits)


@deferred_f_from_coro_f
async def test_refresh_after_one_percent_changed_is_a_full_crawl_for_far_less(
    changing_hub: Any, changing_arxiv: Any, tmp_path: Path
) -> None:
    import random
    from datetime import UTC, datetime, timedelta

    settings = hub_settings(changing_hub, changing_arxiv, tmp_path)
    first = await crawl(HubGraphSpider, settings)
    assert first.stats["finish_reason"] == "finished"

    # 1% of the listed models get a new commit: sha, lastModified, counts
    listed = sorted(set(column(first, "lineage_seeds", "id")))
    changed = random.Random(7).sample(listed, max(1, len(listed) // 100))
    changed.append("forest-e/merged-7b")  # a model in the middle of a family
    later = datetime.now(UTC) + timedelta(seconds=1)
    changing_hub.modify(
        {
            repo_id: {
                "sha": f"{k + 1:040x}",
                "lastModified": later.isoformat(timespec="milliseconds")[:-6] + "Z",
                "downloads": 10_000_000 + k,
                "likes": 5_000 + k,
            }
            for k, repo_id in enumerate(changed)
        }
    )

    changing_hub.clear_log()
    changing_arxiv.clear_log()
    refresh = await crawl(HubGraphSpider, settings, refresh_from=str(first.run_dir))
    assert refresh.stats["finish_reason"] == "finished"
    refresh_requests = requests_made(changing_hub, changing_arxiv)

    changing_hub.clear_log()
    changing_arxiv.clear_log()
    fresh = await crawl(HubGraphSpider, settings)
    full_requests = requests_made(changing_hub, changing_arxiv)

    assert refresh.stats["hfcrawl/refresh/changed"] == len(changed)
    assert tables_of(refresh.run_dir) == tables_of(fresh.run_dir)
    assert refresh.manifest()["integrity"]["dangling"] == 0
    # the changed models' cards were fetched again, at their new sha
    cards = {r["id"]: r["revision"] for r in refresh.table("cards").to_pylist()}
    assert {cards[m] for m in changed if m in cards} <= {
        f"{k + 1:040x}" for k in range(len(changed))
    }
    print(f"refresh: {refresh_requests} requests, full crawl: {full_requests}")
    assert refresh_requests <= 0.02 * full_requests


def test_refresh_needs_a_hub_run_and_a_listing(tmp_path: Path) -> None:
    from hfcrawl.spiders.hub import HubArguments

    with pytest.raises(ArgumentError, match="refresh_from: no such run folder"):
        HubArguments.parse({"refresh_from": str(tmp_path / "nowhere")})
    (tmp_path / "manifest.json").write_text('{"spider": "models"}')
    with pytest.raises(ArgumentError, match="refresh_from"):
        HubArguments.parse({"refresh_from": str(tmp_path)})
