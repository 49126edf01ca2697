"""The spaces spider against the fake Hub: every Space once, every dependency
edge once, the Spaces that use a model, targeted ids."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from scrapy.utils.defer import deferred_f_from_coro_f

from hfcrawl.parsers.spaces import decode_space, parse_space
from hfcrawl.spiders.spaces import SpacesSpider
from tests.crawl import crawl

DATA = Path(__file__).resolve().parents[1] / "fakehub" / "data"


def fake_edges(hub: Any) -> set[tuple[str, str, str]]:
    return {
        (r["id"], kind, i)
        for r in hub.spaces.listed
        for kind in ("model", "dataset")
        for i in r[f"{kind}s"]
    }


def test_real_space_records_parse() -> None:
    from datetime import UTC, datetime

    now = datetime(2026, 12, 2, tzinfo=UTC)
    real = json.loads((DATA / "spaces_semantic_search_result.json").read_text())
    for record in real:
        (space,) = parse_space(decode_space(json.dumps(record)), now)
        assert space.id == record["id"]
        assert space.sdk == "gradio"
        assert space.runtime_stage == record["runtime"]["stage"]
        assert space.runtime_hardware == record["runtime"]["hardware"]["current"]
    flux = parse_space(decode_space(json.dumps(real[0])), now)[0]
    assert (flux.id, flux.likes, flux.runtime_hardware) == (
        "ginipick/FLUXllama",
        378,
        "zero-a10g",
    )


@deferred_f_from_coro_f
async def test_every_space_and_every_dependency_once(
    fake_hub: Any, settings: dict[str, Any]
) -> None:
    settings["HFCRAWL_PAGE_SIZE"] = 64
    result = await crawl(SpacesSpider, settings)
    ids = result.table("spaces").column("id").to_pylist()
    assert len(ids) == len(set(ids))
    assert {r["id"] for r in fake_hub.spaces.listed} == set(ids)
    edges = [
        (e["space"], e["repo_type"], e["repo_id"])
        for e in result.table("space_dependencies").to_pylist()
    ]
    assert len(edges) == len(set(edges))
    assert set(edges) == fake_edges(fake_hub)
    assert {kind for _, kind, _ in edges} == {"model", "dataset"}


@deferred_f_from_coro_f
async def test_limit_counts_spaces_not_their_edges(
    fake_hub: Any, settings: dict[str, Any]
) -> None:
    settings["HFCRAWL_PAGE_SIZE"] = 10
    result = await crawl(SpacesSpider, settings, limit="25")
    ids = result.table("spaces").column("id").to_pylist()
    assert len(ids) == 25
    edges = result.table("space_dependencies").to_pylist()
    # each kept Space keeps all its edges, and no edge is of a Space cut off
    assert {e["space"] for e in edges} <= set(ids)
    wanted = {e for e in fake_edges(fake_hub) if e[0] in set(ids)}
    assert {(e["space"], e["repo_type"], e["repo_id"]) for e in edges} == wanted


@deferred_f_from_coro_f
async def test_uses_model_lists_the_spaces_that_use_it(
    fake_hub: Any, settings: dict[str, Any]
) -> None:
    model = next(m for r in fake_hub.spaces.listed for m in r["models"])
    users = {r["id"] for r in fake_hub.spaces.listed if model in r["models"]}
    result = await crawl(SpacesSpider, settings, uses_model=model)
    assert set(result.table("spaces").column("id").to_pylist()) == users


@deferred_f_from_coro_f
async def test_targeted_spaces(fake_hub: Any, settings: dict[str, Any]) -> None:
    private = next(r["id"] for r in fake_hub.spaces.records if r["private"])
    disabled = next(r["id"] for r in fake_hub.spaces.records if r["disabled"])
    ids = f"ginipick/FLUXllama,{private},{disabled}"
    result = await crawl(SpacesSpider, settings, ids=ids)
    assert result.table("spaces").column("id").to_pylist() == ["ginipick/FLUXllama"]
    missed = {m["id"]: m["reason"] for m in result.table("missed").to_pylist()}
    assert missed == {private: "not_found", disabled: "disabled"}
