"""The leaderboard spider end to end: a real Chromium on loopback pages built
from the real rows, and the dataset path against a fake dataset viewer."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from scrapy.settings import Settings
from scrapy.utils.defer import deferred_f_from_coro_f

from hfcrawl.args import ArgumentError
from hfcrawl.browser import chromium_path
from hfcrawl.items import LeaderboardRow, Missed
from hfcrawl.spiders.leaderboard import LeaderboardSpider
from tests.conftest import project_settings
from tests.crawl import CrawlResult, crawl
from tests.leaderboard_site import (
    LMARENA_CSV,
    LeaderboardSite,
    gradio_table,
    react_rows,
    read_csv,
)

CHROMIUM = chromium_path(Settings())
_NO_CHROMIUM = pytest.mark.skipif(
    CHROMIUM is None,
    reason="no Chromium: apt-get install chromium, or set HFCRAWL_CHROMIUM",
)


def browser(test: Any) -> Any:
    return pytest.mark.browser(_NO_CHROMIUM(test))


# what differs by nature between two sources of the same row
_PROVENANCE = ("strategy", "source_url", "raw", "snapshot_at")


@pytest.fixture(scope="module")
def site() -> Iterator[LeaderboardSite]:
    with LeaderboardSite() as s:
        yield s


@pytest.fixture
def lb_settings(site: LeaderboardSite, tmp_path: Path) -> dict[str, Any]:
    # the Hub is somewhere else: nothing here may receive its token
    values = project_settings(SimpleNamespace(url="http://127.0.0.1:9"), tmp_path)
    values.update(
        HFCRAWL_DATASETS_SERVER_ENDPOINT=site.base,
        HFCRAWL_LEADERBOARD_TIMEOUT=30.0,
        HFCRAWL_PROGRESS_INTERVAL=0,
        RETRY_TIMES=0,
    )
    return values


def rows_of(result: CrawlResult) -> list[LeaderboardRow]:
    return result.of(LeaderboardRow)


def comparable(row: LeaderboardRow) -> dict[str, Any]:
    out = {
        name: getattr(row, name)
        for name in row.__dataclass_fields__
        if name not in _PROVENANCE
    }
    out["fields"] = json.loads(out["fields"])
    return out


def by_key(rows: list[LeaderboardRow]) -> dict[str, dict[str, Any]]:
    return {r.row_key: comparable(r) for r in rows}


def assert_once(result: CrawlResult, expected: int) -> list[LeaderboardRow]:
    rows = rows_of(result)
    keys = Counter(r.row_key for r in rows)
    assert len(rows) == expected
    assert max(keys.values()) == 1, keys.most_common(3)
    # the spider itself yielded no row twice (dedup had nothing to drop)
    assert "hfcrawl/duplicates/leaderboard" not in result.stats
    assert result.of(Missed) == []
    return rows


def assert_pages_closed(result: CrawlResult) -> None:
    stats = result.stats
    assert stats["hfcrawl/leaderboard/pages_opened"] == 1
    assert stats["hfcrawl/leaderboard/pages_closed"] == 1


def react_expected() -> dict[tuple[str, str, str], dict[str, Any]]:
    return {
        (r["model_name"], r["model_precision"], r["model_sha"] or ""): r
        for r in react_rows()
    }


@browser
@deferred_f_from_coro_f
async def test_react_board_from_its_one_json_request(
    site: LeaderboardSite, lb_settings: dict[str, Any]
) -> None:
    result = await crawl(
        LeaderboardSpider, lb_settings, board="open_llm", url=site.url("/react/")
    )
    expected = react_expected()
    rows = assert_once(result, len(expected))
    assert {r.strategy for r in rows} == {"json"}
    assert all(r.source_url.endswith("/api/leaderboard/formatted") for r in rows)
    for row in rows:
        src = expected[(row.model_id, row.precision, row.model_sha or "")]
        assert row.model == row.model_id == src["model_name"]
        assert row.average == src["model_average_score"]
        assert row.scores["ifeval"] == src["evaluations_ifeval_normalized_score"]
        assert row.scores["ifeval_raw"] == src["evaluations_ifeval_value"]
        assert row.scores["math_lvl_5_raw"] == src["evaluations_math_value"]
        assert row.hub_likes == src["metadata_hub_hearts"]
        # the API's "is_not_available_on_hub" is true for models that ARE there
        assert row.available_on_hub is src["features_is_not_available_on_hub"]
        assert row.merged is src["features_is_merged"]
    assert_pages_closed(result)
    # the page's font was blocked, and the Hub token went nowhere
    assert result.stats.get("playwright/request_count/aborted", 0) >= 1
    assert not any(
        "authorization" in {k.lower() for k in h} for _, _, h in site.requests
    )
    assert result.table("leaderboard").num_rows == len(expected)


@browser
@deferred_f_from_coro_f
async def test_gradio_config_board_and_its_scrolled_table_agree(
    site: LeaderboardSite, lb_settings: dict[str, Any], tmp_path: Path
) -> None:
    headers, data = gradio_table()
    cells = [dict(zip(headers, row, strict=True)) for row in data]
    source = {(c["fullname"], c["Precision"], c["Model sha"]): c for c in cells}
    url = site.url("/gradio/")
    config = await crawl(LeaderboardSpider, lb_settings, board="open_llm", url=url)
    rows = assert_once(config, len(data))
    assert {r.strategy for r in rows} == {"gradio_config"}
    for row in rows:
        src = source[(row.model_id, row.precision, row.model_sha)]
        assert row.model == src["fullname"]
        assert row.average == src["Average ⬆️"]
        assert row.scores["mmlu_pro"] == src["MMLU-PRO"]
        assert row.scores["gpqa_raw"] == src["GPQA Raw"]
        assert row.params_b == src["#Params (B)"]
        # the table's Flagged is true for every row: it means "not flagged"
        assert row.flagged is (not src["Flagged"])
        assert row.merged is (not src["Not_Merged"])
    assert_pages_closed(config)

    lb_settings["HFCRAWL_EXPORT_DIR"] = str(tmp_path / "dom")
    dom = await crawl(
        LeaderboardSpider, lb_settings, board="open_llm", url=url, strategy="dom"
    )
    dom_rows = assert_once(dom, len(data))
    assert {r.strategy for r in dom_rows} == {"dom"}
    assert by_key(dom_rows) == by_key(rows)
    assert_pages_closed(dom)


@browser
@deferred_f_from_coro_f
async def test_gradio_board_whose_data_comes_from_the_app_endpoint(
    site: LeaderboardSite, lb_settings: dict[str, Any], tmp_path: Path
) -> None:
    headers, data = read_csv(LMARENA_CSV)
    url = site.url("/lmarena/")
    result = await crawl(LeaderboardSpider, lb_settings, board="lmarena", url=url)
    rows = assert_once(result, len(data))
    assert {r.strategy for r in rows} == {"gradio_api"}
    models = {r.model: r for r in rows}
    for src in (dict(zip(headers, d, strict=True)) for d in data):
        link_text = src["Model"].split(">", 1)[1].split("<", 1)[0]
        row = models[link_text]
        assert row.scores == {"arena_score": src["Arena Score"]}
        assert json.loads(row.fields)["rank_ub"] == src["Rank* (UB)"]
        href = src["Model"].split('href="', 1)[1].split('"', 1)[0]
        on_hub = href.startswith("https://huggingface.co/")
        assert (row.model_id is not None) is on_hub
        if on_hub:
            assert href.endswith("/" + row.model_id)
    calls = [p for m, p, _ in site.requests if m == "POST"]
    assert calls
    assert all(p.endswith("/update_leaderboard_and_plots") for p in calls)
    assert_pages_closed(result)

    lb_settings["HFCRAWL_EXPORT_DIR"] = str(tmp_path / "dom")
    dom = await crawl(
        LeaderboardSpider, lb_settings, board="lmarena", url=url, strategy="dom"
    )
    assert by_key(assert_once(dom, len(data))) == by_key(rows)


@browser
@deferred_f_from_coro_f
async def test_a_page_that_never_renders_is_a_missed_row_within_the_timeout(
    site: LeaderboardSite, lb_settings: dict[str, Any]
) -> None:
    lb_settings["HFCRAWL_LEADERBOARD_TIMEOUT"] = 2.0
    result = await crawl(LeaderboardSpider, lb_settings, url=site.url("/never/"))
    assert rows_of(result) == []
    (missed,) = result.of(Missed)
    assert missed.kind == "leaderboard"
    assert missed.id == "127.0.0.1:" + site.base.rsplit(":", 1)[1]
    assert "nothing rendered within 2 s" in missed.detail
    assert "did not render within 2 s" in missed.detail
    assert_pages_closed(result)
    assert result.stats["finish_reason"] == "finished"
    elapsed = (result.stats["finish_time"] - result.stats["start_time"]).total_seconds()
    # the wait is the configured one, not Playwright's 30 s default
    assert elapsed < 30


@deferred_f_from_coro_f
async def test_dataset_path_gives_the_browser_rows_field_for_field(
    site: LeaderboardSite, lb_settings: dict[str, Any], tmp_path: Path
) -> None:
    result = await crawl(
        LeaderboardSpider, lb_settings, board="open_llm", source="dataset"
    )
    expected = react_expected()
    rows = assert_once(result, len(expected))
    assert {r.strategy for r in rows} == {"dataset"}
    pages = [p for _, p, _ in site.requests if p.startswith("/rows?")]
    offsets = sorted(int(p.split("offset=")[1].split("&")[0]) for p in pages)
    assert offsets == list(range(0, len(expected), 100))
    assert all("length=100" in p for p in pages)
    for row in rows:
        src = expected[(row.model_id, row.precision, row.model_sha or "")]
        assert row.scores["bbh"] == src["evaluations_bbh_normalized_score"]
        assert row.available_on_hub is src["features_is_not_available_on_hub"]
    if CHROMIUM is None:
        pytest.skip("no Chromium for the browser half of the comparison")
    lb_settings["HFCRAWL_EXPORT_DIR"] = str(tmp_path / "browser")
    browser_rows = rows_of(
        await crawl(
            LeaderboardSpider, lb_settings, board="open_llm", url=site.url("/react/")
        )
    )
    assert by_key(rows) == by_key(browser_rows)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({}, "board: give board="),
        ({"board": "nope"}, "board: expected one of open_llm"),
        ({"board": "lmarena", "source": "dataset"}, "source: lmarena has no known"),
        ({"board": "open_llm", "strategy": "xpath"}, "strategy: expected one of"),
        ({"url": "not a url"}, "url: not a URL"),
        ({"board": "open_llm", "limit": "3"}, "limit: unknown argument"),
    ],
)
def test_bad_arguments_stop_with_one_line(
    arguments: dict[str, str], message: str
) -> None:
    with pytest.raises(ArgumentError, match="^" + message.replace("(", r"\(")):
        LeaderboardSpider(**arguments)


def test_space_page_url_becomes_its_app_host() -> None:
    spider = LeaderboardSpider(
        url="https://huggingface.co/spaces/open-llm-leaderboard/open_llm_leaderboard"
    )
    preset = spider.options.preset
    assert preset.url == "https://open-llm-leaderboard-open-llm-leaderboard.hf.space/"
    assert preset.name == "open_llm"  # the known board on that host
