"""Exact resume for ``datasets -a croissant=true``: a crawl killed with SIGKILL, then
run again until it finishes, ends with exactly the rows of an uninterrupted run:
every dataset, Croissant row and Missed row once.

Listed (the listing's checkpoint, then the Croissant of the datasets rows earlier
sessions wrote and never got an answer for) and targeted (``ids_file``). Real
``scrapy crawl`` subprocesses, as in tests/test_resume.py.
"""

from __future__ import annotations

import hashlib
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests import crawlproc
from tests.crawlproc import kill_when, rows_logged, rows_of, scrapy_crawl

DATASETS = 300

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def slow_hub() -> Iterator[Any]:
    """300 datasets whose answers each take a few milliseconds, so that a crawl
    lasts long enough to be killed where a test wants."""
    from fakehub import FakeHub, Latency

    with FakeHub(n_models=10, n_datasets=DATASETS, latency=Latency(0.004, 0.02)) as hub:
        yield hub


@pytest.fixture(scope="module")
def ids_file(slow_hub: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ids") / "ids.txt"
    listed = [r["id"] for r in slow_hub.datasets.listed]
    path.write_text("\n".join(["someone/missing-dataset", *listed]) + "\n")
    return path


def command(tmp_path: Path, selection: list[str]) -> list[str]:
    return [
        *scrapy_crawl("datasets"),
        "-a", "croissant=true", *selection,
        "-s", f"JOBDIR={tmp_path / 'job'}",
        "-s", f"HFCRAWL_EXPORT_DIR={tmp_path / 'exports'}",
        "-s", "HFCRAWL_PAGE_SIZE=50",
        "-s", "HFCRAWL_PART_ROWS=40",
        "-s", "HFCRAWL_ROW_GROUP_ROWS=20",
        "-s", "LOG_LEVEL=INFO",
    ]  # fmt: skip


def start(hub: Any, tmp_path: Path, selection: list[str]) -> subprocess.Popen[bytes]:
    return crawlproc.start(command(tmp_path, selection), hub, tmp_path)


def croissant_logged(tmp_path: Path) -> int:
    return rows_logged(tmp_path / "exports" / "datasets", "croissant")


def finish(hub: Any, tmp_path: Path, selection: list[str]) -> None:
    crawlproc.finish(start(hub, tmp_path, selection), tmp_path)


def collected(tmp_path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row's identity, per table (duplicates kept, to be caught)."""
    (folder,) = (tmp_path / "exports" / "datasets").iterdir()  # one run folder
    out = rows_of(
        folder,
        {
            "datasets": ("id", "sha"),
            "croissant": ("id", "jsonld", "record_sets"),
            "missed": ("kind", "id", "reason"),
        },
    )
    # the body's digest stands for it
    out["croissant"] = sorted(
        (
            (i, hashlib.sha256(j.encode()).hexdigest(), tuple(r))
            for i, j, r in out["croissant"]
        ),
        key=repr,
    )
    return out


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


def test_the_reference_runs_answer_every_dataset_once(
    slow_hub: Any, reference: dict[str, Any]
) -> None:
    listed = {r["id"] for r in slow_hub.datasets.listed}
    for mode, rows in reference.items():
        croissant = [r[0] for r in rows["croissant"]]
        missed = [r[1] for r in rows["missed"] if r[0] == "croissant"]
        answered = croissant + missed
        assert len(answered) == len(set(answered)), mode
        # the listing shows a disabled dataset that asked for by id answers 403:
        # it has a croissant Missed row in one mode and a dataset one in the other
        datasets = {r[0] for r in rows["datasets"]}
        assert set(answered) == datasets, mode
        assert datasets <= listed, mode
        assert len(croissant) > DATASETS // 2, mode
        assert any(r[2] == "no_croissant" for r in rows["missed"]), mode
    listed_rows, ids_rows = reference["listed"], reference["ids"]
    assert listed_rows["croissant"] == ids_rows["croissant"]


STOPS = {
    "early": lambda t: croissant_logged(t) >= 1,
    "mid": lambda t: croissant_logged(t) >= 117,
    "near-the-end": lambda t: croissant_logged(t) >= 210,
}


@pytest.mark.parametrize(
    ("mode", "point"),
    [
        ("listed", "early"),
        ("listed", "mid"),
        ("listed", "near-the-end"),
        ("ids", "mid"),
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
    for threshold in (40, 150):
        proc = start(slow_hub, tmp_path, [])
        kill_when(proc, lambda n=threshold: croissant_logged(tmp_path) >= n)
    finish(slow_hub, tmp_path, [])
    assert collected(tmp_path) == reference["listed"]
