"""The lineage spider against the fake Hub's model forest (fakehub/forest.py).

The forest states its edges; ``Forest.up`` / ``Forest.down`` walk them the way
the Hub lets a crawler (renamed parents followed, private and missing ones not):
the crawl must collect exactly those edges, each at its least depth.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from scrapy.utils.defer import deferred_f_from_coro_f

from hfcrawl.args import ArgumentError
from hfcrawl.parsers.lineage import ParentGraph
from hfcrawl.spiders.lineage import LineageSpider
from tests import crawlproc
from tests.conftest import project_settings
from tests.crawl import crawl
from tests.crawlproc import kill_when, rows_logged, rows_of, scrapy_crawl

CHAIN_LEAF = "forest-h/merged-7b-sft-GGUF-imat"


@pytest.fixture(scope="module")
def forest_hub() -> Iterator[Any]:
    from fakehub import FakeHub

    with FakeHub(n_models=30, forest=2) as hub:
        yield hub


@pytest.fixture
def forest_settings(forest_hub: Any, tmp_path: Path) -> dict[str, Any]:
    return project_settings(forest_hub, tmp_path)


def edges_of(result: Any, direction: str = "up") -> dict[tuple[Any, ...], int]:
    table = result.table("lineage")
    rows = table.to_pylist() if table is not None else []
    found = {
        (r["child"], r["parent"], r["relation"], r["source"]): r["depth"]
        for r in rows
        if r["direction"] == direction
    }
    assert len(found) == len([r for r in rows if r["direction"] == direction])
    return found


def expected(walk: dict[Any, int]) -> dict[tuple[Any, ...], int]:
    return {(e.child, e.parent, e.relation, e.source): d for e, d in walk.items()}


def missed_of(result: Any) -> set[tuple[str, str, str]]:
    table = result.table("missed")
    rows = table.to_pylist() if table is not None else []
    return {(m["kind"], m["id"], m["reason"]) for m in rows}


def model_fetches(hub: Any) -> Counter[str]:
    """GET /api/models/{id} per id, from the fake Hub's request log."""
    return Counter(
        unquote(path.partition("?")[0][len("/api/models/") :])
        for _, path, _ in hub.requests
        if path.startswith("/api/models/")
    )


@deferred_f_from_coro_f
async def test_edges_from_every_leaf_are_the_forests_at_their_least_depth(
    forest_hub: Any, forest_settings: dict[str, Any]
) -> None:
    forest = forest_hub.forest
    forest_hub.clear_log()
    result = await crawl(LineageSpider, forest_settings, ids=",".join(forest.leaves))
    assert result.stats["finish_reason"] == "finished"
    got = edges_of(result)
    want = expected(forest.up(forest.leaves))
    assert got == want
    # every edge the forest states is there, but those a crawler cannot reach
    # (above a private parent) and self-references
    hidden = {e for e in forest.edges if e.child in forest.private}
    stated = {forest.resolved(e) for e in forest.edges}
    assert {(e.child, e.parent, e.relation, e.source) for e in stated} - set(got) == {
        (e.child, e.parent, e.relation, e.source) for e in hidden
    }
    # each ancestor (and each seed) asked for once
    fetches = model_fetches(forest_hub)
    assert set(fetches.values()) == {1}
    models = set(result.table("models").column("id").to_pylist())
    parents = {p for _, p, _, _ in got}
    reachable = {forest.redirects.get(p, p) for p in parents} - forest.private
    assert reachable - forest.missing <= models
    missed = missed_of(result)
    for private in forest.private:
        assert ("model", private, "not_found") in missed
    for gone in forest.missing:
        assert ("model", gone, "not_found") in missed
    for old in forest.redirects:
        assert ("lineage", old, "renamed") in missed
    # the edge to a renamed parent names the new id, and keeps the old one
    named = {
        (r["child"], r["parent"]): r["parent_named"]
        for r in result.table("lineage").to_pylist()
    }
    for old, new in forest.redirects.items():
        children = [e.child for e in forest.edges if e.parent == old]
        assert children
        for child in children:
            assert named[(child, new)] == old
            assert (child, old) not in named
    assert {n for n in named.values() if n is not None} == set(forest.redirects)
    for ouroboros in forest.self_references:
        assert ("lineage", ouroboros, "self_reference") in missed
    cycles = [m for m in missed if m[2] == "cycle"]
    assert sorted(c[1] for c in cycles) == ["forest-loop/alpha", "forest-loop/alpha-1"]
    details = {
        m["id"]: m["detail"]
        for m in result.table("missed").to_pylist()
        if m["reason"] == "cycle"
    }
    assert details["forest-loop/alpha"] == (
        "forest-loop/alpha -> forest-loop/gamma -> forest-loop/beta -> forest-loop/alpha"
    )
    seeds = result.table("lineage_seeds").column("id").to_pylist()
    assert sorted(seeds) == forest.leaves


