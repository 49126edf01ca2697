"""Exact resume for cards: a ``scrapy crawl cards -s JOBDIR=...`` killed with SIGKILL
at any point, then run again until it finishes, ends with exactly the rows of an
uninterrupted run: every card, eval result and Missed row once.

Both selections: listed (the listing's checkpoint, plus the cards of the models
rows earlier sessions wrote) and targeted (``ids_file``: the ids not answered).
Real subprocesses, as in tests/test_resume.py.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests import crawlproc
from tests.crawlproc import kill_when, rows_logged, rows_of, scrapy_crawl

MODELS = 300

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def slow_hub() -> Iterator[Any]:
    """300 models whose answers each take a few milliseconds, so that a crawl
    lasts long enough to be killed where a test wants."""
    from fakehub import FakeHub, Latency

    with FakeHub(n_models=MODELS, n_datasets=0, latency=Latency(0.004, 0.02)) as hub:
        yield hub


@pytest.fixture(scope="module")
def ids_file(slow_hub: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ids") / "ids.txt"
    listed = [r["id"] for r in slow_hub.records if not r.get("private")]
    path.write_text("\n".join(["someone/missing-model", *listed]) + "\n")
    return path


def command(tmp_path: Path, selection: list[str]) -> list[str]:
    return [
        *scrapy_crawl("cards", *selection),
        "-s", f"JOBDIR={tmp_path / 'job'}",
        "-s", f"HFCRAWL_EXPORT_DIR={tmp_path / 'exports'}",
        "-s", "HFCRAWL_PAGE_SIZE=100",
        "-s", "HFCRAWL_PART_ROWS=80",
        "-s", "HFCRAWL_ROW_GROUP_ROWS=50",
        "-s", "LOG_LEVEL=INFO",
    ]  # fmt: skip


def start(hub: Any, tmp_path: Path, selection: list[str]) -> subprocess.Popen[bytes]:
    return crawlproc.start(command(tmp_path, selection), hub, tmp_path)


def cards_logged(tmp_path: Path) -> int:
    return rows_logged(tmp_path / "exports" / "cards", "cards")


def parts_done(tmp_path: Path) -> int:
    return len(list((tmp_path / "exports" / "cards").glob("*/cards/part-*.parquet")))


def finish(hub: Any, tmp_path: Path, selection: list[str]) -> None:
    crawlproc.finish(start(hub, tmp_path, selection), tmp_path)


def collected(tmp_path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row's identity, per table (duplicates kept, to be caught)."""
    (folder,) = (tmp_path / "exports" / "cards").iterdir()  # one run folder
    return rows_of(
        folder,
        {
            "cards": ("id", "revision", "etag", "text_length", "yaml_parsed"),
            "eval_results": (
                "model_id",
                "result_index",
                "metric_index",
                "metric_value",
            ),
            "missed": ("kind", "id", "reason"),
            "models": ("id", "sha"),
        },
    )


SELECTIONS = {"listed": [], "ids": ["-a", "ids_file={ids_file}"]}


def selection_args(mode: str, ids_file: Path) -> list[str]:
    return [a.format(ids_file=ids_file) for a in SELECTIONS[mode]]


@pytest.fixture(scope="module")
def reference(
    slow_hub: Any, ids_file: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, dict[str, list[tuple[Any, ...]]]]:
    """What an uninterrupted crawl collects, per selection."""
    found = {}
    for mode in SELECTIONS:
        tmp = tmp_path_factory.mktemp(f"reference-{mode}")
        finish(slow_hub, tmp, selection_args(mode, ids_file))
        found[mode] = collected(tmp)
    return found


def test_the_reference_runs_answer_every_model_once(
    slow_hub: Any, reference: dict[str, Any]
) -> None:
    listed = {r["id"] for r in slow_hub.records if not r.get("private")}
    for mode, rows in reference.items():
        cards = [r[0] for r in rows["cards"]]
        card_missed = [r[1] for r in rows["missed"] if r[0] == "card"]
        assert len(cards) + len(card_missed) == len({*cards, *card_missed})
        assert {*cards, *card_missed} - {"someone/missing-model"} == listed, mode
        assert rows["eval_results"], mode
        assert any(r[2] == "invalid_model_index" for r in rows["missed"]), mode
    assert reference["listed"]["cards"] == reference["ids"]["cards"]
    assert reference["listed"]["eval_results"] == reference["ids"]["eval_results"]


STOPS = {
    "early": lambda t: cards_logged(t) >= 1,
    "mid": lambda t: cards_logged(t) >= 131,
    "between-parts": lambda t: parts_done(t) >= 2,
    "near-the-end": lambda t: cards_logged(t) >= MODELS - 30,
}


@pytest.mark.parametrize(
    ("mode", "point"),
    [
        ("listed", "early"),
        ("listed", "mid"),
        ("listed", "near-the-end"),
        ("ids", "mid"),
        ("ids", "between-parts"),
    ],
)
def test_killed_and_resumed_crawl_has_exactly_the_reference_rows(
    slow_hub: Any,
    ids_file: Path,
    reference: dict[str, Any],
    tmp_path: Path,
    mode: str,
    point: str,
) -> None:
    selection = selection_args(mode, ids_file)
    kill_when(start(slow_hub, tmp_path, selection), lambda: STOPS[point](tmp_path))
    finish(slow_hub, tmp_path, selection)
    assert collected(tmp_path) == reference[mode]


def test_killed_twice_then_resumed(
    slow_hub: Any, ids_file: Path, reference: dict[str, Any], tmp_path: Path
) -> None:
    for threshold in (60, 200):
        proc = start(slow_hub, tmp_path, [])
        kill_when(proc, lambda n=threshold: cards_logged(tmp_path) >= n)
    finish(slow_hub, tmp_path, [])
    assert collected(tmp_path) == reference["listed"]
