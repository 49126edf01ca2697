"""``datasets -a croissant=true`` against the fake Hub: one ``croissant`` row or one
``Missed`` row (kind ``croissant``) per dataset, and the fake Hub's Croissant
answers themselves (fakehub/datasets.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import requests
from scrapy.utils.defer import deferred_f_from_coro_f

from fakehub import FakeHub
from fakehub.datasets import CROISSANT_FILES, NO_CROISSANT, has_croissant
from fakehub.exchange import Faults, HubRequest, HubResponse
from hfcrawl.args import ArgumentError
from hfcrawl.parsers.croissant import parse_croissant
from hfcrawl.spiders.datasets import DatasetsSpider
from tests.conftest import HubStarter, project_settings
from tests.crawl import crawl

DATA = Path(__file__).resolve().parents[1] / "fakehub" / "data"


def croissant_paths(hub: Any) -> list[str]:
    return [p for _, p, _ in hub.requests if p.endswith("/croissant")]


def expected_reasons(hub: Any) -> dict[str, str | None]:
    """Per listed dataset: None for a Croissant body, else the Missed reason."""
    out: dict[str, str | None] = {}
    for i, r in enumerate(hub.datasets.records):
        if r["private"]:
            continue
        if r["disabled"]:
            out[r["id"]] = "disabled"
        elif r["gated"]:
            out[r["id"]] = "gated"
        else:
            out[r["id"]] = None if has_croissant(i) else "no_croissant"
    return out


# --- the fake Hub --------------------------------------------------------------


def test_the_fake_hub_serves_the_real_bodies_and_derives_the_others(
    fake_hub: Any,
) -> None:
    with requests.Session() as http:
        for name, repo_id in CROISSANT_FILES.items():
            r = http.get(f"{fake_hub.url}/api/datasets/{repo_id}/croissant", timeout=30)
            assert r.status_code == 200
            assert r.content == (DATA / name).read_bytes().rstrip()
        # even positions take duorc's shape, odd ones MM-Oral's
        for index, shape in ((2, "ibm/duorc"), (11, "Bryceee/MM-Oral")):
            repo_id = fake_hub.datasets.records[index]["id"]
            r = http.get(f"{fake_hub.url}/api/datasets/{repo_id}/croissant", timeout=30)
            assert r.status_code == 200
            doc = r.json()
            assert doc["url"] == f"https://huggingface.co/datasets/{repo_id}"
            assert shape not in r.text
            template = json.loads((DATA / _file_of(shape)).read_bytes())
            assert len(doc["recordSet"]) == len(template["recordSet"])
            assert doc["conformsTo"] == "http://mlcommons.org/croissant/1.1"


def _file_of(repo_id: str) -> str:
    return next(name for name, i in CROISSANT_FILES.items() if i == repo_id)


def test_the_fake_hub_answers_without_croissant_as_the_hub_does(
    fake_hub: Any,
) -> None:
    records = fake_hub.datasets.records
    none = next(r["id"] for i, r in enumerate(records) if not has_croissant(i))
    url = f"{fake_hub.url}/api/datasets/{{}}/croissant"
    with requests.Session() as http:
        r = http.get(url.format(none), timeout=30)
        assert (r.status_code, r.json()) == (400, {"error": NO_CROISSANT})
        gated = next(r["id"] for r in records if r["gated"])
        anonymous = http.get(url.format(gated), timeout=30)
        assert anonymous.status_code == 401
        assert anonymous.headers["X-Error-Code"] == "GatedRepo"
        with_token = http.get(
            url.format(gated), headers={"Authorization": "Bearer hf_x"}, timeout=30
        )
        assert with_token.status_code == 403
        private = next(r["id"] for r in records if r["private"])
        assert http.get(url.format(private), timeout=30).status_code == 401
        assert http.get(url.format("nobody/missing"), timeout=30).status_code == 401


# --- the spider ----------------------------------------------------------------


@deferred_f_from_coro_f
async def test_listing_gives_every_dataset_one_croissant_answer(
    fake_hub: Any, settings: dict[str, Any]
) -> None:
    fake_hub.clear_log()
    settings["HFCRAWL_PAGE_SIZE"] = 70
    result = await crawl(DatasetsSpider, settings, croissant="true")
    rows = result.table("croissant").to_pylist()
    missed = result.table("missed").to_pylist()
    assert {m["kind"] for m in missed} == {"croissant"}
    answered = [r["id"] for r in rows] + [m["id"] for m in missed]
    assert len(answered) == len(set(answered))  # exactly one answer each
    expected = expected_reasons(fake_hub)
    assert set(answered) == set(result.table("datasets").column("id").to_pylist())
    assert {r["id"]: None for r in rows} | {
        m["id"]: m["reason"] for m in missed
    } == expected
    assert set(expected.values()) == {None, "no_croissant", "gated", "disabled"}
    assert len(croissant_paths(fake_hub)) == len(expected)  # no request twice
    duorc = next(r for r in rows if r["id"] == "ibm/duorc")
    body = (DATA / _file_of("ibm/duorc")).read_bytes().rstrip()
    want = parse_croissant(body, "ibm/duorc", duorc["crawled_at"])
    assert duorc["jsonld"] == want.jsonld
    assert duorc["record_sets"] == want.record_sets == ["ParaphraseRC", "SelfRC"]
    assert [f["name"] for f in duorc["fields"]] == [f.name for f in want.fields]
    no = next(m for m in missed if m["reason"] == "no_croissant")
    assert no["status"] == 400
    assert NO_CROISSANT in no["detail"]
    assert result.stats["hfcrawl/exit_code"] == 0  # answers, not failures


@deferred_f_from_coro_f
async def test_without_the_argument_no_croissant_is_asked_for(
    fake_hub: Any, settings: dict[str, Any]
) -> None:
    fake_hub.clear_log()
    result = await crawl(DatasetsSpider, settings, limit="20")
    assert result.table("datasets").num_rows == 20
    assert result.table("croissant") is None
    assert croissant_paths(fake_hub) == []


@deferred_f_from_coro_f
async def test_targeted_ids_ask_for_the_croissant_of_the_datasets_found(
    fake_hub: Any, settings: dict[str, Any]
) -> None:
    fake_hub.clear_log()
    ids = "ibm/duorc,Bryceee/MM-Oral,org3/dataset-00003,nobody/missing"
    result = await crawl(DatasetsSpider, settings, ids=ids, croissant="true")
    rows = {r["id"]: r for r in result.table("croissant").to_pylist()}
    assert sorted(rows) == ["Bryceee/MM-Oral", "ibm/duorc"]
    assert rows["Bryceee/MM-Oral"]["record_sets"] == []
    assert rows["Bryceee/MM-Oral"]["conforms_to"] == (
        "http://mlcommons.org/croissant/1.1"
    )
    missed = {
        (m["kind"], m["id"]): m["reason"] for m in result.table("missed").to_pylist()
    }
    assert missed == {
        ("croissant", "org3/dataset-00003"): "no_croissant",
        ("dataset", "nobody/missing"): "not_found",
    }
    # a dataset that is not there has no Croissant to ask for
    assert len(croissant_paths(fake_hub)) == 3


class SpoiledCroissant(Faults):
    """Every Croissant body cut short, ``times`` times per dataset."""

    def __init__(self, times: int) -> None:
        self.times = times
        self.spoiled: dict[str, int] = {}

    def after(
        self, hub: FakeHub, request: HubRequest, response: HubResponse
    ) -> HubResponse:
        path = request.path
        done = self.spoiled.get(path, 0)
        if path.endswith("/croissant") and response.status == 200 and done < self.times:
            self.spoiled[path] = done + 1
            response.body = response.body[: len(response.body) // 2]
        return response


@pytest.mark.parametrize("times", [1, 5])
@deferred_f_from_coro_f
async def test_an_undecodable_body_is_retried_then_missed_as_an_error(
    start_hub: HubStarter, tmp_path: Path, times: int
) -> None:
    spoiler = SpoiledCroissant(times)
    hub = start_hub(n_models=10, n_datasets=12, faults=spoiler)
    settings = project_settings(hub, tmp_path)
    settings.update(
        RETRY_TIMES=2,
        HFCRAWL_RETRY_BACKOFF_BASE=0.01,
        HFCRAWL_RETRY_BACKOFF_MAX=0.01,
    )
    result = await crawl(DatasetsSpider, settings, croissant="true")
    with_body = {i for i, reason in expected_reasons(hub).items() if reason is None}
    assert len(with_body) > 5
    missed = result.table("missed").to_pylist()
    errors = {m["id"] for m in missed if m["reason"] == "error"}
    table = result.table("croissant")
    rows = set(table.column("id").to_pylist()) if table is not None else set()
    if times == 1:  # the retry gets the whole body
        assert rows == with_body
        assert errors == set()
    else:  # 1 + 2 retries, all cut short
        assert rows == set()
        assert errors == with_body
        error = next(m for m in missed if m["reason"] == "error")
        assert error["kind"] == "croissant"
        assert error["attempts"] == 3
        assert "undecodable body" in error["detail"]
        assert result.stats["hfcrawl/exit_code"] == 4


def test_croissant_is_a_boolean_argument() -> None:
    assert DatasetsSpider.parse_arguments({"croissant": "true"}).croissant is True
    assert DatasetsSpider.parse_arguments({"ids": "a/b"}).croissant is False
    with pytest.raises(ArgumentError, match="croissant: expected true or false"):
        DatasetsSpider.parse_arguments({"croissant": "maybe"})


@deferred_f_from_coro_f
async def test_retry_missed_asks_again_for_the_croissant_that_failed(
    start_hub: HubStarter, tmp_path: Path
) -> None:
    # three spoiled answers per dataset: the first run's 1 + 2 retries
    hub = start_hub(n_models=10, n_datasets=12, faults=SpoiledCroissant(3))
    settings = project_settings(hub, tmp_path)
    settings.update(
        RETRY_TIMES=2,
        HFCRAWL_RETRY_BACKOFF_BASE=0.01,
        HFCRAWL_RETRY_BACKOFF_MAX=0.01,
        JOBDIR=str(tmp_path / "job"),
    )
    first = await crawl(DatasetsSpider, settings, croissant="true")
    with_body = {i for i, reason in expected_reasons(hub).items() if reason is None}
    failed = {
        m["id"] for m in first.table("missed").to_pylist() if m["reason"] == "error"
    }
    assert failed == with_body
    hub.clear_log()
    again = await crawl(DatasetsSpider, settings, croissant="true", retry_missed="true")
    assert again.run_dir == first.run_dir
    # the failed ones only: the other answers (no_croissant, gated...) stay
    assert sorted(croissant_paths(hub)) == sorted(
        f"/api/datasets/{i}/croissant" for i in with_body
    )
    assert set(again.table("croissant").column("id").to_pylist()) == with_body
    reasons = {m["reason"] for m in again.table("missed").to_pylist()}
    assert reasons == {"no_croissant", "gated", "disabled"}
    assert again.stats["hfcrawl/exit_code"] == 0