@deferred_f_from_coro_f
async def test_a_deep_chain_asks_for_each_ancestor_once_at_each_depth(
    forest_hub: Any, forest_settings: dict[str, Any]
) -> None:
    forest = forest_hub.forest
    forest_hub.clear_log()
    result = await crawl(LineageSpider, forest_settings, ids=CHAIN_LEAF)
    got = edges_of(result)
    assert got == expected(forest.up([CHAIN_LEAF]))
    assert max(got.values()) >= 7
    chain = [c for c, *_ in sorted(got, key=got.__getitem__)]
    assert chain[0] == CHAIN_LEAF
    fetches = model_fetches(forest_hub)
    ancestors = {p for _, p, _, _ in got}
    assert set(fetches) == {CHAIN_LEAF} | ancestors
    assert set(fetches.values()) == {1}
    # the levels went up one at a time: depth 7 was the last asked for
    assert result.stats["hfcrawl/follow/up/level"] == max(got.values())


@deferred_f_from_coro_f
async def test_depth_stops_the_walk(
    forest_hub: Any, forest_settings: dict[str, Any]
) -> None:
    forest = forest_hub.forest
    forest_hub.clear_log()
    result = await crawl(LineageSpider, forest_settings, ids=CHAIN_LEAF, depth="3")
    got = edges_of(result)
    assert got == expected(forest.up([CHAIN_LEAF], depth=3))
    assert max(got.values()) == 3
    # the parents at depth 3 are fetched (they are models rows), nothing above
    assert len(model_fetches(forest_hub)) == 4


@deferred_f_from_coro_f
async def test_cycles_terminate_and_are_recorded_once(
    forest_hub: Any, forest_settings: dict[str, Any]
) -> None:
    forest_hub.clear_log()
    seeds = "forest-x/loop-child,forest-loop/beta"
    result = await crawl(LineageSpider, forest_settings, ids=seeds)
    assert result.stats["finish_reason"] == "finished"
    got = edges_of(result)
    assert {(c, p) for c, p, *_ in got} == {
        ("forest-x/loop-child", "forest-loop/alpha"),
        ("forest-loop/beta", "forest-loop/alpha"),
        ("forest-loop/alpha", "forest-loop/gamma"),
        ("forest-loop/gamma", "forest-loop/beta"),
    }
    cycles = [m for m in missed_of(result) if m[2] == "cycle"]
    assert cycles == [("lineage", "forest-loop/alpha", "cycle")]
    assert set(model_fetches(forest_hub).values()) == {1}


@deferred_f_from_coro_f
async def test_listing_seeds_need_no_request_for_models_they_hold(
    forest_hub: Any, forest_settings: dict[str, Any]
) -> None:
    forest = forest_hub.forest
    forest_hub.clear_log()
    result = await crawl(LineageSpider, forest_settings, search="forest-")
    got = edges_of(result)
    listed = {r["id"] for r in forest.records if not r["private"]}
    assert got == expected(forest.up(listed))
    assert set(got.values()) == {1}
    # only the parents the listing cannot hold are asked for (a renamed one
    # twice over HTTP: the 307, then where it points)
    hidden = forest.private | forest.missing | set(forest.redirects)
    renamed = set(forest.redirects.values())
    assert set(model_fetches(forest_hub)) == hidden | renamed


