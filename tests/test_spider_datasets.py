"""The datasets spider (a declaration on the listing base) against the fake Hub,
and what the base gives every spider: from_run, retry_missed, the row registry."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from scrapy.utils.defer import deferred_f_from_coro_f

from fakehub import FaultRates
from hfcrawl.args import ArgumentError
from hfcrawl.items import ROW_CLASSES, check_row_class
from hfcrawl.spiders.datasets import DatasetsSpider
from hfcrawl.spiders.models import ModelsSpider
from tests.conftest import HubStarter, project_settings
from tests.crawl import crawl

ROOT = Path(__file__).resolve().parents[1]


def public_datasets(hub: Any) -> set[str]:
    return {r["id"] for r in hub.datasets.records if not r["private"]}


def listing_pages(hub: Any) -> list[str]:
    return [p for _, p, _ in hub.requests if p.startswith("/api/datasets?")]


@deferred_f_from_coro_f
async def test_listing_every_dataset_once_with_typed_derived_fields(
    fake_hub: Any, settings: dict[str, Any]
) -> None:
    fake_hub.clear_log()
    settings["HFCRAWL_PAGE_SIZE"] = 70
    result = await crawl(DatasetsSpider, settings)
    table = result.table("datasets")
    ids = table.column("id").to_pylist()
    assert len(ids) == len(set(ids))
    assert set(ids) == public_datasets(fake_hub)
    pages = listing_pages(fake_hub)
    assert len(pages) == -(-len(ids) // 70)  # the last page has no next link
    assert all("cursor=" in p for p in pages[1:])
    # every expand value the fake Hub accepts (an unknown one would be a 400)
    assert "expand%5B%5D=mainSize" in pages[0]
    assert table.schema.field("last_modified").type == pa.timestamp("us", tz="UTC")
    assert table.schema.field("main_size").type == pa.int64()
    duorc = next(r for r in table.to_pylist() if r["id"] == "ibm/duorc")
    assert duorc["license"] == "mit"
    assert duorc["languages"] == ["en"]
    assert duorc["task_categories"] == ["question-answering", "text2text-generation"]
    assert duorc["size_categories"] == ["100K<n<1M", "10K<n<100K"]
    assert duorc["arxiv_ids"] == ["1804.07927"]
    assert result.table("missed") is None


@deferred_f_from_coro_f
async def test_limit_and_since_trim_the_listing(
    fake_hub: Any, settings: dict[str, Any]
) -> None:
    settings["HFCRAWL_PAGE_SIZE"] = 40
    limited = await crawl(DatasetsSpider, settings, limit="95")
    assert limited.table("datasets").num_rows == 95
    settings["HFCRAWL_EXPORT_DIR"] += "-since"
    recent = await crawl(DatasetsSpider, settings, since="2025-11-01")
    dates = recent.table("datasets").column("last_modified").to_pylist()
    expected = [r for r in fake_hub.datasets.listed if r["lastModified"] > "2025-11-01"]
    assert len(dates) == len(expected) > 0
    assert min(dates).isoformat() > "2025-11-01"


@deferred_f_from_coro_f
async def test_targeted_ids_answers_and_misses(
    fake_hub: Any, settings: dict[str, Any]
) -> None:
    ids = [
        "ibm/duorc",
        f"{fake_hub.url}/datasets/Bryceee/MM-Oral",  # a URL, on this Hub
        "org6/dataset-00006",  # gated: its metadata is public
        "org7/dataset-00007",  # disabled
        "nobody/missing",
        "not a dataset id!",
    ]
    result = await crawl(DatasetsSpider, settings, ids=",".join(ids))
    got = result.table("datasets").to_pylist()
    assert sorted(r["id"] for r in got) == [
        "Bryceee/MM-Oral",
        "ibm/duorc",
        "org6/dataset-00006",
    ]
    assert next(r for r in got if r["id"] == "org6/dataset-00006")["gated"] == "manual"
    missed = {m["id"]: m["reason"] for m in result.table("missed").to_pylist()}
    assert missed == {
        "org7/dataset-00007": "disabled",
        "nobody/missing": "not_found",
        "not a dataset id!": "invalid",
    }


@deferred_f_from_coro_f
async def test_from_run_fetches_the_ids_of_an_earlier_run(
    fake_hub: Any, settings: dict[str, Any]
) -> None:
    first = await crawl(DatasetsSpider, settings, limit="30")
    settings["HFCRAWL_EXPORT_DIR"] += "-again"
    fake_hub.clear_log()
    again = await crawl(DatasetsSpider, settings, from_run=str(first.run_dir))
    fetched = again.table("datasets").column("id").to_pylist()
    missed = {m["id"]: m["reason"] for m in again.table("missed").to_pylist()}
    # the listing shows a disabled dataset; asked for by id, it answers 403
    assert missed == {"org7/dataset-00007": "disabled"}
    assert sorted([*fetched, *missed]) == sorted(
        first.table("datasets").column("id").to_pylist()
    )
    assert listing_pages(fake_hub) == []  # by id, not by listing again
    assert again.table("datasets").column("requested_id").null_count == 0


@deferred_f_from_coro_f
async def test_retry_missed_retries_only_the_error_rows(
    start_hub: HubStarter, tmp_path: Path
) -> None:
    # every record request fails 3 times; with 2 retries each id is an error
    # the first time, and answers when it is asked again
    rates = FaultRates(rate_5xx=1.0, max_failures_per_request=3, seed=2)
    hub = start_hub(n_models=20, n_datasets=20, faults=rates)
    settings = project_settings(hub, tmp_path)
    settings.update(
        RETRY_TIMES=2,
        HFCRAWL_RETRY_BACKOFF_BASE=0.01,
        HFCRAWL_RETRY_BACKOFF_MAX=0.01,
        JOBDIR=str(tmp_path / "job"),
    )
    ids = "ibm/duorc,org3/dataset-00003,nobody/missing"
    first = await crawl(DatasetsSpider, settings, ids=ids)
    reasons = sorted(m["reason"] for m in first.table("missed").to_pylist())
    assert reasons == ["error", "error", "error"]
    # a plain rerun keeps the answers it has: nothing is asked again
    plain = await crawl(DatasetsSpider, settings, ids=ids)
    assert plain.stats.get("downloader/request_count", 0) == 0
    retried = await crawl(DatasetsSpider, settings, ids=ids, retry_missed="true")
    assert retried.stats["hfcrawl/retried_missed"] == 3
    assert retried.run_dir == first.run_dir
    assert sorted(retried.table("datasets").column("id").to_pylist()) == [
        "ibm/duorc",
        "org3/dataset-00003",
    ]
    missed = retried.table("missed").to_pylist()
    assert [(m["id"], m["reason"]) for m in missed] == [("nobody/missing", "not_found")]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"ids": " , ,"}, "ids: no ids given"),
        ({"from_run": "/nonexistent/run"}, "from_run: no such run folder"),
        ({"ids": "a/b", "search": "x"}, "search: only applies to the listing"),
        ({"retry_missed": "maybe"}, "retry_missed: expected true or false"),
        ({"pipeline_tag": "x"}, "pipeline_tag: unknown argument"),
    ],
)
def test_bad_arguments_are_one_line_errors(
    arguments: dict[str, str], message: str
) -> None:
    with pytest.raises(ArgumentError, match=message):
        DatasetsSpider.parse_arguments(arguments)


def test_from_run_must_be_a_run_folder(tmp_path: Path) -> None:
    with pytest.raises(ArgumentError, match="not a run folder"):
        ModelsSpider.parse_arguments({"from_run": str(tmp_path)})


def test_every_row_class_is_registered_and_an_unknown_one_is_refused() -> None:
    assert {"models", "model_details", "datasets", "missed", "leaderboard"} <= set(
        ROW_CLASSES
    )
    for table, cls in ROW_CLASSES.items():
        assert cls.table == table
        assert check_row_class(cls) is cls

    class Stray:
        table = "stray"
        key = ("id",)

    with pytest.raises(TypeError, match="not a registered row class"):
        check_row_class(Stray)


def test_a_spider_on_the_base_is_a_short_declaration() -> None:
    source = (ROOT / "hfcrawl" / "spiders" / "datasets.py").read_text()
    code = [
        line
        for line in source.splitlines()
        if line.strip() and not line.strip().startswith(("#", '"""'))
    ]
    assert len(code) < 60
