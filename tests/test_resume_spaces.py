"""Exact resume for spaces: ``scrapy crawl spaces -s JOBDIR=...`` killed with
SIGKILL (mid-listing, between parts; mid-way through targeted ids), then run
again until it finishes, ends with exactly the rows of an uninterrupted run:
every Space, dependency edge and Missed row once. Real subprocesses, as in
tests/test_resume.py."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests import crawlproc
from tests.crawlproc import kill_when, rows_logged, rows_of, scrapy_crawl

SPACES = 1500

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def slow_hub() -> Iterator[Any]:
    from fakehub import FakeHub, Latency

    with FakeHub(
        n_models=200, n_datasets=50, n_spaces=SPACES, latency=Latency(0.01, 0.04)
    ) as hub:
        yield hub


@pytest.fixture(scope="module")
def ids_file(slow_hub: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ids") / "ids.txt"
    ids = [r["id"] for r in slow_hub.spaces.records[:400]]  # private and disabled too
    path.write_text("\n".join(["someone/missing-space", "not a space!", *ids]) + "\n")
    return path


SELECTIONS = {"listed": [], "ids": ["-a", "ids_file={ids_file}"]}


def start(hub: Any, tmp_path: Path, mode: str, ids: Path) -> subprocess.Popen[bytes]:
    command = scrapy_crawl(
        "spaces",
        *(a.format(ids_file=ids) for a in SELECTIONS[mode]),
        "-s", f"JOBDIR={tmp_path / 'job'}",
        "-s", f"HFCRAWL_EXPORT_DIR={tmp_path / 'exports'}",
        "-s", "HFCRAWL_PAGE_SIZE=50",
        "-s", "HFCRAWL_PART_ROWS=300",
        "-s", "HFCRAWL_ROW_GROUP_ROWS=100",
        "-s", "LOG_LEVEL=INFO",
    )  # fmt: skip
    return crawlproc.start(command, hub, tmp_path)


def spaces_logged(tmp_path: Path) -> int:
    return rows_logged(tmp_path / "exports" / "spaces", "spaces")


def parts_done(tmp_path: Path) -> int:
    return len(list((tmp_path / "exports" / "spaces").glob("*/spaces/part-*.parquet")))


def finish(hub: Any, tmp_path: Path, mode: str, ids: Path) -> None:
    crawlproc.finish(start(hub, tmp_path, mode, ids), tmp_path)


COLUMNS = {
    "spaces": ("id", "requested_id", "sha", "runtime_stage"),
    "space_dependencies": ("space", "repo_type", "repo_id"),
    "missed": ("kind", "id", "reason"),
}


def collected(tmp_path: Path) -> dict[str, list[tuple[Any, ...]]]:
    (folder,) = (tmp_path / "exports" / "spaces").iterdir()  # one run folder
    return rows_of(folder, COLUMNS)


@pytest.fixture(scope="module")
def reference(
    slow_hub: Any, ids_file: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, dict[str, list[tuple[Any, ...]]]]:
    found = {}
    for mode in SELECTIONS:
        tmp = tmp_path_factory.mktemp(f"reference-{mode}")
        finish(slow_hub, tmp, mode, ids_file)
        found[mode] = collected(tmp)
    return found


def test_the_reference_runs_are_complete(
    slow_hub: Any, reference: dict[str, Any]
) -> None:
    listed = reference["listed"]
    assert [r[0] for r in listed["spaces"]] == sorted(
        r["id"] for r in slow_hub.spaces.listed
    )
    assert len(listed["space_dependencies"]) == len(set(listed["space_dependencies"]))
    reasons = {(r[0], r[2]) for r in reference["ids"]["missed"]}
    assert reasons == {
        ("space", "not_found"),
        ("space", "disabled"),
        ("space", "invalid"),
    }


STOPS = {
    ("listed", "mid"): lambda t: spaces_logged(t) >= 437,
    ("listed", "between-parts"): lambda t: parts_done(t) >= 2,
    ("ids", "mid"): lambda t: spaces_logged(t) >= 150,
}


@pytest.mark.parametrize(("mode", "point"), list(STOPS))
def test_killed_and_resumed_crawl_has_exactly_the_reference_rows(
    slow_hub: Any,
    ids_file: Path,
    reference: dict[str, Any],
    tmp_path: Path,
    mode: str,
    point: str,
) -> None:
    proc = start(slow_hub, tmp_path, mode, ids_file)
    kill_when(proc, lambda: STOPS[(mode, point)](tmp_path))
    finish(slow_hub, tmp_path, mode, ids_file)
    assert collected(tmp_path) == reference[mode]