@deferred_f_from_coro_f
async def test_direction_down_lists_descendants_by_relation(
    forest_hub: Any, forest_settings: dict[str, Any]
) -> None:
    forest = forest_hub.forest
    forest_hub.clear_log()
    roots = ["forest-root/base-7b", "forest-root/base-1b"]
    result = await crawl(
        LineageSpider, forest_settings, ids=",".join(roots), direction="down"
    )
    got = edges_of(result, "down")
    assert got == expected(forest.down(roots))
    assert max(got.values()) >= 6
    assert not edges_of(result, "up")
    listings = result.table("lineage_children").to_pylist()
    # one finished listing per relation per model reached above the leaves
    reached = set(roots) | {c for c, *_ in got}
    assert {(r["model"], r["relation"]) for r in listings} == {
        (m, rel)
        for m in reached
        for rel in ("finetune", "adapter", "quantized", "merge")
    }
    counts = Counter((p, rel) for (_, p, rel, _) in got)
    for r in listings:
        assert r["children"] == counts[(r["model"], r["relation"])]
    assert ("lineage", "forest-self/ouroboros", "self_reference") in missed_of(result)


@deferred_f_from_coro_f
async def test_direction_both_and_depth(
    forest_hub: Any, forest_settings: dict[str, Any]
) -> None:
    forest = forest_hub.forest
    seed = "forest-e/merged-7b"
    result = await crawl(
        LineageSpider, forest_settings, ids=seed, direction="both", depth="2"
    )
    assert edges_of(result, "up") == expected(forest.up([seed], depth=2))
    assert edges_of(result, "down") == expected(forest.down([seed], depth=2))


@deferred_f_from_coro_f
async def test_children_count_comes_with_the_ancestors(
    forest_hub: Any, forest_settings: dict[str, Any]
) -> None:
    forest = forest_hub.forest
    result = await crawl(
        LineageSpider, forest_settings, ids=CHAIN_LEAF, children_count="true"
    )
    details = {
        r["id"]: r["children_model_count"]
        for r in result.table("model_details").to_pylist()
    }
    counts = {r["id"]: r["childrenModelCount"] for r in forest.records}
    assert set(details) == set(result.table("models").column("id").to_pylist())
    assert len(details) == 1 + len({p for _, p, _, _ in edges_of(result)})
    assert details == {i: str(counts[i]) for i in details}


def test_arguments() -> None:
    assert LineageSpider.Arguments.parse({"direction": "down"}).down
    with pytest.raises(ArgumentError, match="direction: expected one of"):
        LineageSpider.Arguments.parse({"direction": "sideways"})
    with pytest.raises(ArgumentError, match="depth: expected a positive integer"):
        LineageSpider.Arguments.parse({"depth": "0"})
    # the models selection arguments are the same ones
    with pytest.raises(ArgumentError, match="pipeline_tag: only applies"):
        LineageSpider.Arguments.parse({"ids": "a/b", "pipeline_tag": "x"})


def test_a_cycle_reads_the_same_whichever_edge_closes_it() -> None:
    ring = [("c", "a"), ("a", "b"), ("b", "c")]
    found = set()
    for start in range(3):
        graph = ParentGraph()
        closed = [graph.add(*e) for e in ring[start:] + ring[:start]]
        assert closed[:2] == [None, None]
        found.add(tuple(closed[2] or ()))
    assert found == {("a", "b", "c", "a")}


# --- kill -9 and resume: real `scrapy crawl lineage` processes with a JOBDIR -------


@pytest.fixture(scope="module")
def slow_forest() -> Iterator[Any]:
    """20 trees (440 models) answering in 2-20 ms, out of order: long enough a
    crawl to kill it where a test wants."""
    from fakehub import FakeHub
    from fakehub.faults import Latency

    with FakeHub(n_models=30, forest=20, latency=Latency(0.002, 0.02)) as hub:
        yield hub


SEEDS = {
    "up": lambda forest: forest.leaves,
    "both": lambda forest: sorted(
        r["id"] for r in forest.records if r["id"].startswith("forest-e/")
    ),
}


def start_crawl(hub: Any, tmp_path: Path, direction: str) -> Any:
    seeds = tmp_path / "seeds.txt"
    if not seeds.exists():
        seeds.write_text("\n".join(SEEDS[direction](hub.forest)) + "\n")
    command = scrapy_crawl(
        "lineage",
        "-a", f"ids_file={seeds}", "-a", f"direction={direction}",
        "-s", f"JOBDIR={tmp_path / 'job'}",
        "-s", f"HFCRAWL_EXPORT_DIR={tmp_path / 'exports'}",
        "-s", "HFCRAWL_PART_ROWS=60",
        "-s", "HFCRAWL_ROW_GROUP_ROWS=20",
        "-s", "HFCRAWL_PAGE_SIZE=3",  # children listings of several pages
        "-s", "LOG_LEVEL=INFO",
    )  # fmt: skip
    return crawlproc.start(command, hub, tmp_path)


def finish(hub: Any, tmp_path: Path, direction: str) -> dict[str, Any]:
    crawlproc.finish(start_crawl(hub, tmp_path, direction), tmp_path)
    return collected(tmp_path)


def collected(tmp_path: Path) -> dict[str, Any]:
    """Every table's rows, as comparable tuples (crawl times left out)."""
    (folder,) = (tmp_path / "exports" / "lineage").iterdir()
    rows = rows_of(
        folder,
        {
            "lineage": ("child", "parent", "relation", "source", "depth", "direction"),
            "lineage_seeds": ("id",),
            "lineage_children": ("model", "relation", "depth", "children"),
            "models": ("id", "requested_id"),
            "missed": ("kind", "id", "reason"),
        },
    )
    for table, found in rows.items():
        assert len(found) == len(set(found)), f"{table}: a row written twice"
    return {table: set(found) for table, found in rows.items()}


@pytest.fixture(scope="module")
def reference(
    slow_forest: Any, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, dict[str, Any]]:
    """Uninterrupted runs: what every interrupted one must end with."""
    runs = {}
    for direction in SEEDS:
        runs[direction] = finish(
            slow_forest, tmp_path_factory.mktemp(direction), direction
        )
    return runs


@pytest.mark.slow
def test_uninterrupted_run_is_the_forests(
    slow_forest: Any, reference: dict[str, dict[str, Any]]
) -> None:
    forest = slow_forest.forest
    want = expected(forest.up(forest.leaves))
    got = {r[:4]: r[4] for r in reference["up"]["lineage"]}
    assert got == want
    seeds = SEEDS["both"](forest)
    both = reference["both"]["lineage"]
    assert {r[:4]: r[4] for r in both if r[5] == "down"} == expected(forest.down(seeds))
    assert {r[:4]: r[4] for r in both if r[5] == "up"} == expected(forest.up(seeds))


STOPS = {
    "first-edge": ("lineage", 1),
    "mid-crawl": ("lineage", 150),
    "late": ("models", 350),
}


@pytest.mark.slow
@pytest.mark.parametrize(
    ("direction", "point"),
    [("up", p) for p in STOPS],
)
def test_killed_and_resumed_crawl_ends_with_the_same_rows(
    slow_forest: Any,
    reference: dict[str, dict[str, Any]],
    tmp_path: Path,
    direction: str,
    point: str,
) -> None:
    table, rows = STOPS[point]
    proc = start_crawl(slow_forest, tmp_path, direction)
    exports = tmp_path / "exports" / "lineage"
    kill_when(proc, lambda: rows_logged(exports, table) >= rows)
    assert finish(slow_forest, tmp_path, direction) == reference[direction]


@pytest.mark.slow
def test_both_directions_killed_twice_then_resumed(
    slow_forest: Any, reference: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    # mid-way up, then mid-way down (children listings of several pages)
    exports = tmp_path / "exports" / "lineage"
    for table, rows in (("lineage", 40), ("lineage_children", 250)):
        proc = start_crawl(slow_forest, tmp_path, "both")
        kill_when(proc, lambda t=table, n=rows: rows_logged(exports, t) >= n)
    assert finish(slow_forest, tmp_path, "both") == reference["both"]
